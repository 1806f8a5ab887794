// Input checks shared by the methods: a wrong shape or a NaN must fail loudly with the method's
// name and the position, never propagate into a mask.
import { PruneError, type Matrix } from './types.ts';

export function assertMatrix(matrix: Matrix, label: string): void {
  const { rows, cols, data } = matrix;
  if (!Number.isInteger(rows) || !Number.isInteger(cols) || rows < 1 || cols < 1) {
    throw new PruneError(`${label}: shape ${rows} x ${cols} is not a positive integer shape`);
  }
  if (data.length !== rows * cols) {
    throw new PruneError(`${label}: ${data.length} values for a ${rows} x ${cols} matrix (expected ${rows * cols})`);
  }
}

/** Throws at the first NaN or ±Infinity, naming (row, column) when `cols` is given. */
export function assertFinite(values: ArrayLike<number>, label: string, cols?: number): void {
  // Fast pass: v·0 is 0 for every finite v and NaN otherwise. One loop per array type keeps the
  // element access monomorphic (this check runs on every weight and statistic of every job).
  if (values instanceof Float32Array ? allFinite32(values) : values instanceof Float64Array ? allFinite64(values) : false) return;
  for (let i = 0; i < values.length; i++) {
    const value = values[i];
    if (Number.isFinite(value)) continue;
    const where = cols === undefined ? `index ${i}` : `row ${Math.floor(i / cols)}, column ${i % cols}`;
    throw new PruneError(`${label} has a non-finite value (${value}) at ${where}`);
  }
}

function allFinite32(values: Float32Array): boolean {
  let probe = 0;
  for (let i = 0; i < values.length; i++) probe += values[i] * 0;
  return probe === 0;
}

function allFinite64(values: Float64Array): boolean {
  let probe = 0;
  for (let i = 0; i < values.length; i++) probe += values[i] * 0;
  return probe === 0;
}

export function assertLength(values: ArrayLike<number>, expected: number, label: string): void {
  if (values.length !== expected) {
    throw new PruneError(`${label}: length ${values.length}, expected ${expected}`);
  }
}

/** A checked weight matrix: right shape, every value finite. */
export function assertWeight(weight: Matrix, method: string): void {
  assertMatrix(weight, `${method}: weight`);
  assertFinite(weight.data, `${method}: weight`, weight.cols);
}
