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

/** One MatMul/Gemm node that multiplies by the layer's weight. */
export interface LinearUse {
  nodeName: string;
  opType: 'MatMul' | 'Gemm';
  /** The activation operand. */
  input: string;
  /** The layer's result: the bias Add's output when a bias follows, else the node's output. */
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
  opType: 'MatMul' | 'Gemm';
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
  /** Elements of the weight plus the bias. */
  params: number;
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
}
