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
  for (let i = 0; i < values.length; i++) {
    const value = values[i];
    if (Number.isFinite(value)) continue;
    const where = cols === undefined ? `index ${i}` : `row ${Math.floor(i / cols)}, column ${i % cols}`;
    throw new PruneError(`${label} has a non-finite value (${value}) at ${where}`);
  }
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
