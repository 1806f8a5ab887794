// The same PruneJobs through runPruneJob (CPU) and runPruneJobGpu, checked against the contract
// in docs/gpu-kernels.md ("Prune jobs on WebGPU"): magnitude bit-identical; Wanda masks equal
// except at near-ties of the float64 scores within the wandaScore kernel's error; SparseGPT masks
// equal and weights within tolerance up to the first mask choice whose scores (as the CPU saw
// them) have a near-tie.
import { expect, test } from 'vitest';
import { expectClose } from '../testing/expectClose.ts';
import { GpuContext } from '../gpu/context.ts';
import { wandaScoreGpu } from '../gpu/kernels/wandaScore/wandaScore.gpu.ts';
import { describeGpu } from '../gpu/testing/describeGpu.ts';
import { normalArray, seededUniform } from '../gpu/testing/random.ts';
import { sparseGptPrune } from '../prune/sparsegpt.ts';
import { columnSets } from '../prune/vnm.ts';
import { wandaScores } from '../prune/wanda.ts';
import type { SparsityPattern } from '../prune/patterns.ts';
import type { Matrix } from '../prune/types.ts';
import { gpuPruneLayer, runPruneJobGpu } from './gpuJobs.ts';
import { runPruneJob, type PruneJob, type PruneJobResult } from './jobs.ts';

// ---- Seeded layers -------------------------------------------------------------------------

interface Layer {
  name: string;
  weight: Matrix;
  sqNorm: Float64Array;
  hessian: Float64Array;
}

/**
 * W ~ N(0, 0.05²) (rows, cols); calibration tokens x with per-channel scales (a few outlier
 * channels, as in real activations); sqNorm = Σ x² and H = 2/n·Σ x xᵀ in float64. Hostile parts:
 * an all-zero weight row and dead input channels (x_j = 0: sqNorm_j = 0, H_jj = 0).
 */
function seededLayer(rows: number, cols: number, tokens: number, seed: number, zeroRows: number[], deadInputs: number[]): Layer {
  const u = seededUniform(seed);
  const scale = Float64Array.from({ length: cols }, () => (u() < 0.05 ? 8 : 0.5 + u()));
  for (const j of deadInputs) scale[j] = 0;
  const x = normalArray(tokens * cols, seed + 1);
  const weight = normalArray(rows * cols, seed + 2, 0.05);
  for (const r of zeroRows) weight.fill(0, r * cols, (r + 1) * cols);
  const sqNorm = new Float64Array(cols);
  const hessian = new Float64Array(cols * cols);
  const xt = new Float64Array(cols);
  for (let t = 0; t < tokens; t++) {
    for (let j = 0; j < cols; j++) xt[j] = Math.fround(x[t * cols + j] * scale[j]);
    for (let a = 0; a < cols; a++) {
      sqNorm[a] += xt[a] * xt[a];
      for (let b = a; b < cols; b++) hessian[a * cols + b] += xt[a] * xt[b];
    }
  }
  for (let a = 0; a < cols; a++) {
    for (let b = a; b < cols; b++) hessian[b * cols + a] = hessian[a * cols + b] = (2 / tokens) * hessian[a * cols + b];
  }
  const name = `${rows}×${cols} (zero row ${zeroRows.join(', ')}; dead inputs ${deadInputs.join(', ')})`;
  return { name, weight: { rows, cols, data: weight }, sqNorm, hessian };
}

const layers = {
  small: seededLayer(64, 128, 192, 11, [5], [3, 64, 65]),
  ragged: seededLayer(96, 200, 256, 23, [0, 95], [7, 150, 199]), // SparseGPT: blocks of 128 and 72; seed with no near-tie
};

const unstructured50: SparsityPattern = { kind: 'unstructured', sparsity: 0.5 };
const patterns: Array<[string, SparsityPattern]> = [
  ['unstructured 50 %', unstructured50],
  ['2:4', { kind: 'nm', n: 2, m: 4 }],
  ['4:8', { kind: 'nm', n: 4, m: 8 }],
  ['8:2:8', { kind: 'vnm', v: 8, n: 2, m: 8 }],
];

function jobOf(layer: Layer, method: PruneJob['method'], pattern: SparsityPattern, magnitudeGroup: PruneJob['magnitudeGroup'] = 'row'): PruneJob {
  const { weight, sqNorm, hessian } = layer;
  return { index: 3, layerId: layer.name, purpose: 'prune', method, pattern, magnitudeGroup, weight, sqNorm, hessian, sparseGpt: { blockSize: 128, percDamp: 0.01 } };
}

const sameBits = (a: ArrayLike<number>, b: ArrayLike<number>, label: string) => expectClose(a, b, { atol: 0, rtol: 0 }, label);

function expectSameResult(gpu: PruneJobResult, cpu: PruneJobResult): void {
  expect([gpu.index, gpu.layerId]).toEqual([cpu.index, cpu.layerId]);
  sameBits(gpu.keep.data, cpu.keep.data, 'keep mask');
  sameBits(gpu.weight.data, cpu.weight.data, 'weights');
  expect(gpu.relativeError).toBe(cpu.relativeError);
}

// ---- Wanda's near-tie bound ----------------------------------------------------------------

/**
 * δ: the wandaScore kernel's relative error against the float64 score. sqNorm rounded to float32
 * (2⁻²⁴, halved by the sqrt), plus the kernel's own tolerance against a single rounding
 * (8·2⁻²³: WGSL's sqrt = 1/inverseSqrt, 2 + 2.5 ULP, and the product).
 */
const WANDA_SCORE_RTOL = 2 ** -25 + 8 * 2 ** -23;
/**
 * Two masks can disagree on elements a (pruned by the GPU only) and b (by the CPU only) of one
 * group only if S_b ≤ t ≤ S_a and S_a(1 − δ) ≤ S_b(1 + δ), t the CPU's last pruned score; so
 * every disagreement lies within 2δ/(1 − δ) of t, relative.
 */
const WANDA_NEAR_TIE = (2 * WANDA_SCORE_RTOL) / (1 - WANDA_SCORE_RTOL);

/** The patterns these tests compare CPU and GPU masks on (block groups run on the CPU only). */
type KernelPattern = Exclude<SparsityPattern, { kind: 'block' }>;

/** The comparison groups of a pattern as flat index lists: each row, or each row's groups of M. */
function comparisonGroups(pattern: KernelPattern, rows: number, cols: number): number[][] {
  const width = pattern.kind === 'unstructured' ? cols : pattern.m;
  const groups: number[][] = [];
  for (let r = 0; r < rows; r++) for (let c0 = 0; c0 < cols; c0 += width) groups.push(Array.from({ length: width }, (_, i) => r * cols + c0 + i));
  return groups;
}

/** Checks the Wanda contract; returns how many entries differ (all excused near-ties). */
function expectWandaContract(gpu: PruneJobResult, cpu: PruneJobResult, weight: Matrix, scores: Float64Array, pattern: KernelPattern): number {
  let differing = 0;
  for (const group of comparisonGroups(pattern, cpu.keep.rows, cpu.keep.cols)) {
    const prunedCpu = group.filter((i) => cpu.keep.data[i] === 0);
    expect(group.filter((i) => gpu.keep.data[i] === 0).length).toBe(prunedCpu.length);
    const threshold = Math.max(...prunedCpu.map((i) => scores[i]));
    for (const i of group) {
      if (gpu.keep.data[i] === cpu.keep.data[i]) continue;
      differing++;
      expect(Math.abs(scores[i] - threshold), `entry ${i}: score ${scores[i]}, group threshold ${threshold}`).toBeLessThanOrEqual(WANDA_NEAR_TIE * threshold);
    }
  }
  // Kept weights are W's bits, pruned ones 0.
  sameBits(gpu.weight.data, weight.data.map((w, i) => (gpu.keep.data[i] ? w : 0)), 'weights: W under the GPU mask');
  return differing;
}

// ---- SparseGPT's near-ties at the mask choices ---------------------------------------------

/**
 * ε: a mask choice is a near-tie when the two scores (or V:N:M set totals) on either side of its
 * boundary differ by at most ε relative. 2⁻¹⁶ allows for the weights at that point differing by
 * ~2⁻¹⁷ (≈ 128 ulp) between backends, e.g. a GPU that fuses the updates' multiply-subtract.
 */
const SPARSEGPT_NEAR_TIE = 2 ** -16;
/** Weights before the first near-tie: the kernel tests' tolerance, atol = rtol·max|W|. */
const sparseGptRtol = (cols: number) => 4 * cols * 2 ** -24;

/** Relative gap between neighbours a ≤ b at a boundary; exact zeros stay zeros on every backend. */
const gap = (a: number, b: number) => (b === 0 ? Infinity : (b - a) / b);

/** The smallest boundary gap of one mask choice over scores (rows, width), by the CPU's rule. */
function choiceMargin(scores: Float32Array, rows: number, width: number, pattern: KernelPattern): number {
  if (pattern.kind === 'unstructured') {
    const sorted = Float32Array.from(scores).sort();
    const k = Math.min(Math.floor(sorted.length * pattern.sparsity), sorted.length - 1);
    return k + 1 < sorted.length ? gap(sorted[k], sorted[k + 1]) : Infinity; // pruned: score <= sorted[k]
  }
  const row = (r: number, cols: ArrayLike<number>) => Array.from(cols, (c) => scores[r * width + c]).sort((a, b) => a - b);
  let margin = Infinity;
  if (pattern.kind === 'nm') {
    const p = pattern.m - pattern.n;
    for (let r = 0; r < rows; r++) {
      const g = row(r, Array.from({ length: width }, (_, i) => i));
      margin = Math.min(margin, gap(g[p - 1], g[p]));
    }
    return margin;
  }
  // V:N:M: per tile, the best set total against the best total that differs from it, and per
  // row of the winning set the 2nd against the 3rd importance.
  for (let r0 = 0; r0 < rows; r0 += pattern.v) {
    const totals = columnSets(width).map((set) => {
      let total = 0;
      for (let r = r0; r < r0 + pattern.v; r++) {
        const g = row(r, set);
        total += g[3] + g[2];
      }
      return { set, total };
    });
    const best = totals.reduce((a, b) => (b.total > a.total ? b : a));
    const runnerUp = Math.max(...totals.filter((t) => t.total !== best.total).map((t) => t.total));
    margin = Math.min(margin, gap(runnerUp, best.total));
    for (let r = r0; r < r0 + pattern.v; r++) {
      const g = row(r, best.set);
      margin = Math.min(margin, gap(g[1], g[2]));
    }
  }
  return margin;
}

/**
 * Runs the CPU SparseGPT with an observer of every mask choice (the scores it chose from, on
 * the weights as the columns before it left them). Returns the first column whose choice is a near-tie (cols if none) and the margins.
 */
function cpuChoiceMargins(job: PruneJob): { firstNear: number; margins: number[] } {
  const pattern = job.pattern as KernelPattern;
  let firstNear = job.weight.cols;
  const margins: number[] = [];
  const onMaskChoice = (scores: Float32Array, column: number, span: number) => {
    const margin = choiceMargin(scores, job.weight.rows, span, pattern);
    margins.push(margin);
    if (margin <= SPARSEGPT_NEAR_TIE) firstNear = Math.min(firstNear, column);
  };
  sparseGptPrune(job.weight, { hessian: job.hessian! }, pattern, { ...job.sparseGpt, onMaskChoice });
  return { firstNear, margins };
}

const columnsBefore = (data: ArrayLike<number>, rows: number, cols: number, end: number) =>
  Array.from({ length: rows * end }, (_, i) => data[Math.floor(i / end) * cols + (i % end)]);

interface SparseGptComparison {
  firstNear: number;
  minMargin: number;
  maxAbs: number;
  bitIdentical: boolean;
}

/** The SparseGPT contract: masks equal and weights close on the columns before the first near-tie. */
function expectSparseGptContract(gpu: PruneJobResult, cpu: PruneJobResult, job: PruneJob): SparseGptComparison {
  const { rows, cols } = job.weight;
  const { firstNear, margins } = cpuChoiceMargins(job);
  const before = (data: ArrayLike<number>) => columnsBefore(data, rows, cols, firstNear);
  sameBits(before(gpu.keep.data), before(cpu.keep.data), `keep mask, columns before ${firstNear}`);
  const rtol = sparseGptRtol(cols);
  const maxW = job.weight.data.reduce((m, w) => Math.max(m, Math.abs(w)), 0);
  expectClose(before(gpu.weight.data), before(cpu.weight.data), { atol: rtol * maxW, rtol }, `weights, columns before ${firstNear}`);
  if (firstNear === cols) expectClose([gpu.relativeError!], [cpu.relativeError!], { atol: 0, rtol: 1e-3 }, 'relative error');
  let maxAbs = 0;
  for (let i = 0; i < cpu.weight.data.length; i++) maxAbs = Math.max(maxAbs, Math.abs(gpu.weight.data[i] - cpu.weight.data[i]));
  const bitIdentical = maxAbs === 0 && gpu.keep.data.every((k, i) => k === cpu.keep.data[i]);
  return { firstNear, minMargin: Math.min(...margins), maxAbs, bitIdentical };
}

// ---- The suite -----------------------------------------------------------------------------

describeGpu('prune jobs on WebGPU vs runPruneJob', (gpu) => {
  const cases = Object.values(layers).flatMap((layer) => patterns.map(([name, pattern]) => [`${layer.name}, ${name}`, layer, pattern] as const));

  test.each(cases)('magnitude, %s: bit-identical', async (_, layer, pattern) => {
    for (const group of pattern.kind === 'unstructured' ? (['row', 'layer'] as const) : (['row'] as const)) {
      const job = jobOf(layer, 'magnitude', pattern, group);
      const result = await runPruneJobGpu(gpu(), job);
      expectSameResult(result, runPruneJob(job));
      expect(result.backend).toBe(pattern.kind === 'vnm' ? 'cpu (V:N:M selection has no GPU kernel)' : 'webgpu+cpu (|W|)');
    }
  });

  test('wandaScore kernel against the CPU float64 scores: within δ (the bound the mask contract uses)', async () => {
    for (const layer of Object.values(layers)) {
      const { rows, cols, data } = layer.weight;
      const cpu = wandaScores(layer.weight, layer.sqNorm);
      const got = await wandaScoreGpu(gpu(), data, Float32Array.from(layer.sqNorm), rows, cols);
      expectClose(got, cpu, { atol: 2 ** -126, rtol: WANDA_SCORE_RTOL }, `${layer.name}: scores`);
      const roundedAlike = got.filter((s, i) => s === Math.fround(cpu[i])).length;
      let maxRel = 0;
      got.forEach((s, i) => cpu[i] > 0 && (maxRel = Math.max(maxRel, Math.abs(s - cpu[i]) / cpu[i])));
      console.info(`[wandaScore vs float64] ${layer.name}: ${roundedAlike}/${got.length} equal to fround(f64 score); max rel diff ${maxRel.toExponential(2)} (δ = ${WANDA_SCORE_RTOL.toExponential(2)})`);
    }
  });

  test.each(cases)('wanda, %s: masks equal outside near-ties of the float64 scores', async (_, layer, pattern) => {
    const job = jobOf(layer, 'wanda', pattern);
    const result = await runPruneJobGpu(gpu(), job);
    const cpu = runPruneJob(job);
    if (pattern.kind === 'vnm') {
      expectSameResult(result, cpu);
      expect(result.backend).toBe('cpu (V:N:M selection has no GPU kernel)');
      return;
    }
    expect(result.backend).toBe('webgpu');
    const differing = expectWandaContract(result, cpu, layer.weight, wandaScores(layer.weight, layer.sqNorm), pattern as KernelPattern);
    if (differing === 0) expect(result.relativeError).toBe(cpu.relativeError);
    console.info(`[wanda] ${layer.name}, ${pattern.kind}: ${differing} mask entries differ (near-ties)`);
  });

  test('wanda near-ties: a 1-ulp pair straddling the threshold flips where the float32 scores tie, and only there', async () => {
    // Row r: columns 0 and 1 hold nextUp(v_r) and v_r (float32 neighbours), the rest are large;
    // one weight per row is pruned. In float64 column 1 is lower; in float32 (×0.7071…) the two
    // scores often round to one value, and the tie rule then prunes column 0.
    const rows = 32;
    const cols = 8;
    const data = new Float32Array(rows * cols).fill(1);
    const bits = new Uint32Array(data.buffer);
    for (let r = 0; r < rows; r++) {
      data[r * cols + 1] = 0.01 * (1 + r / 7.3);
      bits[r * cols] = bits[r * cols + 1] + 1;
    }
    const layer: Layer = { name: 'near-ties', weight: { rows, cols, data }, sqNorm: new Float64Array(cols).fill(0.5), hessian: new Float64Array(0) };
    const pattern: SparsityPattern = { kind: 'unstructured', sparsity: 1 / cols };
    const job = { ...jobOf(layer, 'wanda', pattern), hessian: undefined };
    const result = await runPruneJobGpu(gpu(), job);
    const differing = expectWandaContract(result, runPruneJob(job), layer.weight, wandaScores(layer.weight, layer.sqNorm), pattern);
    const scores = await wandaScoreGpu(gpu(), data, Float32Array.from(layer.sqNorm), rows, cols);
    const flipped = Array.from({ length: rows }, (_, r) => r).filter((r) => scores[r * cols] <= scores[r * cols + 1]).length;
    expect(differing).toBe(2 * flipped);
    console.info(`[wanda near-ties] ${flipped} of ${rows} rows flip (their float32 scores tie)`);
  });

  test.each(cases)('sparsegpt, %s: masks equal and weights close up to the first near-tie', async (_, layer, pattern) => {
    const job = jobOf(layer, 'sparsegpt', pattern);
    const result = await runPruneJobGpu(gpu(), job);
    const c = expectSparseGptContract(result, runPruneJob(job), job);
    // These seeded layers have no near-tie, so the whole layer is compared.
    expect(c.firstNear).toBe(layer.weight.cols);
    const chosen = pattern.kind === 'vnm' ? '; V:N:M selection per group' : '';
    expect(result.backend).toBe(`webgpu+cpu (H⁻¹ Cholesky in float64${chosen})`);
    console.info(`[sparsegpt] ${layer.name}, ${pattern.kind}: smallest choice margin ${c.minMargin.toExponential(2)}, max |ΔW| ${c.maxAbs}, bit-identical: ${c.bitIdentical}`);
  });

  test('sparsegpt, GPT-2 sized 768×768, unstructured 50 %', async () => {
    const layer = seededLayer(768, 768, 256, 31, [100], [0, 500]);
    const job = jobOf(layer, 'sparsegpt', unstructured50);
    const t0 = performance.now();
    const result = await runPruneJobGpu(gpu(), job);
    const t1 = performance.now();
    const c = expectSparseGptContract(result, runPruneJob(job), job);
    expect(c.firstNear).toBeGreaterThanOrEqual(128); // at least one whole block compared
    console.info(`[sparsegpt 768×768] GPU job ${(t1 - t0).toFixed(0)} ms; compared columns 0…${c.firstNear - 1}; smallest margin ${c.minMargin.toExponential(2)}; max |ΔW| ${c.maxAbs}; bit-identical: ${c.bitIdentical}`);
  }, 60_000);

  test('magnitude per layer, ties straddling the boundary across workgroups: bit-identical', async () => {
    // 60 % exact zeros and values on a coarse grid: ties at 0 cross the 50 % boundary and every
    // one of globalSelect's chunks, so the flat-index tie rule is exercised across workgroups.
    const rows = 300;
    const cols = 200;
    const u = seededUniform(61);
    const data = Float32Array.from({ length: rows * cols }, () => (u() < 0.6 ? 0 : Math.round((u() - 0.5) * 16) / 8));
    const layer: Layer = { name: 'ties', weight: { rows, cols, data }, sqNorm: new Float64Array(cols), hessian: new Float64Array(0) };
    for (const sparsity of [0.5, 0.65, 0.999]) {
      const job = { ...jobOf(layer, 'magnitude', { kind: 'unstructured', sparsity }, 'layer'), hessian: undefined };
      expectSameResult(await runPruneJobGpu(gpu(), job), runPruneJob(job));
    }
  });

  test('sparsity 0: every method returns W unchanged with a full mask', async () => {
    const layer = layers.ragged;
    for (const method of ['magnitude', 'wanda', 'sparsegpt'] as const) {
      const job = jobOf(layer, method, { kind: 'unstructured', sparsity: 0 });
      const result = await runPruneJobGpu(gpu(), job);
      expectSameResult(result, runPruneJob(job));
      sameBits(result.weight.data, layer.weight.data, `${method}: weights`); // dead inputs not zeroed either
      expect(result.keep.data.every((k) => k === 1)).toBe(true);
      expect(result.relativeError).toBe(0);
    }
    expect((await runPruneJobGpu(gpu(), jobOf(layer, 'sparsegpt', { kind: 'unstructured', sparsity: 0 }))).backend).toBe('cpu (sparsity 0: weights returned unchanged)');
  });

  test('cases without a kernel run on the CPU and say why', async () => {
    const bigBlocks = { ...jobOf(layers.small, 'sparsegpt', unstructured50), sparseGpt: { blockSize: 256, percDamp: 0.01 } };
    expect((await runPruneJobGpu(gpu(), bigBlocks)).backend).toBe('cpu (SparseGPT blocks over 128 columns have no GPU kernel)');
    // A tall layer whose W (160×64) exceeds a binding capped at U's size (64×64): the block-wide
    // mask needs every row at once, so unstructured runs on the CPU; N:M runs in row ranges of 64.
    const tall = seededLayer(160, 64, 96, 41, [2], [10]);
    const capped = new GpuContext(gpu().device, { limitCaps: { maxStorageBufferBindingSize: 64 * 64 * 4 } });
    const unstructuredJob = jobOf(tall, 'sparsegpt', unstructured50);
    const onCpu = await runPruneJobGpu(capped, unstructuredJob);
    expect(onCpu.backend).toBe('cpu (W is larger than one storage binding, which the block-wide mask needs)');
    expectSameResult(onCpu, runPruneJob(unstructuredJob));
    const nmJob = jobOf(tall, 'sparsegpt', { kind: 'nm', n: 2, m: 4 });
    const split = await runPruneJobGpu(capped, nmJob);
    expect(split.backend).toBe('webgpu+cpu (H⁻¹ Cholesky in float64)');
    expect(expectSparseGptContract(split, runPruneJob(nmJob), nmJob).firstNear).toBe(64);
  });

  test('invalid jobs fail with the CPU path\'s errors', async () => {
    const base = jobOf(layers.small, 'sparsegpt', unstructured50);
    const nanWeight = { ...layers.small.weight, data: Float32Array.from(layers.small.weight.data, (w, i) => (i === 130 ? NaN : w)) };
    const bad: PruneJob[] = [
      { ...base, hessian: undefined },
      { ...base, weight: nanWeight },
      { ...base, pattern: { kind: 'nm', n: 2, m: 3 } },
      { ...base, pattern: { kind: 'nm', n: 2, m: 256 }, sparseGpt: { blockSize: 100, percDamp: 0.01 } },
      { ...base, method: 'wanda', sqNorm: Float64Array.from(layers.small.sqNorm, (v, j) => (j === 9 ? -1 : v)) },
      { ...base, method: 'magnitude', pattern: { kind: 'vnm', v: 7, n: 2, m: 8 } },
    ];
    for (const job of bad) {
      const cpuError = (() => {
        try {
          runPruneJob(job);
        } catch (e) {
          return (e as Error).message;
        }
        throw new Error('the CPU path accepted a bad job');
      })();
      await expect(runPruneJobGpu(gpu(), job)).rejects.toThrow(cpuError);
    }
  });

  test('gpuPruneLayer runs concurrent jobs one at a time, each as runPruneJob would', async () => {
    const run = gpuPruneLayer(gpu());
    const jobs = (['magnitude', 'wanda', 'sparsegpt'] as const).map((method, index) => ({ ...jobOf(layers.small, method, { kind: 'nm', n: 2, m: 4 }), index }));
    const results = await Promise.all(jobs.map(run));
    results.forEach((result, i) => expect(result.index).toBe(jobs[i].index));
    expectSameResult(results[0], runPruneJob(jobs[0]));
    expectSparseGptContract(results[2], runPruneJob(jobs[2]), jobs[2]);
    await expect(run({ ...jobs[1], sqNorm: undefined })).rejects.toThrow('method wanda needs sqNorm');
    await expect(run({ ...jobs[0], pattern: { kind: 'nm', n: 4, m: 4 } })).rejects.toThrow('N:M needs N < M');
    expect((await run(jobs[0])).backend).toBe('webgpu+cpu (|W|)'); // a failed job does not stop the queue
  });
});
