// What a compression run reports: per stage, per layer and in total. Sizes are measured (the ONNX
// file as written) or ESTIMATED (a sparse encoding nobody wrote; see storage.ts) — field names
// say which. Backends are typed (src/core/job/backend.ts), rendered by the UI and the CLI.
import type { BackendUse, RunBackends } from '../job/backend.ts';
import type { LinearLayer, LinearRole } from '../model/types.ts';
import type { CalibrationMode, Recipe } from '../recipe/types.ts';
import type { Allocation } from './allocate.ts';
import type { RelativeErrorBasis } from './jobs.ts';
import type { RunLatency } from '../latency/runLatency.ts';

export interface PatternCheck {
  ok: boolean;
  /** What was checked, e.g. "every 4 consecutive inputs of a row keep <= 2". */
  rule: string;
  violations: string[];
}

/** One layer as a prune stage left it. */
export interface LayerPruneReport {
  id: string;
  name: string;
  block: number | null;
  role: LinearRole;
  /** Index of the recipe stage that wrote this row. */
  stage: number;
  /** [C_out, C_in] */
  shape: [number, number];
  /** Pattern the layer was pruned to, e.g. "unstructured 0.5", "2:4". */
  pattern: string;
  targetSparsity: number;
  /** Zeros / elements of the pruned weight. */
  achievedSparsity: number;
  /**
   * ‖WX − ŴX‖_F / ‖WX‖_F on the calibration inputs of this layer: exact from H where its pass
   * collected H (SparseGPT; the dense pass of the sensitivity allocator), else an ESTIMATE on a
   * seeded sample of input tokens (Wanda; magnitude with an allocator); null without calibration.
   */
  relativeError: number | null;
  /** 'hessian' (exact, all calibration tokens) or 'sampled' (estimate); null with relativeError. */
  relativeErrorBasis: RelativeErrorBasis | null;
  /** The tokens behind relativeError: n for H, the sample's size for an estimate. */
  relativeErrorTokens: number | null;
  ms: number;
  /** What ran the layer's job. */
  backend: BackendUse;
  patternCheck: PatternCheck;
  /** ESTIMATED sparse-encoded bytes of this weight (storage.ts); dense fp32 is 4·C_out·C_in. */
  estimatedSparseBytes: number;
}

/** A row's relative error for tables: an estimate is marked "≈"; "-" (or `none`) when there is none. */
export function formatRelativeError(row: Pick<LayerPruneReport, 'relativeError' | 'relativeErrorBasis'>, none = '-'): string {
  if (row.relativeError === null) return none;
  return `${row.relativeErrorBasis === 'sampled' ? '≈' : ''}${row.relativeError.toFixed(4)}`;
}

/** What a row's error was measured on: "H, 4096 tokens", "estimate, 256 sampled tokens", or `none`. */
export function describeRelativeErrorBasis(row: Pick<LayerPruneReport, 'relativeErrorBasis' | 'relativeErrorTokens'>, none = '-'): string {
  const tokens = row.relativeErrorTokens === null ? '' : `, ${row.relativeErrorTokens} `;
  if (row.relativeErrorBasis === 'hessian') return `H${tokens}${tokens ? 'tokens' : ''}`;
  if (row.relativeErrorBasis === 'sampled') return `estimate${tokens}${tokens ? 'sampled tokens' : ''}`;
  return none;
}

/**
 * One layer whose shape a shape-changing stage (issue 14) changed: heads or neurons removed,
 * the embedding dimension sliced, or the layer factorised (low rank, BitStack).
 */
export interface LayerShapeReport {
  /** The layer's id in the analysis of the model the stage received. */
  id: string;
  name: string;
  block: number | null;
  role: LinearRole;
  stage: number;
  /** [C_out, C_in] before the stage. */
  before: [number, number];
  /** [C_out, C_in] after (a factorised layer keeps its outer shape; see rank). */
  after: [number, number];
  /** What changed: 'heads', 'neurons', 'slice', 'rank', 'bitstack'. */
  change: 'heads' | 'neurons' | 'slice' | 'rank' | 'bitstack';
  /** Heads or neurons (or embedding directions) removed, by their index in the input model. */
  removed?: number[];
  /** A factorised layer's rank (low rank), or BitStack's kept steps. */
  rank?: number;
  /** Parameters the layer stores before and after (two factors count both). */
  paramsBefore: number;
  paramsAfter: number;
  /** ‖WX − ŴX‖_F / ‖WX‖_F on calibration inputs where the stage computed it; else null. */
  relativeError: number | null;
  /** One line: "removed heads 1, 3 of 4", "rank 24 of 128 (91 % energy)". */
  detail: string;
}

/** The part of a LayerShapeReport row that comes from the layer as the stage received it. */
export function shapeRowOf(layer: LinearLayer, stage: number): Pick<LayerShapeReport, 'id' | 'name' | 'block' | 'role' | 'stage' | 'before' | 'paramsBefore'> {
  return { id: layer.id, name: layer.name, block: layer.block, role: layer.role, stage, before: [layer.outFeatures, layer.inFeatures], paramsBefore: layer.params };
}

/** What one recipe stage did. Kinds add their own fields (a prune stage: its allocation). */
export interface StageReport {
  kind: string;
  /** Position in recipe.stages. */
  index: number;
  /** The stage kind's describe(). */
  summary: string;
  /** Per-layer rows, in model order (a stage that keeps none leaves it empty). */
  layers: LayerPruneReport[];
  /** Time spent in the stage (planning and applying), calibration excluded. */
  ms: number;
}

export interface PruneStageReport extends StageReport {
  kind: 'prune';
  allocation: Omit<Allocation, 'patterns' | 'sparsity'>;
  /** SparseGPT with joint quantization: a quantize-stage row per layer (absent otherwise). */
  quantized?: LayerQuantReport[];
}

export const isPruneStageReport = (report: StageReport): report is PruneStageReport => report.kind === 'prune';

/** One layer as a quantize stage left it. */
export interface LayerQuantReport {
  id: string;
  name: string;
  block: number | null;
  role: LinearRole;
  stage: number;
  /** [C_out, C_in] */
  shape: [number, number];
  method: string;
  /** "4-bit asym, groups of 32", "MXFP4 (E2M1)". */
  format: string;
  /** Stored bits per weight of the format, scales and zero points included (analytic). */
  bitsPerWeight: number;
  /** How the file stores it: packed (MatMulNBits), or simulated (dequantized float weights). */
  export: 'packed' | 'simulated';
  /** Why a layer was simulated when the stage's export was 'auto'. */
  simulatedBecause?: string;
  /** ANALYTIC bytes of the layer in its format (weights, scales, zero points, g_idx). */
  packedBytes: number;
  /** packedBytes by what the bytes hold (they add up to it). */
  parts: LayerPackedParts;
  /**
   * AWQ: the searched ratio α, the layers sharing the scale (this one included), where 1/s is in
   * the file, and the bytes of packedBytes that are that 1/s (a Mul's C_in float32, counted with
   * its group's first layer; 0 when folded or simulated).
   */
  awq?: { alpha: number; sharedWith: string[]; inverseScale: string; scaleBytes: number };
  relativeError: number | null;
  relativeErrorBasis: 'hessian' | 'sampled' | null;
  relativeErrorTokens: number | null;
  /** Weights that were exactly zero before the stage (an earlier prune stage) and still are. */
  zerosKept: number;
  /** Of those, weights GPTQ's updates had moved and that were set back to zero (code = zero point). */
  rezeroed: number;
  ms: number;
  backend: BackendUse;
  /** With mixed precision or widths set by hand (compress/mixedPrecision.ts). */
  width?: LayerWidthReport;
}

/** A layer's code width and where it came from; with `mixed`, its measured sensitivity row. */
export interface LayerWidthReport {
  bits: number;
  from: 'allocation' | 'set' | 'stage';
  /** tr((W − Ŵ_b) H (W − Ŵ_b)ᵀ) of the layer alone at each candidate width b, on the dense model. */
  sensitivity?: { bits: number; error: number }[];
}

/** The stage's mixed-precision allocation (quant/mixed.ts). */
export interface MixedPrecisionReport {
  targetBits: number;
  candidates: number[];
  /** Σ b_l·numel_l / Σ numel_l: the code bits the target bounds. */
  averageCodeBits: number;
  /** The same with scales, zero points (and AWQ's scales) counted: Σ packedBytes·8 / Σ numel_l. */
  averageStoredBits: number;
  /** Σ of the chosen layers' sensitivities (the DP's objective, layers set by hand excluded). */
  sensitivityTotal: number;
  /** False when the DP rounded its budget to a coarser unit. */
  exact: boolean;
  /** Layers whose width was set by hand (bitsByLayer). */
  setByHand: number;
  /** Sensitivity measurement and allocation. */
  ms: number;
}

export interface QuantizeStageReport extends StageReport {
  kind: 'quantize';
  quantized: LayerQuantReport[];
  mixed?: MixedPrecisionReport;
}

export const isQuantizeStageReport = (report: StageReport): report is QuantizeStageReport => report.kind === 'quantize';

/**
 * ANALYTIC parts of analyticQuantizedFileBytes: the quantized layers' codes, scales (MX's E8M0
 * block scales and AWQ's per-input scale among them), zero points and act-order group indices
 * (analyticPackedBytes), and the unquantized rest — the file as written less the quantized
 * layers' stored weights: embeddings, norms, biases, unquantized layers, the graph itself.
 */
export interface LayerPackedParts {
  /** The codes (MX: the elements). */
  weights: number;
  /** Group scales (MX: E8M0 block scales), and AWQ's 1/s where it is a Mul. */
  scales: number;
  zeroPoints: number;
  /** Act-order's int32 g_idx. */
  groupIndex: number;
  /** Weights kept in float32 inside a quantized layer (QUIK's outlier columns, with both column lists). */
  floatColumns: number;
}

export interface AnalyticFileParts extends LayerPackedParts {
  /** Everything not quantized: embeddings, norms, biases, the head, the graph. */
  rest: number;
}

export interface CompressTotals {
  /** Layers a prune stage changed (not those only quantized), their weight elements and the zeros among them. */
  prunedLayers: number;
  prunedParams: number;
  prunedZeros: number;
  /** prunedZeros / prunedParams. */
  achievedSparsityPruned: number;
  /** Weight elements of all linear layers (changed or not) and the zeros among them. */
  linearParams: number;
  linearZeros: number;
  achievedSparsityAllLinear: number;
  /** Measured: bytes of the compressed model as written (dense storage, zeros included). */
  denseFileBytes: number;
  /** ESTIMATED: the same file with the pruned weights in a sparse encoding (storage.ts). */
  estimatedSparseFileBytes: number;
  /** ANALYTIC: the file with every quantized layer in its format (packed or not) and the rest as stored. */
  analyticQuantizedFileBytes: number | null;
  /** analyticQuantizedFileBytes split by what the bytes hold; null with it. */
  analyticParts: AnalyticFileParts | null;
  /** Quantized layers written packed (MatMulNBits) and simulated (dequantized floats). */
  packedLayers: number;
  simulatedLayers: number;
}

export interface CalibrationSummary {
  mode: CalibrationMode;
  samples: number;
  seed: number;
  /** Sessions opened for calibration (one per sequential step, plus the dense pass when needed). */
  passes: number;
  ms: number;
  /**
   * The sequential walk's path: block by block on per-block sessions, or the whole model per step
   * (a graph that cannot be cut; the notes say why). Absent when no walk ran.
   */
  sequence?: 'blockwise' | 'whole-model';
}

export interface CompressReport {
  recipe: Recipe;
  /** describeRecipe(recipe) */
  summary: string;
  stages: StageReport[];
  /** Every prune stage's per-layer rows, stage by stage. */
  layers: LayerPruneReport[];
  /** Every quantize stage's per-layer rows, stage by stage. */
  quantized: LayerQuantReport[];
  /** Every shape-changing stage's rows (heads, neurons, slices, ranks), stage by stage; absent in runs recorded before issue 14. */
  reshaped?: LayerShapeReport[];
  totals: CompressTotals;
  /** null when no stage needed calibration (magnitude, uniform). */
  calibration: CalibrationSummary | null;
  backends: RunBackends;
  /**
   * SHA-256 of the changed layers' weights: for each changed layer in model order, its initializer
   * bytes as stored (float32 little-endian). And of the whole written file.
   */
  weightsSha256: string;
  fileSha256: string;
  timings: { totalMs: number; calibrationMs: number; stagesMs: number; planMs: number };
  notes: string[];
  /**
   * MEASURED latency of the dense and the compressed model on the backend that ran them, added
   * after compression by whoever ran it (the model worker, `lab run`); absent in runs made before
   * it existed and with `lab run --no-latency`.
   */
  latency?: RunLatency;
}

/** An AWQ row's scale in words: "α 0.45, scale folded into ln1, shared by q_proj, k_proj, v_proj". */
export function describeAwqScale(awq: NonNullable<LayerQuantReport['awq']>): string {
  const shared = awq.sharedWith.length > 1 ? `, shared by ${awq.sharedWith.map((name) => name.split('.').pop()).join(', ')}` : '';
  return `α ${awq.alpha.toFixed(2)}, ${awq.inverseScale}${shared}`;
}
