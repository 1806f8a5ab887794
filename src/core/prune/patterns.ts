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
  | { kind: 'vnm'; v: number; n: 2; m: number }
  /**
   * Fine-grained group sparsity (SparseByteNN, Xu et al. 2023): whole groups of 4 weights are
   * kept or zeroed, 1×4 (four consecutive input columns of one output row) or 4×1 (four
   * consecutive output rows of one input column); `sparsity` of the groups are pruned.
   */
  | { kind: 'block'; rows: BlockRows; cols: BlockCols; sparsity: number };

/** A block group is 1×4 or 4×1: 4 weights that a sparse kernel loads and multiplies together. */
export type BlockRows = 1 | 4;
export type BlockCols = 4 | 1;
export const BLOCK_GROUP_SIZE = 4;
export const BLOCK_SHAPES = [
  { rows: 1, cols: 4 },
  { rows: 4, cols: 1 },
] as const;

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
    case 'block':
      return pattern.sparsity;
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
    case 'block':
      return `${pattern.rows}×${pattern.cols} blocks ${pattern.sparsity}`;
  }
}

/** Columns a pattern's groups span (M for N:M and V:N:M, 4 or 1 for blocks): what must divide SparseGPT's blockSize. */
export function patternGroupColumns(pattern: Exclude<SparsityPattern, { kind: 'unstructured' }>): number {
  return pattern.kind === 'block' ? pattern.cols : pattern.m;
}

const isPositiveInteger = (value: number) => Number.isInteger(value) && value > 0;

/** A weight a pattern is checked against: (rows = C_out, cols = C_in), named in messages when `name` is set. */
export interface PatternTarget {
  rows: number;
  cols: number;
  name?: string;
}

const LISTED_TARGETS = 4;

/** "of a (4 x 10); b (4 x 10); and 3 more" when the targets are named. */
function whichTargets(targets: readonly PatternTarget[]): string {
  const named = targets.filter((t) => t.name !== undefined);
  if (named.length === 0) return '';
  const shown = named.slice(0, LISTED_TARGETS).map((t) => `${t.name} (${t.rows} x ${t.cols})`).join('; ');
  return ` in ${shown}${named.length > LISTED_TARGETS ? `; and ${named.length - LISTED_TARGETS} more` : ''}`;
}

/** `targets` grouped by a failing dimension: one message per distinct value. */
function perValue(targets: readonly PatternTarget[], failing: (t: PatternTarget) => boolean, dim: (t: PatternTarget) => number, message: (value: number) => string): string[] {
  const byValue = new Map<number, PatternTarget[]>();
  for (const target of targets.filter(failing)) byValue.set(dim(target), [...(byValue.get(dim(target)) ?? []), target]);
  return [...byValue].map(([value, group]) => message(value) + whichTargets(group));
}

/**
 * The one validator of a sparsity pattern: every reason it cannot prune the given weights, as
 * sentences ([] when it can). Recipes, the UI and every pruning function (validatePattern) use it.
 */
export function patternProblems(pattern: SparsityPattern, targets: readonly PatternTarget[]): string[] {
  switch (pattern.kind) {
    case 'unstructured':
      return pattern.sparsity >= 0 && pattern.sparsity < 1 ? [] : [`sparsity must be in [0, 1), got ${pattern.sparsity}`];
    case 'nm': {
      const problems = groupProblems(pattern.n, pattern.m, targets, 'N:M');
      if (problems.length === 0 && pattern.n >= pattern.m) problems.push(`N:M needs N < M (N is the number kept per group of M), got ${pattern.n}:${pattern.m}`);
      return problems;
    }
    case 'vnm': {
      const n: number = pattern.n; // typed 2, but patterns also arrive from URLs and files
      if (n !== VNM_KEPT_PER_ROW) return [`V:N:M keeps N = ${VNM_KEPT_PER_ROW} per row (VENOM's format), got N = ${n}`];
      const problems = groupProblems(pattern.n, pattern.m, targets, 'V:N:M');
      if (problems.length > 0) return problems;
      if (pattern.m < VNM_SHARED_COLUMNS) return [`V:N:M needs M >= ${VNM_SHARED_COLUMNS} (4 shared columns per tile), got M = ${pattern.m}`];
      if (!isPositiveInteger(pattern.v)) return [`V:N:M needs V to be a positive integer, got V = ${pattern.v}`];
      const v = pattern.v;
      return perValue(targets, (t) => t.rows % v !== 0, (t) => t.rows, (rows) => `V:N:M needs V to divide C_out: V = ${v} does not divide ${rows} rows`);
    }
    case 'block':
      return blockProblems(pattern, targets);
  }
}

function blockProblems(pattern: Extract<SparsityPattern, { kind: 'block' }>, targets: readonly PatternTarget[]): string[] {
  const { rows, cols, sparsity } = pattern;
  if (!BLOCK_SHAPES.some((shape) => shape.rows === rows && shape.cols === cols)) return [`block groups are 1×4 or 4×1 (SparseByteNN's groups), got ${rows}×${cols}`];
  if (!(sparsity >= 0 && sparsity < 1)) return [`sparsity must be in [0, 1), got ${sparsity}`];
  if (cols > 1) return perValue(targets, (t) => t.cols % cols !== 0, (t) => t.cols, (c) => `1×4 blocks need C_in to be a multiple of 4, got C_in = ${c}`);
  return perValue(targets, (t) => t.rows % rows !== 0, (t) => t.rows, (r) => `4×1 blocks need C_out to be a multiple of 4, got C_out = ${r}`);
}

/**
 * Groups never straddle the end of a row: M must divide C_in (no ragged tail group; the
 * reference's topk over a short tail would prune a different fraction or fail).
 */
function groupProblems(n: number, m: number, targets: readonly PatternTarget[], name: string): string[] {
  if (!isPositiveInteger(n) || !isPositiveInteger(m)) return [`${name}: N and M must be positive integers, got ${n}:${m}`];
  return perValue(targets, (t) => t.cols % m !== 0, (t) => t.cols, (cols) => `${name}: M = ${m} must divide C_in = ${cols} (ragged tail groups are not supported)`);
}

/** Throws a PruneError saying what is wrong; a sparsity that passes is in [0, 1). */
export function validateSparsity(sparsity: number, label = 'sparsity'): void {
  if (!(sparsity >= 0 && sparsity < 1)) {
    throw new PruneError(`${label} must be in [0, 1), got ${sparsity}`);
  }
}

/** Throws a PruneError with patternProblems' first sentence; a pattern that passes can prune a rows x cols weight. */
export function validatePattern(pattern: SparsityPattern, rows: number, cols: number): void {
  const problems = patternProblems(pattern, [{ rows, cols }]);
  if (problems.length > 0) throw new PruneError(problems[0]);
}
