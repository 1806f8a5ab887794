// The per-layer checks of the report: the pattern holds on the keep mask, pruned weights are
// exactly zero, and the sparsity reached is at least what was asked (up to ⌊·⌋ rounding).
import { checkBlocks, checkNM, checkVNM } from '../prune/invariants.ts';
import type { SparsityPattern } from '../prune/patterns.ts';
import type { KeepMask, Matrix } from '../prune/types.ts';
import type { PatternCheck } from './report.ts';

export function countZeros(values: ArrayLike<number>): number {
  let zeros = 0;
  for (let i = 0; i < values.length; i++) if (values[i] === 0) zeros++;
  return zeros;
}

export function checkPrunedLayer(weight: Matrix, keep: KeepMask, pattern: SparsityPattern, target: number): PatternCheck {
  const violations: string[] = [];
  let rule: string;
  if (pattern.kind === 'nm') {
    rule = `every ${pattern.m} consecutive inputs of a row keep at most ${pattern.n}`;
    violations.push(...checkNM(keep, pattern.n, pattern.m));
  } else if (pattern.kind === 'vnm') {
    rule = `every ${pattern.v} x ${pattern.m} tile uses at most 4 columns, 2 per row`;
    violations.push(...checkVNM(keep, pattern.v, pattern.m));
  } else if (pattern.kind === 'block') {
    // A group row of 1×4 groups holds C_in / 4 groups, so rounding may leave 4/C_in of a row short.
    rule = `every ${pattern.rows}×${pattern.cols} group is all zero or all kept; at least ${target} pruned, less at most 4/C_in for rounding`;
    violations.push(...checkBlocks(keep, pattern.rows, pattern.cols));
    const achieved = countZeros(keep.data) / keep.data.length;
    if (achieved < target - 4 / weight.cols - 1e-12) violations.push(`pruned ${achieved}, below the target ${target}`);
  } else {
    rule = `at least ${target} of the weights pruned, less at most 1/C_in for rounding`;
    const achieved = countZeros(keep.data) / keep.data.length;
    if (achieved < target - 1 / weight.cols - 1e-12) violations.push(`pruned ${achieved}, below the target ${target}`);
  }
  for (let i = 0; i < keep.data.length && violations.length < 5; i++) {
    if (keep.data[i] === 0 && weight.data[i] !== 0) violations.push(`row ${Math.floor(i / weight.cols)}, column ${i % weight.cols} is pruned but holds ${weight.data[i]}`);
  }
  return { ok: violations.length === 0, rule: `${rule}; pruned weights are exactly 0`, violations };
}
