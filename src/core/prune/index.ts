// Public API of the pruning methods' math (CPU reference path). See docs/pruning.md.
export { PruneError, type KeepMask, type LayerStats, type Matrix, type PruneResult } from './types.ts';
export {
  describePattern,
  patternProblems,
  patternSparsity,
  unstructured,
  validatePattern,
  validateSparsity,
  VNM_KEPT_PER_ROW,
  VNM_SHARED_COLUMNS,
  type PatternTarget,
  type SparsityPattern,
} from './patterns.ts';
export { PRUNE_METHODS, type PruneMethod } from './methods.ts';
export { applyKeepMask, keepGlobal, keepNM, keepPerLayer, keepPerRow, type Importance } from './masks.ts';
export { keepVNM } from './vnm.ts';
export { keepForPattern, type ComparisonGroup } from './patternMask.ts';
export { checkNM, checkVNM, countPruned } from './invariants.ts';
export { magnitudePrune, magnitudePruneGlobal, magnitudeScores } from './magnitude.ts';
export { wandaPrune, wandaScores } from './wanda.ts';
export { sparseGptPrune, type SparseGptOptions, type SparseGptResult } from './sparsegpt.ts';
export { choleskyLower, hessianInverseCholesky } from './hessianInverse.ts';
export { relativeReconstructionError, type ReconstructionData } from './reconstruction.ts';
export * from './allocation/index.ts';
