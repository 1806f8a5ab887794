// The pipeline's pure parts: weight layouts, storage estimates, SHA-256, mixed N:M rounding,
// allocators fed with synthetic statistics (mean on target), and job serialisability.
import { createHash } from 'node:crypto';
import { describe, expect, test } from 'vitest';
import type { LinearLayer } from '../model/types.ts';
import { unstructured } from '../prune/patterns.ts';
import { relativeReconstructionError } from '../prune/reconstruction.ts';
import type { LayerStats, Matrix } from '../prune/types.ts';
import { parseRecipe } from '../recipe/parse.ts';
import type { PruneStage } from '../recipe/stages/prune.ts';

const pruneStage = (json: unknown) => parseRecipe(json).stages[0] as PruneStage;
import { allocateSparsity, mixedNM } from './allocate.ts';
import { checkPrunedLayer } from './check.ts';
import { runPruneJob, type PruneJob } from './jobs.ts';
import { sha256Hex, sha256HexOfChunks } from './sha256.ts';
import { pipelineSteps } from './steps.ts';
import { estimatedSparseBytes } from './storage.ts';
import { storedFromWeight, weightFromStored } from './weights.ts';

function layer(id: string, block: number | null, outFeatures: number, inFeatures: number, order: number): LinearLayer {
  return { id, name: id, block, outFeatures, inFeatures, order, layout: 'in_out', role: 'other' } as LinearLayer;
}

function randomMatrix(rows: number, cols: number, seed: number): Matrix {
  let state = seed;
  const data = Float32Array.from({ length: rows * cols }, () => ((state = (state * 1664525 + 1013904223) >>> 0) / 2 ** 32) * 2 - 1);
  return { rows, cols, data };
}

describe('weight layouts', () => {
  test('in_out stores Wᵀ, out_in stores W; both round-trip', () => {
    const stored = Float32Array.from([1, 2, 3, 4, 5, 6]); // [C_in = 2, C_out = 3]
    const inOut = { ...layer('w', 0, 3, 2, 0), layout: 'in_out' } as LinearLayer;
    const w = weightFromStored(inOut, stored);
    expect(w).toEqual({ rows: 3, cols: 2, data: Float32Array.from([1, 4, 2, 5, 3, 6]) });
    expect(storedFromWeight(inOut, w)).toEqual(stored);
    const outIn = { ...layer('w', 0, 2, 3, 0), layout: 'out_in' } as LinearLayer;
    expect(weightFromStored(outIn, stored).data).toEqual(stored);
    expect(weightFromStored(outIn, stored).data).not.toBe(stored);
  });
});

describe('estimated sparse storage', () => {
  test('unstructured: bitmask + fp32 non-zeros; N:M: values + ⌈log₂M⌉-bit indices; V:N:M adds column indices', () => {
    expect(estimatedSparseBytes(unstructured(0.5), 64, 64, 2048)).toBe(512 + 2048 * 4);
    expect(estimatedSparseBytes({ kind: 'nm', n: 2, m: 4 }, 64, 64, 2048)).toBe(2048 * 4 + 2048 * 2 / 8);
    expect(estimatedSparseBytes({ kind: 'nm', n: 4, m: 8 }, 8, 16, 10)).toBe(64 * 4 + (64 * 3) / 8);
    // 64 x 64 at 32:2:8: 2 tiles of rows x 8 column groups = 16 tiles; 64·8·2 = 1024 values.
    expect(estimatedSparseBytes({ kind: 'vnm', v: 32, n: 2, m: 8 }, 64, 64, 1024)).toBe(1024 * 4 + 1024 * 2 / 8 + (16 * 4 * 3) / 8);
  });
});

describe('sha256', () => {
  test('matches node:crypto across block boundaries, hashing only the view', async () => {
    for (const n of [0, 3, 55, 56, 63, 64, 65, 127, 128, 1000]) {
      const bytes = Uint8Array.from({ length: n }, (_, i) => (i * 37 + 11) & 255);
      expect(await sha256Hex(bytes)).toBe(createHash('sha256').update(bytes).digest('hex'));
      const inLargerBuffer = new Uint8Array(n + 10);
      inLargerBuffer.set(bytes, 3);
      expect(await sha256Hex(inLargerBuffer.subarray(3, 3 + n))).toBe(createHash('sha256').update(bytes).digest('hex'));
    }
  });

  test('chunks hash as node:crypto updating with each chunk in order (the weights hash)', async () => {
    const bytes = Uint8Array.from({ length: 1000 }, (_, i) => (i * 37 + 11) & 255);
    const chunks = [bytes.subarray(0, 3), bytes.subarray(3, 3), bytes.subarray(3, 70), bytes.subarray(70)];
    const node = createHash('sha256');
    for (const chunk of chunks) node.update(chunk);
    expect(await sha256HexOfChunks(chunks)).toBe(node.digest('hex'));
    expect(await sha256HexOfChunks([])).toBe(createHash('sha256').digest('hex'));
  });
});

describe('mixed N:M', () => {
  test('sums to U·N, stays in [1, M−1], rounds by largest remainder', () => {
    expect(mixedNM([0.5, 0.5, 0.5], 4, 8)).toEqual([4, 4, 4]);
    // 8·(1 − s) = 4.56, 4.0, 3.44 → floors 4, 4, 3; one unit left goes to the largest remainder (0.56).
    expect(mixedNM([0.43, 0.5, 0.57], 4, 8)).toEqual([5, 4, 3]);
    expect(mixedNM([0, 0.98, 0.5], 2, 4)).toEqual([3, 1, 2]);
    const kept = mixedNM([0.1, 0.2, 0.9, 0.95, 0.4], 2, 4);
    expect(kept.reduce((a, b) => a + b, 0)).toBe(10);
    expect(Math.min(...kept)).toBeGreaterThanOrEqual(1);
    expect(Math.max(...kept)).toBeLessThanOrEqual(3);
  });
});

describe('allocation on synthetic statistics: the mean is the target', () => {
  const layers = [0, 0, 1, 1, 2, 2].map((block, i) => layer(`l${i}`, block, 16 * (1 + (i % 2)), 16, i));
  const weights = new Map(layers.map((l, i) => [l.id, randomMatrix(l.outFeatures, l.inFeatures, i + 1)]));
  const stats = new Map<string, LayerStats>(
    layers.map((l, i) => {
      const sqNorm = Float64Array.from({ length: 16 }, (_, j) => 1 + ((j * (i + 3)) % 7) ** (i + 1));
      const outputSample = randomMatrix(12, l.outFeatures, 100 + i);
      if (i % 3 === 0) for (let k = 0; k < outputSample.data.length; k++) outputSample.data[k] = Math.abs(outputSample.data[k]) + 1; // similar outputs: low diversity
      return [l.id, { tokens: 10, sqNorm, maxAbs: new Float32Array(16), hessian: new Float64Array(0), outputSample }];
    }),
  );

  test.each(['owl', 'tamp', 'sensitivity'] as const)('%s at 50 %%', (kind) => {
    const stage = pruneStage({ allocation: { kind } });
    const sensitivityErrors = new Map(layers.map((l, i) => [l.id, [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7].map((e) => e * (1 + i / 5))]));
    const allocation = allocateSparsity({ stage, layers, weights, stats, sensitivityErrors });
    expect(allocation.mean).toBeCloseTo(0.5, 12);
    const values = [...allocation.sparsity.values()];
    expect(new Set(values).size).toBeGreaterThan(1);
    if (kind === 'owl') expect(allocation.units.map((u) => u.label)).toEqual(['block 0', 'block 1', 'block 2']);
    if (kind === 'tamp') {
      const params = layers.map((l) => l.inFeatures * l.outFeatures);
      const weighted = layers.reduce((sum, l, i) => sum + allocation.sparsity.get(l.id)! * params[i], 0) / params.reduce((a, b) => a + b, 0);
      expect(weighted).toBeCloseTo(0.5, 12);
      expect(allocation.sparsity.get('l0')!).toBeGreaterThan(allocation.sparsity.get('l1')!); // low diversity, more pruning
    }
    if (kind === 'sensitivity') expect(allocation.sparsity.get('l0')!).toBeGreaterThan(allocation.sparsity.get('l5')!);
  });

  test('missing statistics are an error naming the layer', () => {
    expect(() => allocateSparsity({ stage: pruneStage({ allocation: { kind: 'owl' } }), layers, weights })).toThrow(/calibration statistics of layer l0/);
  });
});

describe('stages and jobs', () => {
  test('one stage per block, one per loose layer, in model order', () => {
    const stages = pipelineSteps([layer('a', 0, 4, 4, 1), layer('b', 0, 4, 4, 2), layer('c', 1, 4, 4, 5), layer('head', null, 4, 4, 9), layer('pre', null, 4, 4, 0)]);
    expect(stages.map((s) => [s.label, s.layers.map((l) => l.id)])).toEqual([
      ['pre', ['pre']],
      ['block 0', ['a', 'b']],
      ['block 1', ['c']],
      ['head', ['head']],
    ]);
  });

  test('a job survives structuredClone (postMessage) and runs the same', () => {
    const weight = randomMatrix(8, 16, 9);
    const hessian = new Float64Array(256);
    for (let i = 0; i < 16; i++) hessian[i * 16 + i] = 1 + i;
    const job: PruneJob = { index: 0, layerId: 'x', purpose: 'prune', method: 'sparsegpt', pattern: { kind: 'nm', n: 2, m: 4 }, magnitudeGroup: 'layer', weight, hessian, sparseGpt: { blockSize: 128, percDamp: 0.01 } };
    const [a, b] = [runPruneJob(job), runPruneJob(structuredClone(job))];
    expect(b.weight).toEqual(a.weight);
    expect(a.relativeError).toBeGreaterThan(0);
    expect(checkPrunedLayer(a.weight, a.keep, job.pattern, 0.5)).toMatchObject({ ok: true });
    expect(() => runPruneJob({ ...job, method: 'wanda' })).toThrow(/method wanda needs sqNorm/);
    expect([a.relativeErrorBasis, a.relativeErrorTokens]).toEqual(['hessian', null]);
  });

  test('the error basis: H when the job has it (exact), else its input sample (estimate), else none', () => {
    const weight = randomMatrix(8, 16, 4);
    const sample = randomMatrix(5, 16, 5);
    const hessian = new Float64Array(256);
    for (let i = 0; i < 16; i++) hessian[i * 16 + i] = 1;
    const wanda: PruneJob = { index: 0, layerId: 'x', purpose: 'prune', method: 'wanda', pattern: { kind: 'unstructured', sparsity: 0.5 }, magnitudeGroup: 'layer', weight, sqNorm: new Float64Array(16).fill(1), inputSample: sample, sparseGpt: { blockSize: 128, percDamp: 0.01 } };
    const sampled = runPruneJob(structuredClone(wanda));
    expect([sampled.relativeErrorBasis, sampled.relativeErrorTokens]).toEqual(['sampled', 5]);
    expect(sampled.relativeError).toBe(relativeReconstructionError(weight, sampled.weight, { tokenRows: sample }));
    const both = runPruneJob({ ...wanda, hessian, hessianTokens: 40 });
    expect([both.relativeErrorBasis, both.relativeErrorTokens]).toEqual(['hessian', 40]);
    expect(both.relativeError).toBe(relativeReconstructionError(weight, both.weight, { hessian }));
    expect(runPruneJob({ ...wanda, inputSample: undefined })).toMatchObject({ relativeError: null, relativeErrorBasis: null, relativeErrorTokens: null });
  });
});
