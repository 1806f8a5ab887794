// ESTIMATED storage of a pruned weight in a sparse format. Nothing here writes such a file: the
// lab stores pruned weights densely in ONNX (zeros included), and these numbers say what a
// sparse encoding of the same values would take, to compare patterns.
//   unstructured  a bitmask (1 bit per weight) + fp32 values of the non-zeros
//   N:M           N fp32 values per group of M + a ⌈log₂M⌉-bit index per kept value
//   V:N:M         2 fp32 values per row per V×M tile + a 2-bit index each (which of the tile's
//                 4 columns) + 4 column indices of ⌈log₂M⌉ bits per tile (VENOM's format)
//   block         4 fp32 values per kept 1×4 / 4×1 group + a bitmask of 1 bit per group (the
//                 lab's kernels read the compressed-rows layout instead: docs/sparse-speed.md)
import type { SparsityPattern } from '../prune/patterns.ts';
import { BLOCK_GROUP_SIZE, VNM_KEPT_PER_ROW, VNM_SHARED_COLUMNS } from '../prune/patterns.ts';

const FLOAT32_BYTES = 4;
const bitsToBytes = (bits: number) => Math.ceil(bits / 8);

/** Estimated bytes for a rows × cols weight with `nonZeros` non-zero values. */
export function estimatedSparseBytes(pattern: SparsityPattern, rows: number, cols: number, nonZeros: number): number {
  switch (pattern.kind) {
    case 'unstructured':
      return bitsToBytes(rows * cols) + nonZeros * FLOAT32_BYTES;
    case 'nm': {
      const slots = rows * (cols / pattern.m) * pattern.n;
      return slots * FLOAT32_BYTES + bitsToBytes(slots * Math.ceil(Math.log2(pattern.m)));
    }
    case 'vnm': {
      const tiles = (rows / pattern.v) * (cols / pattern.m);
      const values = rows * (cols / pattern.m) * VNM_KEPT_PER_ROW;
      return values * FLOAT32_BYTES + bitsToBytes(values * 2) + bitsToBytes(tiles * VNM_SHARED_COLUMNS * Math.ceil(Math.log2(pattern.m)));
    }
    case 'block': {
      // Kept groups from the non-zeros (a kept group may hold zeros, so this never overcounts them).
      const groups = (rows * cols) / BLOCK_GROUP_SIZE;
      return Math.min(groups, Math.ceil(nonZeros / BLOCK_GROUP_SIZE)) * BLOCK_GROUP_SIZE * FLOAT32_BYTES + bitsToBytes(groups);
    }
  }
}
