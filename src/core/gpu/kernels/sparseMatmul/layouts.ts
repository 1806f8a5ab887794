// The layouts the sparse-speed measurement compares, and the pruned weight of each: 2:4 and 50 %
// block groups chosen as the prune stage chooses them (keepForPattern on |W|, per row).
import { mulberry32 } from '../../../calibrate/random';
import { applyKeepMask } from '../../../prune/masks';
import { keepForPattern } from '../../../prune/patternMask';
import type { SparsityPattern } from '../../../prune/patterns';
import { packBlockSparse, packSparse24, type BlockSparseWeight, type DenseWeight, type Sparse24Weight } from './sparseFormats';

/** One linear layer's matmul: Y (tokens, C_out) = X (tokens, C_in) · Wᵀ. */
export interface LayerShape {
  label: string;
  tokens: number;
  outFeatures: number;
  inFeatures: number;
}

/** The bundled LM (kjv-charlm: d = 128, MLP 512) at its full context of 128 tokens. */
export const BUNDLED_LM_SHAPES: LayerShape[] = [
  { label: 'attention q/k/v/o', tokens: 128, outFeatures: 128, inFeatures: 128 },
  { label: 'MLP up', tokens: 128, outFeatures: 512, inFeatures: 128 },
  { label: 'MLP down', tokens: 128, outFeatures: 128, inFeatures: 512 },
];

/** GPT-2 small (d = 768, MLP 3072) at 128 tokens. */
export const GPT2_SMALL_SHAPES: LayerShape[] = [
  { label: 'GPT-2 attention', tokens: 128, outFeatures: 768, inFeatures: 768 },
  { label: 'GPT-2 MLP up', tokens: 128, outFeatures: 3072, inFeatures: 768 },
  { label: 'GPT-2 MLP down', tokens: 128, outFeatures: 768, inFeatures: 3072 },
];

/** Seeded X (tokens × C_in, in [-1, 1)) and dense W (in [-0.1, 0.1)) for a shape: the kernels' speed does not depend on the distribution. */
export function layerOperands(shape: LayerShape, seed = 1): { x: Float32Array; weight: DenseWeight } {
  const random = mulberry32(seed);
  const values = (length: number, scale: number) => Float32Array.from({ length }, () => scale * (2 * random() - 1));
  const weight = { outFeatures: shape.outFeatures, inFeatures: shape.inFeatures, data: values(shape.outFeatures * shape.inFeatures, 0.1) };
  return { weight, x: values(shape.tokens * shape.inFeatures, 1) };
}

/** A weight in one of the three layouts the kernels read. */
export type MatmulWeight = { layout: 'dense'; weight: DenseWeight } | { layout: '2:4'; weight: Sparse24Weight } | { layout: 'block'; weight: BlockSparseWeight };

/** What is timed: the dense kernel (the baseline), 2:4, and 50 % block groups (SparseByteNN). */
export const SPARSE_LAYOUTS = ['dense', '2:4', 'block 1×4', 'block 4×1'] as const;
export type SparseLayout = (typeof SPARSE_LAYOUTS)[number];

const BLOCK_SPARSITY = 0.5;

/** The pruned weight of each layout: 2:4 and 50 % blocks chosen by |W| per row (magnitude, as the prune stage does). */
export function layoutWeight(dense: DenseWeight, layout: SparseLayout): MatmulWeight {
  const prune = (pattern: SparsityPattern) => {
    const weight = { rows: dense.outFeatures, cols: dense.inFeatures, data: dense.data };
    const scores = { rows: weight.rows, cols: weight.cols, data: dense.data.map(Math.abs) };
    return { ...dense, data: applyKeepMask(weight, keepForPattern(scores, pattern, 'row')).weight.data };
  };
  switch (layout) {
    case 'dense':
      return { layout: 'dense', weight: dense };
    case '2:4':
      return { layout: '2:4', weight: packSparse24(prune({ kind: 'nm', n: 2, m: 4 })) };
    case 'block 1×4':
      return { layout: 'block', weight: packBlockSparse(prune({ kind: 'block', rows: 1, cols: 4, sparsity: BLOCK_SPARSITY }), { rows: 1, cols: 4 }) };
    case 'block 4×1':
      return { layout: 'block', weight: packBlockSparse(prune({ kind: 'block', rows: 4, cols: 1, sparsity: BLOCK_SPARSITY }), { rows: 4, cols: 1 }) };
  }
}

/** Share of the weights that are zero in the stored layout (a stored value may itself be 0). */
export function zeroShare(weight: MatmulWeight): number {
  if (weight.layout === 'dense') return 0;
  const total = weight.weight.outFeatures * weight.weight.inFeatures;
  const stored = weight.weight.values.filter((v) => v !== 0).length;
  return 1 - stored / total;
}

