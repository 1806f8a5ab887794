// The pruning pipeline end to end on the digits ViT with onnxruntime-web: sequential vs one-pass
// calibration, the pruned model in ORT, sparsity, an untouched input, cancellation, validation
// before work, and bit-identical weights whatever order the layer jobs run in; Wanda's estimated
// error against a float64 computation on its sampled tokens.
import { beforeAll, describe, expect, test } from 'vitest';
import { calibrate } from '../calibrate/collect.ts';
import { bundledModel, countingRunnerFactory, fixtureModel, openRunner, randomTokens, routedThroughIf } from '../calibrate/fixtures/models.ts';
import { chooseSamples } from '../calibrate/random.ts';
import { evaluate } from '../eval/evaluate.ts';
import { initializerMap } from '../onnx/graph.ts';
import { readModel } from '../onnx/read.ts';
import { writeModel } from '../onnx/write.ts';
import { parseRecipe, RecipeError } from '../recipe/parse.ts';
import { Cancelled } from '../job/cancel.ts';
import { runPruneJob, type PruneJob, type PruneLayerFn } from './jobs.ts';
import { compressModel, type CompressOutcome, type CompressRequest } from './pipeline.ts';
import { isPruneStageReport, type CompressReport, type PruneStageReport } from './report.ts';
import { sha256Hex } from './sha256.ts';
import { expectClose } from '../testing/expectClose.ts';
import { relativeReconstructionError } from '../prune/reconstruction.ts';
import type { Matrix } from '../prune/types.ts';
import { WorkingModel } from './weights.ts';

const vit = bundledModel('digits-vit');
const inputHash = await sha256Hex(vit.bytes);
const calibration = { samples: 8, seed: 1, batchSize: 8 };

function request(recipe: unknown, extra: Partial<CompressRequest> = {}): CompressRequest {
  return { model: vit.model, analysis: vit.analysis, recipe: parseRecipe(recipe), calibSet: vit.calib, createRunner: openRunner, ...extra };
}

/** Records every job (as a worker would receive it: structured-cloned) and runs it on the CPU. */
function recordingPool(jobs: PruneJob[]): PruneLayerFn {
  return async (job) => {
    jobs.push(job);
    return runPruneJob(structuredClone(job));
  };
}

/** Holds each batch of jobs, then runs them last-first. */
function reversedPool(): PruneLayerFn {
  let queue: { job: PruneJob; resolve: (r: ReturnType<typeof runPruneJob>) => void }[] = [];
  return (job) =>
    new Promise((resolve) => {
      if (queue.length === 0) {
        setTimeout(() => {
          const batch = queue.reverse();
          queue = [];
          for (const item of batch) item.resolve(runPruneJob(structuredClone(item.job)));
        }, 5);
      }
      queue.push({ job, resolve });
    });
}

/** Every job finishes after a random delay: completion order is shuffled. */
function jitteryPool(): PruneLayerFn {
  let state = 12345;
  const random = () => ((state = (state * 1103515245 + 12345) >>> 0) / 2 ** 32);
  return (job) => new Promise((resolve) => setTimeout(() => resolve(runPruneJob(structuredClone(job))), random() * 15));
}

/** The allocation of the recipe's one prune stage. */
const allocationOf = (report: CompressReport): PruneStageReport['allocation'] => report.stages.filter(isPruneStageReport)[0].allocation;

const sparseGptSequential = { method: 'sparsegpt', calibration: { ...calibration, mode: 'sequential' } };

describe('SparseGPT, sequential, 50 % on the digits ViT', () => {
  const jobs: PruneJob[] = [];
  const { open, counts } = countingRunnerFactory();
  let outcome: CompressOutcome;
  let report: CompressReport;
  beforeAll(async () => {
    outcome = await compressModel(request(sparseGptSequential, { pruneLayer: recordingPool(jobs), createRunner: open }));
    report = outcome.report;
  });

  test('block by block: the prefix once, then per block a statistics run and (but the last) a boundary run, all released; the input model is untouched', async () => {
    expect(counts).toEqual({ created: 1 + 4 + 3, released: 1 + 4 + 3 });
    expect(report.notes.some((note) => note.includes('whole model'))).toBe(false);
    expect(report.calibration).toMatchObject({ mode: 'sequential', samples: 8, seed: 1, passes: 4 });
    expect(await sha256Hex(writeModel(vit.model))).toBe(inputHash);
  });

  test('every prunable layer reaches the target; the report is complete', async () => {
    expect(report.layers).toHaveLength(24);
    for (const layer of report.layers) {
      // SparseGPT prunes ⌊numel·s⌋ + 1 (ties included) per block of columns, as its reference.
      expect(layer.achievedSparsity).toBeGreaterThanOrEqual(0.5);
      expect(layer.achievedSparsity).toBeLessThan(0.5 + 2 / (layer.shape[0] * layer.shape[1]) + 1e-12);
      expect(layer.patternCheck.ok).toBe(true);
      expect(layer.relativeError).toBeGreaterThan(0);
      expect(layer.relativeError).toBeLessThan(1);
      // SparseGPT collects H, so its error is exact, on all 8 × 17 tokens, and no sample is kept.
      expect([layer.relativeErrorBasis, layer.relativeErrorTokens]).toEqual(['hessian', 8 * 17]);
      expect(layer.backend).toEqual({ requested: 'cpu', ran: 'cpu' });
    }
    expect(report.totals.achievedSparsityPruned).toBeCloseTo(0.5, 3);
    // patch_embed and head stay dense, so all linear weights are a little less sparse.
    expect(report.totals.achievedSparsityAllLinear).toBeLessThan(report.totals.achievedSparsityPruned);
    expect(report.totals.denseFileBytes).toBe(outcome.bytes.byteLength);
    expect(report.totals.estimatedSparseFileBytes).toBeLessThan(report.totals.denseFileBytes);
    expect(report.fileSha256).toBe(await sha256Hex(outcome.bytes));
    expect(allocationOf(report)).toMatchObject({ kind: 'uniform', mean: 0.5, target: 0.5 });
  });

  test('the pruned model loads back in onnxruntime and still classifies', async () => {
    const reread = readModel(outcome.bytes);
    const runner = await openRunner(outcome.bytes);
    const metrics = await evaluate(runner, vit.eval);
    await runner.release();
    expect(metrics.top1).toBeGreaterThan(0.85);
    const q = vit.analysis.linears[1];
    expect(initializerMap(reread.graph!).get(q.weight)!.dims).toEqual(initializerMap(vit.model.graph!).get(q.weight)!.dims);
  });

  test('block ℓ is calibrated on the outputs of the already-pruned blocks 0…ℓ−1', async () => {
    const block = 2;
    const layers = vit.analysis.linears.filter((l) => l.block === block);
    // A model whose blocks 0 and 1 hold the pipeline's pruned weights, the rest dense.
    const partial = new WorkingModel(vit.model);
    const pruned = new WorkingModel(outcome.model);
    for (const layer of vit.analysis.linears.filter((l) => l.block !== null && l.block < block)) partial.writeWeight(layer, pruned.readWeight(layer));
    const stats = await calibrate({
      model: partial.model,
      layers,
      createRunner: openRunner,
      dataset: vit.calib,
      options: { sampleIndices: chooseSamples(128, 8, 1) },
    });
    for (const layer of layers) {
      const job = jobs.find((j) => j.layerId === layer.id)!;
      expect(Buffer.from(job.hessian!.buffer).equals(Buffer.from(stats.layers.get(layer.id)!.hessian.buffer))).toBe(true);
    }
  });

  test('a graph that cannot be cut at its blocks falls back to the whole model per block, says so, and prunes the same', async () => {
    const fallback = countingRunnerFactory();
    const routed = await compressModel(request(sparseGptSequential, { model: routedThroughIf(vit.model, '/blocks.1/'), createRunner: fallback.open }));
    expect(routed.report.notes).toContain('sequential calibration ran the whole model for every block: node route (If) has a subgraph, whose body may read any outer tensor');
    expect(fallback.counts).toEqual({ created: 4, released: 4 });
    expect(routed.report.weightsSha256).toBe(report.weightsSha256);
  });

  test('gramInGraph: Hessians reduced by ORT give the same pruning up to float32 rounding, and a different hash', async () => {
    const inGraphJobs: PruneJob[] = [];
    const inGraph = await compressModel(request(sparseGptSequential, { gramInGraph: true, pruneLayer: recordingPool(inGraphJobs) }));
    expect(inGraph.report.notes).toEqual(report.notes);
    for (const layer of inGraph.report.layers) {
      const dense = report.layers.find((l) => l.id === layer.id)!;
      expect(layer.patternCheck.ok).toBe(true);
      expect(layer.achievedSparsity).toBeCloseTo(dense.achievedSparsity, 2);
      // The same problem up to the Gram's float32 rounding: errors agree to a few per cent.
      expect(Math.abs(layer.relativeError! - dense.relativeError!) / dense.relativeError!).toBeLessThan(0.05);
    }
    const first = vit.analysis.linears.find((l) => l.block === 0)!;
    const [a, b] = [inGraphJobs.find((j) => j.layerId === first.id)!.hessian!, jobs.find((j) => j.layerId === first.id)!.hessian!];
    expect(Buffer.from(a.buffer).equals(Buffer.from(b.buffer))).toBe(false);
    expectClose(a, b, { atol: 1e-5 * Math.max(...b), rtol: 1e-4 }, 'block 0 Hessian, in the graph vs float64 JS');
  });

  test('one-pass calibration (dense statistics) gives different weights after block 0', async () => {
    const onePassJobs: PruneJob[] = [];
    const onePass = await compressModel(request({ ...sparseGptSequential, calibration: { ...calibration, mode: 'one-pass' } }, { pruneLayer: recordingPool(onePassJobs) }));
    expect(onePass.report.calibration?.passes).toBe(1);
    expect(onePass.report.weightsSha256).not.toBe(report.weightsSha256);
    const sameInputs = (job: PruneJob) => Buffer.from(job.hessian!.buffer).equals(Buffer.from(onePassJobs.find((j) => j.layerId === job.layerId)!.hessian!.buffer));
    const byBlock = (b: number) => jobs.filter((j) => vit.analysis.linears.find((l) => l.id === j.layerId)!.block === b);
    expect(byBlock(0).every(sameInputs)).toBe(true);
    expect(byBlock(2).some(sameInputs)).toBe(false);
  });

  test('bit-identical weights when the jobs run last-first or finish in random order', async () => {
    for (const pruneLayer of [reversedPool(), jitteryPool()]) {
      const again = await compressModel(request(sparseGptSequential, { pruneLayer }));
      expect(again.report.weightsSha256).toBe(report.weightsSha256);
      expect(again.report.fileSha256).toBe(report.fileSha256);
    }
  });
});

/** ‖(W − Ŵ) X_sᵀ‖_F / ‖W X_sᵀ‖_F with plain float64 loops over the sampled token rows X_s (tokens × C_in). */
function sampledErrorDirect(weight: Matrix, pruned: Matrix, rows: Matrix): number {
  let error = 0;
  let energy = 0;
  for (let t = 0; t < rows.rows; t++)
    for (let r = 0; r < weight.rows; r++) {
      let y = 0;
      let yHat = 0;
      for (let i = 0; i < weight.cols; i++) {
        const x = rows.data[t * rows.cols + i];
        y += weight.data[r * weight.cols + i] * x;
        yHat += pruned.data[r * weight.cols + i] * x;
      }
      error += (y - yHat) ** 2;
      energy += y * y;
    }
  return Math.sqrt(error / energy);
}

/** The trace form's bound (reconstruction.test.ts): float32 products and sums over C_in terms. */
const TRACE_RTOL = 1e-5;

describe('Wanda, sequential: no Hessian; the error is estimated on sampled input tokens', () => {
  const jobs: PruneJob[] = [];
  let outcome: CompressOutcome;
  beforeAll(async () => {
    outcome = await compressModel(request({ method: 'wanda', calibration: { ...calibration, mode: 'sequential', outputSample: 100 } }, { pruneLayer: recordingPool(jobs) }));
  });

  test('jobs carry Σx² and a sample of 100 input tokens, never H; every row says its error is an estimate on 100 tokens', () => {
    expect(jobs).toHaveLength(24);
    for (const job of jobs) {
      expect(job.hessian).toBeUndefined();
      expect([job.inputSample!.rows, job.inputSample!.cols]).toEqual([100, job.weight.cols]);
    }
    for (const layer of outcome.report.layers) expect([layer.relativeErrorBasis, layer.relativeErrorTokens]).toEqual(['sampled', 100]);
  });

  test('each estimate equals ‖(W − Ŵ)X_sᵀ‖/‖WX_sᵀ‖ computed here in float64 from the sampled rows', () => {
    const written = new WorkingModel(outcome.model);
    for (const job of jobs) {
      const layer = vit.analysis.linears.find((l) => l.id === job.layerId)!;
      const row = outcome.report.layers.find((l) => l.id === job.layerId)!;
      const expected = sampledErrorDirect(job.weight, written.readWeight(layer), job.inputSample!);
      expect(expected).toBeGreaterThan(0.01);
      expectClose([row.relativeError!], [expected], { atol: 0, rtol: TRACE_RTOL }, `${layer.name} estimated error`);
    }
  });

  test('block 0: the same Σx² as a pass that also accumulates H (so the same weights), and with all tokens sampled the estimate is the exact error from H', async () => {
    const block0 = vit.analysis.linears.filter((l) => l.block === 0);
    const withH = await calibrate({ model: vit.model, layers: block0, createRunner: openRunner, dataset: vit.calib, options: { sampleIndices: chooseSamples(128, 8, 1), hessian: true } });
    const everyToken = await compressModel(request({ method: 'wanda', calibration: { ...calibration, mode: 'sequential', outputSample: 8 * 17 } }));
    const written = new WorkingModel(everyToken.model);
    for (const layer of block0) {
      const job = jobs.find((j) => j.layerId === layer.id)!;
      const stats = withH.layers.get(layer.id)!;
      expect(Buffer.from(job.sqNorm!.buffer).equals(Buffer.from(stats.sqNorm.buffer))).toBe(true);
      const exact = relativeReconstructionError(job.weight, written.readWeight(layer), { hessian: stats.hessian });
      const row = everyToken.report.layers.find((l) => l.id === layer.id)!;
      expect(row.relativeErrorTokens).toBe(8 * 17);
      // Two float32 trace forms of the same quantity (on H and on the sample's Gram).
      expectClose([row.relativeError!], [exact], { atol: 0, rtol: 2 * TRACE_RTOL }, `${layer.name}: all tokens sampled vs H`);
    }
    expect(everyToken.report.weightsSha256).toBe(outcome.report.weightsSha256);
  });
});

describe('patterns, allocation and magnitude through the pipeline', () => {
  test('Wanda 2:4, one-pass: exactly half of every layer, N:M holds', async () => {
    const { report } = await compressModel(request({ method: 'wanda', pattern: '2:4', calibration: { ...calibration, mode: 'one-pass' } }));
    for (const layer of report.layers) {
      expect(layer.achievedSparsity).toBe(0.5);
      expect(layer.pattern).toBe('2:4');
      expect(layer.patternCheck).toMatchObject({ ok: true, violations: [] });
    }
    expect(report.totals.achievedSparsityPruned).toBe(0.5);
  });

  test('magnitude needs no calibration set and no session; global scope prunes exactly ⌊Σnumel·s⌋', async () => {
    const outcome = await compressModel({ model: vit.model, analysis: vit.analysis, recipe: parseRecipe({ method: 'magnitude', magnitudeScope: 'global', sparsity: 0.3 }) });
    const { totals, calibration: summary } = outcome.report;
    expect(summary).toBeNull();
    expect(totals.prunedZeros).toBe(Math.floor(totals.prunedParams * 0.3));
    const layerScope = await compressModel({ model: vit.model, analysis: vit.analysis, recipe: parseRecipe({ method: 'magnitude', sparsity: 0.3 }) });
    for (const layer of layerScope.report.layers) expect(layer.achievedSparsity).toBe(Math.floor(layer.shape[0] * layer.shape[1] * 0.3) / (layer.shape[0] * layer.shape[1]));
    expect(layerScope.report.layers[0]).toMatchObject({ relativeError: null, relativeErrorBasis: null, relativeErrorTokens: null });
  });

  test('OWL with 4:8 gives mixed N:8 whose mean is 4:8, on one dense pass', async () => {
    const { open, counts } = countingRunnerFactory();
    const { report } = await compressModel(request({ method: 'wanda', pattern: '4:8', allocation: { kind: 'owl' }, calibration: { ...calibration, mode: 'one-pass' } }, { createRunner: open }));
    expect(counts.created).toBe(1);
    expect(allocationOf(report).units).toHaveLength(4);
    expect(allocationOf(report).mean).toBeCloseTo(0.5, 12);
    for (const layer of report.layers) {
      expect(layer.patternCheck.ok).toBe(true);
      expect(layer.achievedSparsity).toBe(layer.targetSparsity);
    }
  });
});

describe('failures leave nothing behind', () => {
  test('an impossible recipe is refused before any session opens', async () => {
    const { open, counts } = countingRunnerFactory();
    await expect(compressModel(request({ pattern: '2:6' }, { createRunner: open }))).rejects.toThrow(RecipeError);
    await expect(compressModel(request({ calibration: { samples: 500 } }, { createRunner: open }))).rejects.toThrow(/more than the calibration set holds \(128\)/);
    await expect(compressModel(request({}, { calibSet: undefined }))).rejects.toThrow(/needs calibration: pass calibSet and createRunner/);
    expect(counts.created).toBe(0);
  });

  test('cancelling mid-run (after block 0 was pruned) throws Cancelled, releases sessions, leaves the input alone', async () => {
    const { open, counts } = countingRunnerFactory();
    const cancel = { aborted: false };
    const phases: string[] = [];
    const run = compressModel(
      request(sparseGptSequential, {
        createRunner: open,
        cancel,
        onProgress: (p) => {
          phases.push(`${p.phase}${p.step?.index ?? ''}`);
          if (p.phase === 'calibrate' && p.step?.index === 1 && p.done > 0) cancel.aborted = true;
        },
      }),
    );
    await expect(run).rejects.toThrow(Cancelled);
    expect(phases).toContain('prune0');
    expect(phases).not.toContain('prune1');
    expect(counts.created).toBe(counts.released);
    expect(await sha256Hex(writeModel(vit.model))).toBe(inputHash);
  });
});

describe('a head tied to the embedding through Transpose (GPT-2 without constant folding)', () => {
  test('includeHead prunes an untied copy; the embedding Gather keeps the dense table', async () => {
    const { model, analysis } = fixtureModel('gpt2-nofold');
    const head = analysis.linears.find((l) => l.role === 'head')!;
    expect(head.sharedWith).toEqual(['/transformer/wte/Gather']);
    const outcome = await compressModel({
      model,
      analysis,
      recipe: parseRecipe({ method: 'sparsegpt', layers: { includeHead: true }, calibration: { samples: 4, mode: 'one-pass' } }),
      calibSet: randomTokens(4, 8, 48, 3),
      createRunner: openRunner,
    });
    const inits = initializerMap(outcome.model.graph!);
    const dense = initializerMap(model.graph!).get(head.weight)!;
    expect(inits.get(head.weight)).toBe(dense);
    expect(inits.get(`${head.weight}.pruned`)).toBeDefined();
    expect(outcome.report.notes.some((n) => n.includes('also read by /transformer/wte/Gather'))).toBe(true);
    expect(outcome.report.layers.find((l) => l.id === head.id)!.achievedSparsity).toBeGreaterThanOrEqual(0.5);
    const runner = await openRunner(outcome.bytes);
    const out = await runner.run({ input_ids: { dtype: 'int64', dims: [1, 8], data: new BigInt64Array(8).fill(3n) } });
    await runner.release();
    expect(out[runner.outputNames[0]].dims).toEqual([1, 8, 48]);
  });
});
