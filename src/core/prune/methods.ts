// The pruning methods, named once: recipes, jobs, workers, the UI and the bench use this enum.
//   magnitude  |W| (Han et al. 2015; wanda's prune_magnitude)
//   wanda      |W|·‖X_j‖ per output row (Sun et al. 2023)
//   sparsegpt  OBS with the Hessian H = 2/n·XXᵀ and weight updates (Frantar & Alistarh 2023)
export const PRUNE_METHODS = ['magnitude', 'wanda', 'sparsegpt'] as const;
export type PruneMethod = (typeof PRUNE_METHODS)[number];
