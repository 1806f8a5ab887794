// Cosine similarities between output tokens, for TAMP's diversity and token selection.
import type { Matrix } from '../types.ts';
import { assertFinite, assertMatrix } from '../validate.ts';

/** Rows divided by their L2 norm, float64; an all-zero row stays zero (F.normalize's eps). */
export function normalisedRows(tokens: Matrix, label: string): Float64Array {
  assertMatrix(tokens, label);
  assertFinite(tokens.data, label, tokens.cols);
  const { rows, cols, data } = tokens;
  const out = new Float64Array(rows * cols);
  for (let r = 0; r < rows; r++) {
    let norm = 0;
    for (let c = 0; c < cols; c++) norm += data[r * cols + c] ** 2;
    const scale = 1 / Math.max(Math.sqrt(norm), 1e-12);
    for (let c = 0; c < cols; c++) out[r * cols + c] = data[r * cols + c] * scale;
  }
  return out;
}

/** (n, n) Gram matrix of normalised rows: entry (i, j) is cos(token i, token j). */
export function cosineSimilarities(unit: Float64Array, rows: number, cols: number): Float64Array {
  const similarity = new Float64Array(rows * rows);
  for (let i = 0; i < rows; i++) {
    for (let j = i; j < rows; j++) {
      let dot = 0;
      for (let c = 0; c < cols; c++) dot += unit[i * cols + c] * unit[j * cols + c];
      similarity[i * rows + j] = dot;
      similarity[j * rows + i] = dot;
    }
  }
  return similarity;
}

/**
 * Mean of the positive similarities among `members` (pairs i < j), as
 * `upper_triangular[upper_triangular > 0].mean()`; 0 when there is no positive pair (the
 * reference's mean of nothing is NaN).
 */
export function meanPositiveSimilarity(similarity: Float64Array, rows: number, members: readonly number[]): number {
  let sum = 0;
  let count = 0;
  for (let a = 0; a < members.length; a++) {
    for (let b = a + 1; b < members.length; b++) {
      const s = similarity[members[a] * rows + members[b]];
      if (s > 0) {
        sum += s;
        count++;
      }
    }
  }
  return count === 0 ? 0 : sum / count;
}

/** Mean of all similarities between two groups (`torch.mm(v, l.T).mean()`); 0 when either is empty. */
export function meanCrossSimilarity(similarity: Float64Array, rows: number, first: readonly number[], second: readonly number[]): number {
  if (first.length === 0 || second.length === 0) return 0;
  let sum = 0;
  for (const i of first) for (const j of second) sum += similarity[i * rows + j];
  return sum / (first.length * second.length);
}
