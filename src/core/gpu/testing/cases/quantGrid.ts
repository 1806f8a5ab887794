// The quantGrid kernels' cases and equivalence check, shared by quantGrid.test.ts (Node) and the
// browser's kernel check page (src/kernelCheck).
import type { QuantParams } from '../../../quant/rtn';
import type { Granularity, IntGrid, Matrix } from '../../../quant/types';
import { expectClose } from '../../../testing/expectClose';
import { normalArray, seededUniform } from '../random';

export interface QuantGridCase {
  name: string;
  weight: Matrix;
  grid: IntGrid;
  granularity: Granularity;
}

export interface QuantGridOutput {
  params: QuantParams;
  codes: Uint8Array;
  dequantized: Float32Array;
}

const ULP = 2 ** -23;
/**
 * WGSL allows f32 division within 2.5 ULP (everything else here is exact or correctly rounded),
 * so on a GPU whose division is not correctly rounded a scale may differ by that much, and a
 * quotient w/scale (or −lo/scale for a zero point) by about twice that; a code (zero point) can
 * then round the other way only where the reference's quotient lies within this relative window
 * of a half-integer. 2⁻²⁰ = 8 ULP leaves a margin over the ~5.5 ULP the bound needs.
 */
export const QUANT_TIE_WINDOW = 2 ** -20;
export const SCALE_RTOL = 4 * ULP;

const nearHalf = (q: number): boolean => Math.abs(q - (Math.floor(q) + 0.5)) <= Math.abs(q) * QUANT_TIE_WINDOW;

/** find_params' xmin = min(0, min w) of a (row, group); per tensor, of every weight. */
function groupLow(c: QuantGridCase, row: number, g: number, groupSize: number): number {
  const { rows, cols, data } = c.weight;
  const [start, end, stride, count] = c.granularity.kind === 'tensor' ? [0, cols, cols, rows] : [row * cols + g * groupSize, row * cols + Math.min((g + 1) * groupSize, cols), 0, 1];
  let lo = 0;
  for (let k = 0; k < count; k++) for (let i = start + k * stride; i < end + k * stride; i++) lo = Math.min(lo, data[i]);
  return lo;
}

/**
 * Checks a kernel output against the reference under the contract above and returns the flips
 * it excused (0 where division is correctly rounded: llvmpipe and SwiftShader are bit-identical).
 * A zero point may differ by 1 only at a near-tie of −lo/scale (its group is then excused); a
 * code by 1 only at a near-tie of w/scale; scales within SCALE_RTOL; Ŵ of every code that agrees
 * within SCALE_RTOL plus one rounding of the product.
 */
export function quantGridViolation(got: QuantGridOutput, ref: QuantGridOutput, c: QuantGridCase): { flips: number; maxAbsError: number } {
  const { rows, cols, data } = c.weight;
  const { groups, groupSize } = ref.params;
  expectClose(got.params.scales, ref.params.scales, { atol: 0, rtol: SCALE_RTOL }, `${c.name}: scales`);
  let flips = 0;
  const excusedGroup = new Uint8Array(rows * groups);
  for (let t = 0; t < rows * groups; t++) {
    const [a, b] = [got.params.zeroPoints[t], ref.params.zeroPoints[t]];
    if (a === b) continue;
    const q = Math.fround(-groupLow(c, Math.floor(t / groups), t % groups, groupSize) / ref.params.scales[t]);
    if (c.grid.symmetric || Math.abs(a - b) !== 1 || !nearHalf(q)) throw new Error(`${c.name}: zero point of row ${Math.floor(t / groups)}, group ${t % groups} is ${a}, reference ${b} (−lo/scale = ${q}, not a near-tie)`);
    excusedGroup[t] = 1;
    flips++;
  }
  const keptGot: number[] = [];
  const keptRef: number[] = [];
  for (let i = 0; i < rows * cols; i++) {
    const t = Math.floor(i / cols) * groups + Math.floor((i % cols) / groupSize);
    if (excusedGroup[t]) continue;
    if (got.codes[i] !== ref.codes[i]) {
      const q = Math.fround(data[i] / ref.params.scales[t]);
      if (Math.abs(got.codes[i] - ref.codes[i]) !== 1 || !nearHalf(q)) {
        throw new Error(`${c.name}: code of row ${Math.floor(i / cols)}, column ${i % cols} is ${got.codes[i]}, reference ${ref.codes[i]} (w/scale = ${q}, not a near-tie)`);
      }
      flips++;
      continue;
    }
    keptGot.push(got.dequantized[i]);
    keptRef.push(ref.dequantized[i]);
  }
  const { maxAbsError } = expectClose(keptGot, keptRef, { atol: 0, rtol: SCALE_RTOL + ULP }, `${c.name}: dequantized`);
  return { flips, maxAbsError };
}

function matrix(rows: number, cols: number, data: Float32Array): Matrix {
  return { rows, cols, data };
}

/** Rows 0–3 constant per group of 16 (0, 0.25, −0.7, and a group of 3 on 0 elsewhere), the rest random. */
function constantGroups(): Matrix {
  const rows = 6;
  const cols = 96;
  const data = normalArray(rows * cols, 51, 0.1);
  data.fill(0, 0, cols);
  data.fill(0.25, cols, 2 * cols);
  data.fill(-0.7, 2 * cols, 3 * cols);
  data.fill(0, 3 * cols, 4 * cols);
  data.fill(3, 3 * cols + 16, 3 * cols + 32);
  data[4 * cols + 5] = -0;
  return matrix(rows, cols, data);
}

/** Exact halves at scale 1 (lo 0, hi 3 at 2 bits): 0.5, 1.5, 2.5 must round to even codes; −0 too. */
function exactHalves(): Matrix {
  return matrix(2, 8, new Float32Array([0, 0.5, 1, 1.5, 2, 2.5, 3, -0, 3, 2.5, 2, 1.5, 1, 0.5, 0, 0]));
}

/** N(0, 0.05) weights with a few 10× outliers, as trained layers have. */
function layerLike(rows: number, cols: number, seed: number, offset = 0): Matrix {
  const data = normalArray(rows * cols, seed, 0.05, offset);
  const u = seededUniform(seed + 1);
  for (let k = 0; k < Math.ceil((rows * cols) / 500); k++) data[Math.floor(u() * rows * cols)] *= 10;
  return matrix(rows, cols, data);
}

const group = (size: number): Granularity => ({ kind: 'group', size });

export const quantGridCases: QuantGridCase[] = [
  { name: '1×1, 4-bit asym per row', weight: matrix(1, 1, new Float32Array([0.3])), grid: { bits: 4, symmetric: false }, granularity: { kind: 'row' } },
  { name: 'exact halves round to even, 2-bit asym per row', weight: exactHalves(), grid: { bits: 2, symmetric: false }, granularity: { kind: 'row' } },
  { name: 'ragged: 13 × 200, 3-bit asym, groups of 32 (last 8 wide)', weight: layerLike(13, 200, 60), grid: { bits: 3, symmetric: false }, granularity: group(32) },
  { name: 'ragged: 13 × 200, 4-bit sym, groups of 64', weight: layerLike(13, 200, 61), grid: { bits: 4, symmetric: true }, granularity: group(64) },
  { name: 'constant groups and rows (0, 0.25, −0.7, −0), 2-bit asym, groups of 16', weight: constantGroups(), grid: { bits: 2, symmetric: false }, granularity: group(16) },
  { name: 'constant groups and rows (0, 0.25, −0.7, −0), 2-bit sym, groups of 16', weight: constantGroups(), grid: { bits: 2, symmetric: true }, granularity: group(16) },
  { name: '37 × 257, 2-bit sym per row', weight: layerLike(37, 257, 62), grid: { bits: 2, symmetric: true }, granularity: { kind: 'row' } },
  { name: '37 × 300, 8-bit asym per tensor', weight: layerLike(37, 300, 63), grid: { bits: 8, symmetric: false }, granularity: { kind: 'tensor' } },
  { name: '37 × 300, 3-bit sym per tensor', weight: layerLike(37, 300, 64), grid: { bits: 3, symmetric: true }, granularity: { kind: 'tensor' } },
  { name: 'huge offset (10⁴ + N(0, 0.05)), 17 × 100, 8-bit asym per row', weight: layerLike(17, 100, 65, 1e4), grid: { bits: 8, symmetric: false }, granularity: { kind: 'row' } },
  { name: 'group wider than the row: 5 × 20, groups of 128', weight: layerLike(5, 20, 66), grid: { bits: 4, symmetric: false }, granularity: group(128) },
  { name: 'GPT-2 MLP: 3072 × 768, 4-bit asym, groups of 32', weight: layerLike(3072, 768, 67), grid: { bits: 4, symmetric: false }, granularity: group(32) },
];
