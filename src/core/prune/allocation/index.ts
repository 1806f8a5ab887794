// Per-layer sparsity allocation: every allocator returns sparsities in [0, 1) whose mean is the
// target (plain mean for uniform / OWL / sensitivity, parameter-weighted for TAMP).
export { uniformAllocation } from './uniform.ts';
export { owlAllocation, owlOutlierRatio, OWL_HYPER_M, OWL_LAMBDA, type OwlLinear, type OwlOptions } from './owl.ts';
export { meanOutputDiversity, outputDiversity, tampAllocation, TAMP_MAX_SPARSITY_MARGIN, type OutputSample } from './tamp.ts';
export { lastQueryAttention, selectRepresentativeTokens, sqNormOverTokens, AMIA_NEIGHBOURS, type TokenSelection } from './amia.ts';
export { sensitivityAllocation, SENSITIVITY_MAX_SPARSITY, SENSITIVITY_RATIOS } from './sensitivity.ts';
export { MAX_LAYER_SPARSITY, plainMean } from './redistribute.ts';
