// The same cases through the CPU reference and the GPU kernels; the reference is first checked
// against PyTorch running IST-DASLab/sparsegpt's own loop (fixtures/make_sparsegpt_fixture.py).
import { describe, expect, test } from 'vitest';
import { expectClose } from '../../../testing/expectClose';
import { GpuContext } from '../../context';
import { sparsegptHinvUpper, syntheticHinvUpper } from '../../testing/hessianInverse';
import { describeGpu } from '../../testing/describeGpu';
import { normalArray, seededUniform } from '../../testing/random';
import type { PrunePattern } from '../pruneOrder';
import { rowSelectRef } from '../rowSelect/rowSelect.ref';
import fixture from './fixtures/sparsegpt_fixture.json';
import { SparseGptGpu, sparsegptPruneGpu } from './sparsegptUpdate.gpu';
import { createSparseGptStateRef, sparsegptBlockRef, sparsegptLazyUpdateRef, sparsegptPruneRef } from './sparsegptUpdate.ref';

interface SparseGptCase {
  name: string;
  rows: number;
  cols: number;
  blockSize: number;
  weights: Float32Array;
  hinvUpper: Float32Array;
  pattern: PrunePattern;
}

/** H = 2/n·XᵀX in f64 from token rows x (tokens, cols). */
function hessianOf(x: Float32Array, tokens: number, cols: number): Float64Array {
  const h = new Float64Array(cols * cols);
  for (let t = 0; t < tokens; t++) for (let a = 0; a < cols; a++) for (let b = 0; b < cols; b++) h[a * cols + b] += (2 / tokens) * x[t * cols + a] * x[t * cols + b];
  return h;
}

/** Keep mask from Wanda-like scores |W|·sqrt(H_jj) at a sparsity, per row. */
function wandaMask(weights: Float32Array, h: Float64Array, rows: number, cols: number, sparsity: number): Uint8Array {
  const scores = weights.map((w, i) => Math.abs(w) * Math.sqrt(h[(i % cols) * cols + (i % cols)]));
  return rowSelectRef(scores, rows, cols, Math.floor(cols * sparsity));
}

/** A realistic case: U from random calibration inputs (with dead channels), mask from Wanda scores. */
function calibratedCase(name: string, rows: number, cols: number, blockSize: number, seed: number, edit?: (x: Float32Array, w: Float32Array) => void): SparseGptCase {
  const tokens = 2 * cols;
  const x = normalArray(tokens * cols, seed);
  const weights = normalArray(rows * cols, seed + 1, 0.05);
  edit?.(x, weights);
  const h = hessianOf(x, tokens, cols);
  const { hinvUpper, dead } = sparsegptHinvUpper(h, cols);
  for (const j of dead) for (let r = 0; r < rows; r++) weights[r * cols + j] = 0; // fasterprune's W[:, dead] = 0
  return { name, rows, cols, blockSize, weights, hinvUpper, pattern: { kind: 'mask', keepMask: wandaMask(weights, h, rows, cols, 0.5) } };
}

/**
 * 2:4 case whose choices cannot flip on rounding: in every group the four |w| are 0.5, 1, 2, 4
 * (shuffled, random signs) and U is close to the identity, so the block updates move scores by
 * far less than the factor 4 between neighbours in the order.
 */
function separatedNmCase(rows: number, cols: number, blockSize: number, seed: number): SparseGptCase {
  const u = seededUniform(seed);
  const weights = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++) {
    for (let g = 0; g < cols; g += 4) {
      const levels = [0.5, 1, 2, 4].sort(() => u() - 0.5);
      for (let k = 0; k < 4; k++) weights[r * cols + g + k] = levels[k] * (u() < 0.5 ? -1 : 1) * 0.1;
    }
  }
  const hinvUpper = new Float32Array(cols * cols);
  for (let i = 0; i < cols; i++) {
    hinvUpper[i * cols + i] = 1;
    for (let j = i + 1; j < cols; j++) hinvUpper[i * cols + j] = (u() - 0.5) * 0.002;
  }
  return { name: `2:4 chosen inside the blocks, ${rows} × ${cols}, blocks of ${blockSize}`, rows, cols, blockSize, weights, hinvUpper, pattern: { kind: 'nm', keepN: 2, groupM: 4 } };
}

function fixtureCase(which: 'maskCase' | 'nm24Case'): SparseGptCase {
  const f = fixture;
  const pattern: PrunePattern = which === 'maskCase' ? { kind: 'mask', keepMask: Uint8Array.from(f.maskCase.keepMask) } : { kind: 'nm', keepN: f.nm24Case.keepN, groupM: f.nm24Case.groupM };
  return { name: `PyTorch fixture, ${which === 'maskCase' ? 'given mask' : '2:4'}`, rows: f.rows, cols: f.cols, blockSize: f.blockSize, weights: Float32Array.from(f.weights), hinvUpper: Float32Array.from(f.hinvUpper), pattern };
}

function runRef(c: SparseGptCase) {
  const state = createSparseGptStateRef(c.weights, c.hinvUpper, c.rows, c.cols, c.pattern);
  sparsegptPruneRef(state, c.blockSize);
  return state;
}

const withNaN = calibratedCase('NaN in W[2, 10] spreads along row 2 only', 5, 40, 16, 40);
withNaN.weights[2 * 40 + 10] = NaN;

const cases: SparseGptCase[] = [
  { name: '1×1, pruned', rows: 1, cols: 1, blockSize: 128, weights: new Float32Array([0.5]), hinvUpper: new Float32Array([2]), pattern: { kind: 'mask', keepMask: new Uint8Array([0]) } },
  { name: '1×1, kept', rows: 1, cols: 1, blockSize: 128, weights: new Float32Array([0.5]), hinvUpper: new Float32Array([2]), pattern: { kind: 'mask', keepMask: new Uint8Array([1]) } },
  fixtureCase('maskCase'),
  fixtureCase('nm24Case'),
  calibratedCase('ragged: 13 × 200, blocks of 64 (last block 8 wide)', 13, 200, 64, 30),
  calibratedCase('dead channels 0, 7, 99 and all-zero rows 1 and 4', 6, 100, 32, 31, (x, w) => {
    for (let t = 0; t < 200; t++) for (const j of [0, 7, 99]) x[t * 100 + j] = 0;
    w.fill(0, 100, 200);
    w.fill(0, 400, 500);
  }),
  withNaN,
  separatedNmCase(16, 64, 32, 32),
];

/**
 * GPU vs reference: both round every operation to f32, but a GPU may fuse multiply-adds and
 * divide within WGSL's 2.5 ULP, so results may drift by a few roundings per update, and an
 * element receives up to `updates` of them (cols for a full sweep). Heuristic tolerance:
 * rtol = 4·updates·2⁻²⁴ and atol = rtol·max|W| (before or after). On llvmpipe and SwiftShader
 * the results are bit-identical to the reference.
 */
function updateTolerance(updates: number, ...weights: Float32Array[]): { atol: number; rtol: number } {
  let scale = 0;
  for (const w of weights) for (const v of w) if (Number.isFinite(v)) scale = Math.max(scale, Math.abs(v));
  const rtol = 4 * updates * 2 ** -24;
  return { atol: rtol * scale, rtol };
}

describe('sparsegptUpdate reference', () => {
  test('matches PyTorch running sparsegpt fasterprune with a given mask', () => {
    const got = runRef(fixtureCase('maskCase'));
    expectClose(got.weights, fixture.maskCase.weights, { atol: 1e-6, rtol: 1e-5 }, 'weights vs PyTorch');
  });

  test('matches PyTorch running fasterprune with prunen=2, prunem=4 (2:4 kept)', () => {
    const got = runRef(fixtureCase('nm24Case'));
    expect(Array.from(got.keepMask)).toEqual(fixture.nm24Case.keepMask);
    expectClose(got.weights, fixture.nm24Case.weights, { atol: 1e-6, rtol: 1e-5 }, 'weights vs PyTorch');
  });

  test("U (src/core/prune's factorisation) matches PyTorch's cholesky → cholesky_inverse → cholesky(upper)", () => {
    const { hinvUpper } = sparsegptHinvUpper(Float64Array.from(fixture.hessian), fixture.cols);
    expectClose(hinvUpper, fixture.hinvUpper, { atol: 1e-6, rtol: 1e-4 }, 'U');
  });

  test('1×1 by hand: a pruned weight becomes 0, a kept one stays', () => {
    expect(Array.from(runRef(cases[0]).weights)).toEqual([0]);
    expect(Array.from(runRef(cases[1]).weights)).toEqual([0.5]);
  });
});

describeGpu('sparsegptUpdate kernels vs reference', (gpu) => {
  test.each(cases.map((c) => [c.name, c] as const))('%s', async (_, c) => {
    const expected = runRef(c);
    const got = await sparsegptPruneGpu(gpu(), { rows: c.rows, cols: c.cols, weights: c.weights, hinvUpper: c.hinvUpper, pattern: c.pattern }, c.blockSize);
    expect(got.keepMask).toEqual(expected.keepMask);
    expectClose(got.weights, expected.weights, updateTolerance(c.cols, c.weights, expected.weights), `${c.name}: weights`);
    for (let i = 0; i < got.weights.length; i++) if (got.keepMask[i] === 0 && got.weights[i] !== 0) throw new Error(`${c.name}: pruned weight ${i} is ${got.weights[i]}`);
  });

  test('NaN stays in its row: kept weights of row 2 from column 10 on are NaN, pruned ones 0, other rows finite', async () => {
    const c = withNaN;
    const got = await sparsegptPruneGpu(gpu(), { rows: c.rows, cols: c.cols, weights: c.weights, hinvUpper: c.hinvUpper, pattern: c.pattern }, c.blockSize);
    for (let r = 0; r < c.rows; r++) {
      for (let j = 0; j < c.cols; j++) {
        const i = r * c.cols + j;
        const expectNaN = r === 2 && j >= 10 && got.keepMask[i] === 1;
        if (expectNaN !== Number.isNaN(got.weights[i])) throw new Error(`W[${r}, ${j}] = ${got.weights[i]}`);
      }
    }
  });

  test('GPT-2 MLP projection 768 × 3072: first block of 128 and its lazy update', async () => {
    const rows = 768;
    const cols = 3072;
    const weights = normalArray(rows * cols, 50, 0.05);
    const hinvUpper = syntheticHinvUpper(cols, 51);
    const coin = seededUniform(52);
    const keepMask = Uint8Array.from({ length: rows * cols }, () => (coin() < 0.5 ? 1 : 0));
    const state = createSparseGptStateRef(weights, hinvUpper, rows, cols, { kind: 'mask', keepMask });
    sparsegptLazyUpdateRef(state, sparsegptBlockRef(state, 0, 128), 0, 128);
    const session = new SparseGptGpu(gpu(), { rows, cols, weights, hinvUpper, pattern: { kind: 'mask', keepMask } });
    try {
      await session.runBlock(0, 128);
      const got = await session.read();
      expectClose(got.weights, state.weights, updateTolerance(128, weights, state.weights), 'GPT-2 block 0');
    } finally {
      session.destroy();
    }
  });

  test('split: row ranges and a folded grid under capped limits', async () => {
    // U (24×24 f32) is 2304 bytes and fills a binding: rows go in ranges of 24, 24 and 12;
    // 24 rows are 3 updateBlock workgroups of 8 rows, folded to 2×2 with one padding workgroup.
    const c = calibratedCase('split', 60, 24, 8, 60);
    const ctx = new GpuContext(gpu().device, { limitCaps: { maxComputeWorkgroupsPerDimension: 2, maxStorageBufferBindingSize: 24 * 24 * 4 } });
    const expected = runRef(c);
    const got = await sparsegptPruneGpu(ctx, { rows: c.rows, cols: c.cols, weights: c.weights, hinvUpper: c.hinvUpper, pattern: c.pattern }, c.blockSize);
    expectClose(got.weights, expected.weights, updateTolerance(c.cols, c.weights, expected.weights), 'split');
  });
});
