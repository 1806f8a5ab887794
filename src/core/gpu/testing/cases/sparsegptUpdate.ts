// The sparsegptUpdate kernels' cases and tolerance, shared by sparsegptUpdate.test.ts (Node) and
// the browser's kernel check page (src/kernelCheck).
import { blockThresholdKeep, obsScores } from '../../../prune/sparsegpt.setup';
import type { PrunePattern } from '../../kernels/pruneOrder';
import { rowSelectRef } from '../../kernels/rowSelect/rowSelect.ref';
import fixture from '../../kernels/sparsegptUpdate/fixtures/sparsegpt_fixture.json';
import type { HostMaskStep } from '../../kernels/sparsegptUpdate/sparsegptUpdate.gpu';
import { createSparseGptStateRef, sparsegptPruneRef, type SparseGptStateRef } from '../../kernels/sparsegptUpdate/sparsegptUpdate.ref';
import { sparsegptHinvUpper } from '../hessianInverse';
import { normalArray, seededUniform } from '../random';

export interface SparseGptCase {
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
export function calibratedCase(name: string, rows: number, cols: number, blockSize: number, seed: number, edit?: (x: Float32Array, w: Float32Array) => void): SparseGptCase {
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
  return { name: `2:4 chosen inside the blocks, ${rows} × ${cols}, blocks of ${blockSize}`, rows, cols, blockSize, weights, hinvUpper, pattern: { kind: 'nm', n: 2, m: 4 } };
}

export function fixtureCase(which: 'maskCase' | 'nm24Case'): SparseGptCase {
  const f = fixture;
  const pattern: PrunePattern = which === 'maskCase' ? { kind: 'mask', keepMask: Uint8Array.from(f.maskCase.keepMask) } : { kind: 'nm', n: f.nm24Case.keepN, m: f.nm24Case.groupM };
  return { name: `PyTorch fixture, ${which === 'maskCase' ? 'given mask' : '2:4'}`, rows: f.rows, cols: f.cols, blockSize: f.blockSize, weights: Float32Array.from(f.weights), hinvUpper: Float32Array.from(f.hinvUpper), pattern };
}

export function sparsegptRunRef(c: SparseGptCase): SparseGptStateRef {
  const state = createSparseGptStateRef(c.weights, c.hinvUpper, c.rows, c.cols, c.pattern);
  sparsegptPruneRef(state, c.blockSize);
  return state;
}

export const sparsegptNaNCase = calibratedCase('NaN in W[2, 10] spreads along row 2 only', 5, 40, 16, 40);
sparsegptNaNCase.weights[2 * 40 + 10] = NaN;

export const sparsegptCases: SparseGptCase[] = [
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
  sparsegptNaNCase,
  separatedNmCase(16, 64, 32, 32),
];

/**
 * GPU vs reference: both round every operation to f32, but a GPU may fuse multiply-adds and
 * divide within WGSL's 2.5 ULP, so results may drift by a few roundings per update, and an
 * element receives up to `updates` of them (cols for a full sweep). Heuristic tolerance:
 * rtol = 4·updates·2⁻²⁴ and atol = rtol·max|W| (before or after). On llvmpipe and SwiftShader
 * the results are bit-identical to the reference.
 */
export function updateTolerance(updates: number, ...weights: Float32Array[]): { atol: number; rtol: number } {
  let scale = 0;
  for (const w of weights) for (const v of w) if (Number.isFinite(v)) scale = Math.max(scale, Math.abs(v));
  const rtol = 4 * updates * 2 ** -24;
  return { atol: rtol * scale, rtol };
}

/**
 * SparseGPT's unstructured block mask chosen on the host by the CPU path's own functions
 * (obsScores, blockThresholdKeep) from the weights read back at each block start: what the
 * device-chosen mask (DeviceBlockMask) must equal.
 */
export function hostBlockMask(rows: number, cols: number, hinvUpper: Float32Array, blockSize: number, sparsity: number): HostMaskStep {
  return {
    span: blockSize,
    choose: (current, start, end) => blockThresholdKeep(obsScores({ data: current, stride: end - start, offset: 0 }, rows, hinvUpper, cols, start, end - start), sparsity),
  };
}

/**
 * Ragged (blocks of 64, 64, 64, 8); dead channels and zero rows give exact-zero scores, which the
 * threshold lands on at 30 % (zero rows 0–6 are a third of the rows): every tie with it is pruned
 * (`tmp <= thresh`), more than ⌊numel·s⌋ + 1.
 */
export const deviceBlockMaskLayer = calibratedCase('device block mask', 21, 200, 64, 80, (x, w) => {
  for (let t = 0; t < 400; t++) for (const j of [3, 120]) x[t * 200 + j] = 0;
  w.fill(0, 0, 7 * 200);
});
export const DEVICE_BLOCK_MASK_SPARSITIES = [0.5, 0.3, 0.9, 1];
