// The gptqUpdate kernels' cases and equivalence check, shared by gptqUpdate.test.ts (Node) and the
// browser's kernel check page (src/kernelCheck). Reference: the CPU GPTQ (quant/gptq.ts).
import type { GptqOptions, GptqResult } from '../../../quant/gptq';
import type { Matrix } from '../../../quant/types';
import { expectClose } from '../../../testing/expectClose';
import { normalArray } from '../random';
import { updateTolerance } from './sparsegptUpdate';

export interface GptqKernelCase {
  name: string;
  weight: Matrix;
  /** H = 2/n · XᵀX, float64, as calibration collects it. */
  hessian: Float64Array;
  options: GptqOptions;
}

/** H = 2/n·XᵀX in f64 from token rows x (tokens, cols). */
function hessianOf(x: Float32Array, tokens: number, cols: number): Float64Array {
  const h = new Float64Array(cols * cols);
  for (let t = 0; t < tokens; t++) {
    for (let a = 0; a < cols; a++) {
      const xa = x[t * cols + a];
      if (xa === 0) continue;
      for (let b = 0; b < cols; b++) h[a * cols + b] += (2 / tokens) * xa * x[t * cols + b];
    }
  }
  return h;
}

/** A calibrated layer: random inputs (dead channels: all-zero inputs), N(0, 0.05) weights (zero rows). */
function layer(rows: number, cols: number, seed: number, dead: number[] = [], zeroRows: number[] = []): { weight: Matrix; hessian: Float64Array } {
  const tokens = 2 * cols;
  const x = normalArray(tokens * cols, seed);
  for (let t = 0; t < tokens; t++) for (const j of dead) x[t * cols + j] = 0;
  const data = normalArray(rows * cols, seed + 1, 0.05);
  for (const r of zeroRows) data.fill(0, r * cols, (r + 1) * cols);
  return { weight: { rows, cols, data }, hessian: hessianOf(x, tokens, cols) };
}

const asym = (bits: number) => ({ bits, symmetric: false });
const sym = (bits: number) => ({ bits, symmetric: true });
const group = (size: number) => ({ kind: 'group' as const, size });

export const gptqKernelCases: GptqKernelCase[] = [
  { name: '1×1, 4-bit asym per row', weight: { rows: 1, cols: 1, data: new Float32Array([0.3]) }, hessian: new Float64Array([2]), options: { grid: asym(4), granularity: { kind: 'row' } } },
  { name: '24 × 160, 4-bit asym per row, dead inputs 3 and 77, zero row 5, blocks of 128 (last 32)', ...layer(24, 160, 90, [3, 77], [5]), options: { grid: asym(4), granularity: { kind: 'row' } } },
  { name: '13 × 200, 3-bit asym, dynamic groups of 32, blocks of 64 (last 8 wide)', ...layer(13, 200, 91), options: { grid: asym(3), granularity: group(32), blockSize: 64 } },
  { name: '13 × 200, 4-bit sym, dynamic groups of 48 straddling blocks of 32', ...layer(13, 200, 92, [10]), options: { grid: sym(4), granularity: group(48), blockSize: 32 } },
  { name: '16 × 96, 3-bit sym, act-order with dynamic groups of 32 (g_idx)', ...layer(16, 96, 93, [40]), options: { grid: sym(3), granularity: group(32), actOrder: true, blockSize: 32 } },
  { name: '16 × 96, 4-bit asym, act-order with static groups of 16', ...layer(16, 96, 94), options: { grid: asym(4), granularity: group(16), actOrder: true, staticGroups: true, blockSize: 32 } },
  { name: '16 × 96, 2-bit sym per tensor', ...layer(16, 96, 95, [], [0]), options: { grid: sym(2), granularity: { kind: 'tensor' } } },
  { name: '16 × 96, 4-bit asym per row with the MSE clip search (fitted on the host)', ...layer(16, 96, 96), options: { grid: asym(4), granularity: { kind: 'row' }, mseClip: true } },
  { name: '64 × 256, 8-bit asym, dynamic groups of 128, blocks of 128', ...layer(64, 256, 97, [0, 255]), options: { grid: asym(8), granularity: group(128) } },
];

/**
 * The device sweep against the CPU's. Both make the same float32 operations in the same order;
 * a GPU that fuses multiply-subtract or divides within WGSL's 2.5 ULP perturbs W by rounding, and
 * a code can then flip where the CPU's w/scale was nearly a half-integer; from that column on the
 * row's updates differ (rows are independent: each has its own errors and tables). So: at most
 * FLIPPED_ROWS_ALLOWED rows may differ in codes; every other row has equal codes and zero points,
 * and weights and scales within sparsegptUpdate's updateTolerance. Returns the flipped rows and
 * the largest weight error (0 and 0 on llvmpipe: bit-identical).
 */
export const FLIPPED_ROWS_ALLOWED = 1;

export function gptqViolation(got: GptqResult, ref: GptqResult, c: GptqKernelCase): { flippedRows: number; maxAbsError: number } {
  const { rows, cols } = c.weight;
  const [a, b] = [got.quantized, ref.quantized];
  for (const key of ['groupSize', 'groups', 'bits', 'symmetric'] as const) {
    if (a[key] !== b[key]) throw new Error(`${c.name}: ${key} ${a[key]}, reference ${b[key]}`);
  }
  expectClose(a.groupIndex ?? [], b.groupIndex ?? [], { atol: 0, rtol: 0 }, `${c.name}: groupIndex`);
  const tolerance = updateTolerance(cols, ref.weight.data, c.weight.data);
  const keptRows: number[] = [];
  for (let r = 0; r < rows; r++) {
    let same = true;
    for (let j = 0; j < cols && same; j++) same = a.codes[r * cols + j] === b.codes[r * cols + j];
    for (let g = 0; g < b.groups && same; g++) same = a.zeroPoints[r * b.groups + g] === b.zeroPoints[r * b.groups + g];
    if (same) keptRows.push(r);
  }
  const flippedRows = rows - keptRows.length;
  if (flippedRows > FLIPPED_ROWS_ALLOWED) throw new Error(`${c.name}: codes differ in ${flippedRows} rows (at most ${FLIPPED_ROWS_ALLOWED} may flip at a near-tie)`);
  const pick = (data: ArrayLike<number>, width: number) => keptRows.flatMap((r) => Array.from({ length: width }, (_, j) => data[r * width + j]));
  expectClose(pick(a.scales, b.groups), pick(b.scales, b.groups), { atol: 0, rtol: tolerance.rtol }, `${c.name}: scales`);
  const { maxAbsError } = expectClose(pick(got.weight.data, cols), pick(ref.weight.data, cols), tolerance, `${c.name}: weights`);
  return { flippedRows, maxAbsError };
}
