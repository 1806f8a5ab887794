// CPU reference for the column-range copies (columnRange.wgsl): plain slicing of a row-major
// (rows, cols) matrix to and from a compact (rows, end − start) array.

/** Columns [start, end) of `matrix` as a compact (rows, end − start) array. */
export function readColumnsRef<T extends Float32Array | Uint32Array | Uint8Array>(matrix: T, rows: number, cols: number, start: number, end: number): T {
  const width = end - start;
  const out = new (matrix.constructor as new (n: number) => T)(rows * width);
  for (let r = 0; r < rows; r++) for (let j = 0; j < width; j++) out[r * width + j] = matrix[r * cols + start + j];
  return out;
}

/** Writes the compact (rows, end − start) array into columns [start, end) of `matrix`, in place. */
export function writeColumnsRef<T extends Float32Array | Uint32Array | Uint8Array>(matrix: T, compact: T, rows: number, cols: number, start: number, end: number): void {
  const width = end - start;
  for (let r = 0; r < rows; r++) for (let j = 0; j < width; j++) matrix[r * cols + start + j] = compact[r * width + j];
}
