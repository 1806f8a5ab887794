// One entry point from (importance, pattern) to a keep mask, shared by the score-based methods.
import type { KeepMask } from './types.ts';
import { keepNM, keepPerLayer, keepPerRow, type Importance } from './masks.ts';
import type { SparsityPattern } from './patterns.ts';
import { keepVNM } from './vnm.ts';
import { keepBlocks } from './blocks.ts';

/** The comparison group of an unstructured mask: each output row, or the whole layer. */
export type ComparisonGroup = 'row' | 'layer';

export function keepForPattern(importance: Importance, pattern: SparsityPattern, group: ComparisonGroup): KeepMask {
  switch (pattern.kind) {
    case 'unstructured':
      return group === 'row' ? keepPerRow(importance, pattern.sparsity) : keepPerLayer(importance, pattern.sparsity);
    case 'nm':
      return keepNM(importance, pattern.n, pattern.m);
    case 'vnm':
      return keepVNM(importance, pattern.v, pattern.m);
    case 'block':
      return keepBlocks(importance, pattern, group);
  }
}
