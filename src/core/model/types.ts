// What the analysis of an ONNX model reports. Notation of docs/ALGORITHMS.md: a linear layer
// computes y = W x with W of shape C_out × C_in (`outFeatures` × `inFeatures`).

/** A tensor dimension: a size, a symbolic name (dim_param), or null when the file says nothing. */
export type Dim = number | string | null;

export interface TensorInfo {
  name: string;
  /** Element type name ('float32', 'int64', ...). */
  dtype: string;
  /** null when the file gives no shape. */
  shape: Dim[] | null;
}

export type LinearRole =
  | 'attn.q'
  | 'attn.k'
  | 'attn.v'
  | 'attn.qkv'
  | 'attn.out'
  | 'mlp.up'
  | 'mlp.gate'
  | 'mlp.down'
  | 'head'
  | 'embed'
  | 'other';

/**
 * Where a role came from: the module path in the node or weight name ('name'), the shape of
 * the graph around the layer ('structure'), or neither (role 'other' by default: 'none').
 */
export type RoleSource = 'name' | 'structure' | 'none';

/**
 * How the stored weight tensor maps to W (C_out × C_in):
 * 'in_out' — stored [C_in, C_out], W is its transpose (MatMul(x, B), torch nn.Linear exports
 * after constant folding, GPT-2 Conv1D, Gemm transB=0);
 * 'out_in' — stored [C_out, C_in] = W (Gemm transB=1, MatMul(x, Transpose(W)), MatMul(W, x)).
 */
export type WeightLayout = 'in_out' | 'out_in';

/** The ops a linear layer's product is: ONNX MatMul and Gemm, and onnxruntime's com.microsoft MatMulNBits. */
export type LinearOp = 'MatMul' | 'Gemm' | 'MatMulNBits';

/**
 * How a MatMulNBits layer stores W: `bits`-wide codes in blocks of `blockSize` inputs, one scale
 * (and zero point) per block; the tensors' names (com.microsoft MatMulNBits spec).
 */
export interface NBitsStorage {
  bits: number;
  blockSize: number;
  scales: string;
  /** null: symmetric, zero point 2^(bits−1). */
  zeroPoints: string | null;
  /** g_idx (act-order block of each input), or null. */
  groupIndex: string | null;
}

/** One MatMul/Gemm/MatMulNBits node that multiplies by the layer's weight. */
export interface LinearUse {
  nodeName: string;
  opType: LinearOp;
  /** The activation operand. */
  input: string;
  /**
   * The layer's result: the bias Add's output when a bias follows, else the node's output (also when
   * a fused consumer such as FastGelu adds the bias inside its kernel: the sum is no tensor then).
   */
  output: string;
  bias: string | null;
}

export interface LinearLayer {
  /** Stable id: the weight initializer's name. */
  id: string;
  /** Module path, e.g. 'transformer.h.0.attn.c_attn', from the node scope or the weight name. */
  name: string;
  /** First node that uses the weight (in topological order) and all of them. */
  nodeName: string;
  nodeNames: string[];
  opType: LinearOp;
  /** The stored weight: a float (or DequantizeLinear'd) initializer, or MatMulNBits' packed B. */
  weight: string;
  weightDims: number[];
  weightDtype: string;
  /** Ops between the initializer and the MatMul/Gemm, e.g. ['Transpose'] or ['DequantizeLinear']. */
  weightPath: string[];
  /** Which operand of the MatMul/Gemm is the weight: 'B' (x · W) or 'A' (W · x). */
  weightOperand: 'A' | 'B';
  layout: WeightLayout;
  inFeatures: number;
  outFeatures: number;
  /** The tensor the graph adds as bias (its parameter name), and the initializer holding its
   * values — they differ when torch stored equal tensors once behind Identity nodes. */
  bias: string | null;
  biasInitializer: string | null;
  /** Elements of W (C_out · C_in, packed or not) plus the bias. */
  params: number;
  /** Present for a MatMulNBits layer: W is packed in `weight` ([N, blocks, blob] uint8), not readable as floats. */
  nBits?: NBitsStorage;
  input: string;
  output: string;
  uses: LinearUse[];
  /** Other nodes that read the same initializer, e.g. the embedding Gather of a tied LM head. */
  sharedWith: string[];
  block: number | null;
  role: LinearRole;
  roleSource: RoleSource;
  /** Topological position of the first use; orders layers as the model runs them. */
  order: number;
}

export interface AttentionSite {
  softmaxNode: string;
  /** Output tensor of the Softmax: the attention probabilities. */
  output: string;
  /** The Q·Kᵀ MatMul and the probabilities·V MatMul. */
  scoresNode: string;
  contextNode: string;
  block: number | null;
  /** Query heads; null when neither a Reshape constant nor value_info tells. */
  heads: number | null;
  /** Key/value heads when they differ from `heads` (grouped-query attention), else equal. */
  kvHeads: number | null;
  headDim: number | null;
  headsSource: 'reshape' | 'value_info' | 'unknown';
  /** Linear layer ids feeding Q, K, V and consuming the context (out projection). */
  q: string | null;
  k: string | null;
  v: string | null;
  out: string | null;
  /** The scores are masked by a mask that does not depend on input values (causal masks). */
  causalMask: boolean;
  order: number;
}

export interface BlockInfo {
  index: number;
  /** Linear layer ids in model order. */
  linears: string[];
  /** Softmax node names of the block's attention. */
  attention: string[];
}

export interface EmbeddingInfo {
  nodeName: string;
  /**
   * 'token': a Gather table indexed by values of a graph input (token ids, token types);
   * 'position': a Gather table indexed by positions computed from shapes alone;
   * 'patch': a Conv applied to an image graph input (ViT patch embedding).
   */
  kind: 'token' | 'position' | 'patch';
  weight: string;
  weightDims: number[];
  /** Id of a linear layer that shares this weight (a tied LM head), else null. */
  tiedTo: string | null;
}

export type ModelTask =
  | 'causal-lm'
  | 'masked-lm'
  | 'image-classification'
  | 'sequence-classification'
  | 'unknown';

export interface OpsetImport {
  domain: string;
  version: number;
}

/** A fused attention node: its label, op type and domain ('ai.onnx' for the default one). */
export interface FusedAttentionNode {
  label: string;
  opType: string;
  domain: string;
}

export interface ModelAnalysis {
  irVersion: number | null;
  producer: string | null;
  opsetImports: OpsetImport[];
  inputs: TensorInfo[];
  outputs: TensorInfo[];
  /** Elements of all floating-point initializers. */
  totalParams: number;
  /** Bytes of initializers by element type (from dims; external data included). */
  initializerBytes: Record<string, number>;
  linears: LinearLayer[];
  attention: AttentionSite[];
  blocks: BlockInfo[];
  numBlocks: number;
  /** How block indices were found: module names, graph structure, or not at all. */
  blockSource: 'name' | 'structure' | 'none';
  embeddings: EmbeddingInfo[];
  task: ModelTask;
  taskReason: string;
  /** Things recognised only in part, or guessed. */
  warnings: string[];
  /** Things present in the graph that the analysis does not handle. */
  unsupported: string[];
  /**
   * Fused attention kernels (ONNX Runtime contrib ops such as GroupQueryAttention), in graph order:
   * their probabilities are no tensor, so the attention view explains instead of drawing.
   */
  fusedAttention: FusedAttentionNode[];
  /** Whether the weights are already pruned or quantized (compressionState.ts). */
  compression: CompressionState;
}

// ---- compression state: what a model that was already compressed looks like ------------------

/** Verdict of compressionState: from the stored weights, never from file names or metadata. */
export type CompressionVerdict = 'dense' | 'sparse' | 'quantized' | 'sparse+quantized';

/**
 * A sparsity pattern every row of W satisfies: N:M keeps at most N of every M consecutive inputs
 * (C_in); V:N:M (VENOM) also uses at most 4 columns per tile of V rows. Same shape as the
 * prune module's SparsityPattern of those kinds.
 */
export type StructuredPattern =
  | { kind: 'nm'; n: number; m: number }
  | { kind: 'vnm'; v: number; n: 2; m: number }
  /** SparseByteNN's groups: every 1×4 (or 4×1) group all zero or all kept; `sparsity` is the measured zero share. */
  | { kind: 'block'; rows: 1 | 4; cols: 4 | 1; sparsity: number };

/** How a weight is stored when it is not plain float32/float64. */
export interface PackedWeight {
  /**
   * What turns the stored values into the product: 'DequantizeLinear', 'MatMulNBits',
   * 'MatMulInteger', 'QLinearMatMul', 'DynamicQuantizeMatMul', 'MatMulIntegerToFloat', or
   * 'storage' for a half- or lower-precision float stored as such (float16, bfloat16, float8).
   */
  via: string;
  /** Element type as stored ('int8', 'uint4', 'float16'). */
  dtype: string;
  bits: number;
}

/** One weight matrix W (C_out × C_in): a linear layer or a packed-weight node. */
export interface LayerCompression {
  /** The linear layer's id; for a packed node that is no LinearLayer (MatMulNBits ...), its node name. */
  id: string;
  name: string;
  /** Counts towards the model's sparsity: not an embedding nor the output head (recipe/layers.ts). */
  prunable: boolean;
  /** C_out · C_in */
  elements: number;
  /** Elements whose value is exactly 0 (for quantized weights: whose integer equals its zero point); null when unreadable. */
  zeros: number | null;
  zeroShare: number | null;
  /** Tightest N:M or V:N:M pattern every row satisfies, or null. */
  pattern: StructuredPattern | null;
  packed: PackedWeight | null;
  /** Why `zeros` is null. */
  unreadable: string | null;
}

/** What a file's compression_lab.* metadata_props say (written by compressModel). */
export interface LabMetadata {
  /** The recipe as JSON text (compression_lab.recipe); parse it with recipe/parseRecipeText. */
  recipe: string | null;
  /** describeRecipe of that recipe, as written (compression_lab.recipe_summary). */
  recipeSummary: string | null;
  /** The model it was made from (compression_lab.source_model): a model card id or file stem. */
  sourceModel: string | null;
}

export interface CompressionState {
  verdict: CompressionVerdict;
  /** One line, e.g. "pruned: 50.0 % of prunable linear weights are zero (2:4 in 24 of 24 layers)". */
  description: string;
  /** Parameter-weighted share of exact zeros over the prunable layers whose weights could be read. */
  zeroShare: number;
  /** Unweighted mean of those layers' zero shares. */
  meanLayerZeroShare: number;
  /** Prunable layers whose weights could be read, and their elements. */
  prunableLayers: number;
  prunableElements: number;
  /** Patterns found in prunable layers ('2:4', '16:2:8') with their layer counts, most common first. */
  patterns: { pattern: string; layers: number }[];
  /** Layers (prunable or not) whose weights are stored packed or in low precision. */
  packedLayers: number;
  layers: LayerCompression[];
  /** null when the file carries no compression_lab.* metadata. */
  labMetadata: LabMetadata | null;
}
