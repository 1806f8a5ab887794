// Pattern invariants, checked exactly. Each checker returns the violations it finds (at most
// `limit`), so a test can `expect(checkNM(...)).toEqual([])` and read what broke.
import type { KeepMask } from './types.ts';
import { VNM_KEPT_PER_ROW, VNM_SHARED_COLUMNS } from './patterns.ts';

const LIMIT = 5;

export function countPruned(keep: KeepMask): number {
  let pruned = 0;
  for (let i = 0; i < keep.data.length; i++) if (keep.data[i] === 0) pruned++;
  return pruned;
}

/** Every group of m consecutive columns of a row keeps at most n weights. */
export function checkNM(keep: KeepMask, n: number, m: number): string[] {
  const violations: string[] = [];
  if (keep.cols % m !== 0) return [`C_in = ${keep.cols} is not a multiple of M = ${m}`];
  for (let r = 0; r < keep.rows && violations.length < LIMIT; r++) {
    for (let c0 = 0; c0 < keep.cols; c0 += m) {
      let kept = 0;
      for (let c = c0; c < c0 + m; c++) kept += keep.data[r * keep.cols + c];
      if (kept > n) violations.push(`row ${r}, columns ${c0}..${c0 + m - 1}: ${kept} kept > N = ${n}`);
    }
  }
  return violations.slice(0, LIMIT);
}

/** Every v x m tile keeps weights in at most 4 distinct columns and at most 2 per row. */
export function checkVNM(keep: KeepMask, v: number, m: number): string[] {
  const violations: string[] = [];
  if (keep.rows % v !== 0 || keep.cols % m !== 0) {
    return [`${keep.rows} x ${keep.cols} is not tiled by ${v} x ${m}`];
  }
  for (let r0 = 0; r0 < keep.rows && violations.length < LIMIT; r0 += v) {
    for (let c0 = 0; c0 < keep.cols; c0 += m) {
      const usedColumns = new Set<number>();
      for (let r = r0; r < r0 + v; r++) {
        let kept = 0;
        for (let c = c0; c < c0 + m; c++) {
          if (keep.data[r * keep.cols + c] === 0) continue;
          kept++;
          usedColumns.add(c);
        }
        if (kept > VNM_KEPT_PER_ROW) violations.push(`row ${r}, tile at column ${c0}: ${kept} kept > ${VNM_KEPT_PER_ROW}`);
      }
      if (usedColumns.size > VNM_SHARED_COLUMNS) {
        violations.push(`tile (${r0}, ${c0}): ${usedColumns.size} columns used > ${VNM_SHARED_COLUMNS}`);
      }
    }
  }
  return violations.slice(0, LIMIT);
}

/** Every rows × cols group (1×4 or 4×1) is all kept or all pruned. */
export function checkBlocks(keep: KeepMask, rows: number, cols: number): string[] {
  if (keep.rows % rows !== 0 || keep.cols % cols !== 0) return [`${keep.rows} x ${keep.cols} is not tiled by ${rows}×${cols} groups`];
  const violations: string[] = [];
  for (let r0 = 0; r0 < keep.rows && violations.length < LIMIT; r0 += rows) {
    for (let c0 = 0; c0 < keep.cols && violations.length < LIMIT; c0 += cols) {
      let kept = 0;
      for (let r = r0; r < r0 + rows; r++) for (let c = c0; c < c0 + cols; c++) kept += keep.data[r * keep.cols + c];
      if (kept !== 0 && kept !== rows * cols) violations.push(`group at row ${r0}, column ${c0}: ${kept} of ${rows * cols} kept (all or none)`);
    }
  }
  return violations;
}
