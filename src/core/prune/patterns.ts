// Sparsity patterns and their validation. N is always the number of weights KEPT per group of M
// consecutive input columns. The reference code (wanda prune_wanda, sparsegpt fasterprune) calls
// the number *pruned* `prune_n` / `prunen`, so its "2:4" is ours too but its 4:8 call prunes 4
// and our {n: 1, m: 4} is its prune_n = 3.
import { PruneError } from './types.ts';

export type SparsityPattern =
  /** Any `sparsity` fraction of the weights, chosen by score within a comparison group. */
  | { kind: 'unstructured'; sparsity: number }
  /** At most n non-zeros in every group of m consecutive input columns of a row. */
  | { kind: 'nm'; n: number; m: number }
  /**
   * VENOM (Castro et al. 2023): tiles of v rows x m columns; each tile keeps 4 columns shared by
   * its v rows and each row keeps 2 of those 4. Density 2/m.
   */
  | { kind: 'vnm'; v: number; n: 2; m: number };

/** VENOM's hardware format: 4 shared columns per tile, 2 kept per row. */
export const VNM_SHARED_COLUMNS = 4;
export const VNM_KEPT_PER_ROW = 2;

export const unstructured = (sparsity: number): SparsityPattern => ({ kind: 'unstructured', sparsity });

/** The fraction of weights the pattern prunes (for unstructured, the requested one). */
export function patternSparsity(pattern: SparsityPattern): number {
  switch (pattern.kind) {
    case 'unstructured':
      return pattern.sparsity;
    case 'nm':
      return 1 - pattern.n / pattern.m;
    case 'vnm':
      return 1 - VNM_KEPT_PER_ROW / pattern.m;
  }
}

export function describePattern(pattern: SparsityPattern): string {
  switch (pattern.kind) {
    case 'unstructured':
      return `unstructured ${pattern.sparsity}`;
    case 'nm':
      return `${pattern.n}:${pattern.m}`;
    case 'vnm':
      return `${pattern.v}:${pattern.n}:${pattern.m}`;
  }
}

const isPositiveInteger = (value: number) => Number.isInteger(value) && value > 0;

/** Throws a PruneError saying what is wrong; a pattern that passes can prune a rows x cols weight. */
export function validateSparsity(sparsity: number, label = 'sparsity'): void {
  if (!(sparsity >= 0 && sparsity < 1)) {
    throw new PruneError(`${label} must be in [0, 1), got ${sparsity}`);
  }
}

export function validatePattern(pattern: SparsityPattern, rows: number, cols: number): void {
  switch (pattern.kind) {
    case 'unstructured':
      validateSparsity(pattern.sparsity);
      return;
    case 'nm':
      validateGroups(pattern.n, pattern.m, cols, 'N:M');
      if (pattern.n >= pattern.m) {
        throw new PruneError(`N:M needs N < M (N is the number kept per group of M), got ${pattern.n}:${pattern.m}`);
      }
      return;
    case 'vnm': {
      const n: number = pattern.n; // typed 2, but patterns also arrive from URLs and files
      if (n !== VNM_KEPT_PER_ROW) {
        throw new PruneError(`V:N:M keeps N = ${VNM_KEPT_PER_ROW} per row (VENOM's format), got N = ${n}`);
      }
      validateGroups(pattern.n, pattern.m, cols, 'V:N:M');
      if (pattern.m < VNM_SHARED_COLUMNS) {
        throw new PruneError(`V:N:M needs M >= ${VNM_SHARED_COLUMNS} (4 shared columns per tile), got M = ${pattern.m}`);
      }
      if (!isPositiveInteger(pattern.v) || rows % pattern.v !== 0) {
        throw new PruneError(`V:N:M needs V to divide C_out: V = ${pattern.v} does not divide ${rows} rows`);
      }
      return;
    }
  }
}

/**
 * Groups never straddle the end of a row: M must divide C_in (no ragged tail group; the
 * reference's topk over a short tail would prune a different fraction or fail).
 */
function validateGroups(n: number, m: number, cols: number, name: string): void {
  if (!isPositiveInteger(n) || !isPositiveInteger(m)) {
    throw new PruneError(`${name}: N and M must be positive integers, got ${n}:${m}`);
  }
  if (cols % m !== 0) {
    throw new PruneError(`${name}: M = ${m} must divide C_in = ${cols} (ragged tail groups are not supported)`);
  }
}
