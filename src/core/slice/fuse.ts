// LayerNorm fusion, as TransformerCompression's layernorm_fusion.py `fuse_modules` does it:
// every norm's γ (and β) moves into the linear layers that read it, and — for LayerNorm — the
// mean subtraction moves into every writer of the residual stream (embeddings centred per row,
// `bake_mean_into_linear` on the attention and MLP output projections), so each norm becomes
// x / sqrt(Σx²/d + ε), an RMSNorm without weight (modules.py RMSN). The model computes the same
// function (fixtures/slicegpt_reference.json: `fusedMaxAbsError`). An RMSNorm model (Llama) only
// moves γ: its stream is not centred, and centring it would change the function.
// All arithmetic in float64, as the reference does (`.double()`), rounded to float32 on export.
import type { LinearLayer } from '../model/types.ts';
import { initializerMap } from '../onnx/graph.ts';
import { tensorToFloat32 } from '../onnx/tensor.ts';
import type { ModelProto, TensorProto } from '../onnx/types.ts';
import type { NormSite, ResidualStream } from './structure.ts';

/** y = W x + b with W as (out, in) row-major, whatever the stored layout. */
export interface DenseLinear {
  layer: LinearLayer;
  out: number;
  in: number;
  weight: Float64Array;
  bias: Float64Array | null;
}

export interface FusedBlock {
  attentionInputs: DenseLinear[];
  attentionOutput: DenseLinear;
  mlpInputs: DenseLinear[];
  mlpOutput: DenseLinear;
}

export interface FusedModel {
  hidden: number;
  /** Embedding tables (rows, d), in stream.embeddings order. */
  embeddings: Float64Array[];
  blocks: FusedBlock[];
  head: DenseLinear;
}

function values(inits: Map<string, TensorProto>, name: string): Float32Array {
  const t = inits.get(name);
  if (t === undefined) throw new Error(`slice: initializer ${name} not found`);
  return tensorToFloat32(t);
}

export function readDenseLinear(inits: Map<string, TensorProto>, layer: LinearLayer): DenseLinear {
  const stored = values(inits, layer.weight);
  const [out, inF] = [layer.outFeatures, layer.inFeatures];
  const weight = new Float64Array(out * inF);
  if (layer.layout === 'out_in') for (let i = 0; i < out * inF; i++) weight[i] = stored[i];
  else for (let r = 0; r < inF; r++) for (let c = 0; c < out; c++) weight[c * inF + r] = stored[r * out + c];
  const bias = layer.biasInitializer === null ? null : Float64Array.from(values(inits, layer.biasInitializer));
  return { layer, out, in: inF, weight, bias };
}

/** fuse_ln_linear: W ← W·diag(γ), b ← b + W·β (W before scaling). */
function fuseNorm(linear: DenseLinear, gamma: Float32Array, beta: Float32Array | null): void {
  const { out, in: inF, weight } = linear;
  if (beta !== null) {
    const bias = linear.bias ?? new Float64Array(out);
    for (let o = 0; o < out; o++) {
      let sum = 0;
      for (let i = 0; i < inF; i++) sum += weight[o * inF + i] * beta[i];
      bias[o] += sum;
    }
    linear.bias = bias;
  }
  for (let o = 0; o < out; o++) for (let i = 0; i < inF; i++) weight[o * inF + i] *= gamma[i];
}

/** bake_mean_into_linear: each output column (over the d outputs) and the bias centred. */
function bakeMean(linear: DenseLinear): void {
  const { out, in: inF, weight, bias } = linear;
  for (let i = 0; i < inF; i++) {
    let mean = 0;
    for (let o = 0; o < out; o++) mean += weight[o * inF + i];
    mean /= out;
    for (let o = 0; o < out; o++) weight[o * inF + i] -= mean;
  }
  if (bias !== null) {
    const mean = bias.reduce((a, b) => a + b, 0) / out;
    for (let o = 0; o < out; o++) bias[o] -= mean;
  }
}

function centreRows(table: Float64Array, rows: number, d: number): void {
  for (let r = 0; r < rows; r++) {
    let mean = 0;
    for (let j = 0; j < d; j++) mean += table[r * d + j];
    mean /= d;
    for (let j = 0; j < d; j++) table[r * d + j] -= mean;
  }
}

/** The model's weights with every norm fused (nothing in `model` is modified). */
export function fuseNorms(model: ModelProto, stream: ResidualStream): FusedModel {
  const inits = initializerMap(model.graph!);
  const d = stream.hidden;
  const centred = stream.blocks[0].attentionNorm.kind === 'layernorm';
  const fused = (layers: LinearLayer[], norm: NormSite): DenseLinear[] => {
    const gamma = values(inits, norm.weight);
    const beta = norm.bias === null ? null : values(inits, norm.bias);
    return layers.map((layer) => {
      const linear = readDenseLinear(inits, layer);
      fuseNorm(linear, gamma, beta);
      return linear;
    });
  };
  const writer = (layer: LinearLayer): DenseLinear => {
    const linear = readDenseLinear(inits, layer);
    if (centred) bakeMean(linear);
    return linear;
  };
  const embeddings = stream.embeddings.map((e) => {
    const table = Float64Array.from(values(inits, e.table));
    if (centred) centreRows(table, e.rows, d);
    return table;
  });
  const blocks = stream.blocks.map((b) => ({
    attentionInputs: fused(b.attentionInputs, b.attentionNorm),
    attentionOutput: writer(b.attentionOutput),
    mlpInputs: fused(b.mlpInputs, b.mlpNorm),
    mlpOutput: writer(b.mlpOutput),
  }));
  const [head] = fused([stream.head], stream.finalNorm);
  return { hidden: d, embeddings, blocks, head };
}
