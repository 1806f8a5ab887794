// What a pruning run reports: per layer and in total. Sizes are measured (the ONNX file as
// written) or ESTIMATED (a sparse encoding nobody wrote; see storage.ts) — field names say which.
import type { Allocation } from './allocate.ts';
import type { PruneRecipe } from '../recipe/types.ts';
import type { LinearRole } from '../model/types.ts';

export interface PatternCheck {
  ok: boolean;
  /** What was checked, e.g. "every 4 consecutive inputs of a row keep <= 2". */
  rule: string;
  violations: string[];
}

export interface LayerPruneReport {
  id: string;
  name: string;
  block: number | null;
  role: LinearRole;
  /** [C_out, C_in] */
  shape: [number, number];
  /** Pattern the layer was pruned to, e.g. "unstructured 0.5", "2:4". */
  pattern: string;
  targetSparsity: number;
  /** Zeros / elements of the pruned weight. */
  achievedSparsity: number;
  /** ‖WX − ŴX‖_F / ‖WX‖_F on the calibration inputs of this layer, from H; null without calibration. */
  relativeError: number | null;
  ms: number;
  backend: string;
  patternCheck: PatternCheck;
  /** ESTIMATED sparse-encoded bytes of this weight (storage.ts); dense fp32 is 4·C_out·C_in. */
  estimatedSparseBytes: number;
}

export interface PruneTotals {
  prunedLayers: number;
  /** Weight elements of the pruned layers, and the zeros among them. */
  prunedParams: number;
  prunedZeros: number;
  /** prunedZeros / prunedParams. */
  achievedSparsityPruned: number;
  /** Weight elements of all linear layers (pruned or not) and the zeros among them. */
  linearParams: number;
  linearZeros: number;
  achievedSparsityAllLinear: number;
  /** Measured: bytes of the pruned model as written (dense storage, zeros included). */
  denseFileBytes: number;
  /** ESTIMATED: the same file with the pruned weights in a sparse encoding (storage.ts). */
  estimatedSparseFileBytes: number;
}

export interface CalibrationSummary {
  mode: PruneRecipe['calibration']['mode'];
  samples: number;
  seed: number;
  /** Sessions opened for calibration (one per sequential stage, plus the dense pass when needed). */
  passes: number;
  ms: number;
}

export interface PruneReport {
  recipe: PruneRecipe;
  /** describeRecipe(recipe) */
  summary: string;
  layers: LayerPruneReport[];
  allocation: Omit<Allocation, 'patterns' | 'sparsity'>;
  totals: PruneTotals;
  /** null when no calibration ran (magnitude, uniform). */
  calibration: CalibrationSummary | null;
  /**
   * SHA-256 of the pruned layers' weights: for each pruned layer in model order, its initializer
   * bytes as stored (float32 little-endian). And of the whole written file.
   */
  weightsSha256: string;
  fileSha256: string;
  timings: { totalMs: number; calibrationMs: number; pruneMs: number; allocationMs: number };
  notes: string[];
}
