// A GPT-2-shaped causal LM with seeded random weights, built as an ONNX ModelProto: the scale
// test of issue 7 (a GPT-2-small-sized model in the tab), generated on demand, never committed.
//
// The graph is the unfused shape of the Hugging Face Optimum export of GPT2LMHeadModel
// (transformers/models/gpt2/modeling_gpt2.py; scripts/fixtures/make_arch_fixtures.py builds the
// same model in torch): Gather embeddings (wte, wpe), pre-LayerNorm blocks, c_attn MatMul+Add
// (d → 3d), Split, per-head Reshape/Transpose, MatMul·Div·Where·Softmax·MatMul with a causal
// mask sliced from a tril buffer, merge heads, c_proj, residual; GELU MLP (c_fc d → 4d, tanh
// "gelu_new" written out as GPT-2 does, c_proj 4d → d); final LayerNorm; lm_head tied to wte
// through Transpose (the unfolded export: the file holds wte once, so 124 M parameters ≈ 498 MB).
// Node names carry the module scope as torch.onnx writes it (`/transformer/h.0/attn/c_attn/MatMul`)
// and initializers the parameter names, so the analysis can read roles and blocks from names.
import { DataType, type ModelProto, type NodeProto, type TensorProto } from '../../src/core/onnx/types.ts';
import { int64Init, node, tensorValue } from '../../src/core/model/testGraphs.ts';
import { mulberry32 } from '../../src/core/calibrate/random.ts';

export interface Gpt2Shape {
  blocks: number;
  vocab: number;
  /** Learned positions (wpe rows); GPT-2 has 1024. */
  context: number;
  dModel: number;
  heads: number;
}

/** GPT-2 small (Radford et al. 2019; the `gpt2` checkpoint's config.json). */
export const GPT2_SMALL: Gpt2Shape = { blocks: 12, vocab: 50257, context: 1024, dModel: 768, heads: 12 };

/** GPT-2's initializer_range: N(0, 0.02) for embeddings and linear weights. */
const INIT_STD = 0.02;

/** Parameters of the tied model: embeddings, per block 2 LayerNorms + 4 linears (with biases), final LayerNorm. */
export function gpt2ParameterCount({ blocks, vocab, context, dModel: d }: Gpt2Shape): number {
  const perBlock = 2 * 2 * d + (d * 3 * d + 3 * d) + (d * d + d) + (d * 4 * d + 4 * d) + (4 * d * d + d);
  return vocab * d + context * d + blocks * perBlock + 2 * d;
}

/** Normal samples by Box–Muller on the lab's seeded mulberry32, so a seed gives the same file everywhere. */
export class NormalSource {
  private readonly uniform: () => number;
  constructor(seed: number) {
    this.uniform = mulberry32(seed);
  }
  fill(out: Float32Array, std: number): Float32Array {
    for (let i = 0; i < out.length; i += 2) {
      const u = 1 - this.uniform(); // (0, 1]: log stays finite
      const radius = std * Math.sqrt(-2 * Math.log(u));
      const angle = 2 * Math.PI * this.uniform();
      out[i] = radius * Math.cos(angle);
      if (i + 1 < out.length) out[i + 1] = radius * Math.sin(angle);
    }
    return out;
  }
}

export function floatTensor(name: string, dims: number[], values: Float32Array): TensorProto {
  // rawData is little-endian float32: a view of the array's own bytes (every JS engine the lab runs on is little-endian).
  return { name, dims, dataType: DataType.FLOAT, rawData: new Uint8Array(values.buffer, values.byteOffset, values.byteLength) };
}

export const scalar = (name: string, value: number): TensorProto => ({ name, dims: [], dataType: DataType.FLOAT, rawData: new Uint8Array(Float32Array.of(value).buffer) });

/** The tril buffer GPT2Attention registers as `bias`: [1, 1, ctx, ctx] bool. */
function causalBuffer(name: string, context: number): TensorProto {
  const tril = new Uint8Array(context * context);
  for (let i = 0; i < context; i++) tril.fill(1, i * context, i * context + i + 1);
  return { name, dims: [1, 1, context, context], dataType: DataType.BOOL, rawData: tril };
}

export function buildGpt2Model(shape: Gpt2Shape, seed: number): ModelProto {
  const { blocks, vocab, context, dModel: d, heads } = shape;
  if (d % heads !== 0) throw new Error(`dModel ${d} is not a multiple of heads ${heads}`);
  const headDim = d / heads;
  const normal = new NormalSource(seed);
  const randn = (n: number, std: number) => normal.fill(new Float32Array(n), std);
  const nodes: NodeProto[] = [];
  const inits: TensorProto[] = [];
  const add = (...n: NodeProto[]) => nodes.push(...n);

  // Constants shared by every block, as the exporter dedupes them.
  inits.push(
    int64Init('const_zero', [0]),
    int64Init('heads_shape', [0, 0, heads, headDim]),
    int64Init('merge_shape', [0, 0, d]),
    int64Init('split_qkv', [d, d, d]),
    int64Init('mask_starts', [0, 0]),
    int64Init('mask_axes', [2, 3]),
    scalar('attn_scale', Math.sqrt(headDim)),
    scalar('mask_value', -3.4028234663852886e38), // torch.finfo(float32).min
    scalar('gelu_half', 0.5),
    scalar('gelu_three', 3),
    scalar('gelu_coef', 0.044715),
    scalar('gelu_sqrt_2_over_pi', Math.sqrt(2 / Math.PI)),
    scalar('gelu_one', 1),
    causalBuffer('causal_buffer', context),
  );
  const scalarIndex = (name: string, v: number): TensorProto => ({ name, dims: [], dataType: DataType.INT64, int64Data: BigInt64Array.of(BigInt(v)) });
  inits.push(scalarIndex('seq_axis', 1), scalarIndex('range_start', 0), scalarIndex('range_delta', 1));

  // Embeddings: x = wte[input_ids] + wpe[arange(seq)].
  const wte = randn(vocab * d, INIT_STD);
  inits.push(floatTensor('transformer.wte.weight', [vocab, d], wte));
  inits.push(floatTensor('transformer.wpe.weight', [context, d], randn(context * d, INIT_STD)));
  add(
    node('Shape', ['input_ids'], ['/transformer/Shape_output_0'], { name: '/transformer/Shape' }),
    node('Gather', ['/transformer/Shape_output_0', 'seq_axis'], ['/transformer/seq_len'], { name: '/transformer/Gather_seq', attrs: { axis: 0 } }),
    node('Range', ['range_start', '/transformer/seq_len', 'range_delta'], ['/transformer/positions'], { name: '/transformer/Range' }),
    node('Unsqueeze', ['/transformer/positions', 'const_zero'], ['/transformer/position_ids'], { name: '/transformer/Unsqueeze_pos' }),
    node('Gather', ['transformer.wte.weight', 'input_ids'], ['/transformer/wte/Gather_output_0'], { name: '/transformer/wte/Gather' }),
    node('Gather', ['transformer.wpe.weight', '/transformer/position_ids'], ['/transformer/wpe/Gather_output_0'], { name: '/transformer/wpe/Gather' }),
    node('Add', ['/transformer/wte/Gather_output_0', '/transformer/wpe/Gather_output_0'], ['/transformer/Add_output_0'], { name: '/transformer/Add' }),
    // causal_mask = bias[:, :, :seq, :seq] (query and key lengths are equal without a KV cache).
    node('Unsqueeze', ['/transformer/seq_len', 'const_zero'], ['/transformer/seq_len_1d'], { name: '/transformer/Unsqueeze_seq' }),
    node('Concat', ['/transformer/seq_len_1d', '/transformer/seq_len_1d'], ['/transformer/mask_ends'], { name: '/transformer/Concat_mask', attrs: { axis: 0 } }),
    node('Slice', ['causal_buffer', 'mask_starts', '/transformer/mask_ends', 'mask_axes'], ['/transformer/causal_mask'], { name: '/transformer/Slice_mask' }),
  );

  const layerNorm = (scope: string, param: string, x: string): string => {
    inits.push(floatTensor(`${param}.weight`, [d], new Float32Array(d).fill(1)), floatTensor(`${param}.bias`, [d], new Float32Array(d)));
    const out = `${scope}/LayerNormalization_output_0`;
    add(node('LayerNormalization', [x, `${param}.weight`, `${param}.bias`], [out], { name: `${scope}/LayerNormalization`, attrs: { axis: -1, epsilon: 1e-5 } }));
    return out;
  };
  // GPT-2's Conv1D: weight stored [in, out], y = x·W + b (HF init: W ~ N(0, std), b = 0).
  const conv1d = (scope: string, param: string, x: string, inF: number, outF: number, std: number): string => {
    inits.push(floatTensor(`${param}.weight`, [inF, outF], randn(inF * outF, std)), floatTensor(`${param}.bias`, [outF], new Float32Array(outF)));
    add(
      node('MatMul', [x, `${param}.weight`], [`${scope}/MatMul_output_0`], { name: `${scope}/MatMul` }),
      node('Add', [`${param}.bias`, `${scope}/MatMul_output_0`], [`${scope}/Add_output_0`], { name: `${scope}/Add` }),
    );
    return `${scope}/Add_output_0`;
  };
  // GPT-2 scales the residual projections' init by 1/sqrt(2·n_layer) (modeling_gpt2.py _init_weights).
  const residualStd = INIT_STD / Math.sqrt(2 * blocks);

  let x = '/transformer/Add_output_0';
  for (let b = 0; b < blocks; b++) {
    const s = `/transformer/h.${b}`;
    const p = `transformer.h.${b}`;
    const a = `${s}/attn`;
    const ln1 = layerNorm(`${s}/ln_1`, `${p}.ln_1`, x);
    const qkv = conv1d(`${a}/c_attn`, `${p}.attn.c_attn`, ln1, d, 3 * d, INIT_STD);
    add(node('Split', [qkv, 'split_qkv'], [`${a}/Split_output_0`, `${a}/Split_output_1`, `${a}/Split_output_2`], { name: `${a}/Split`, attrs: { axis: 2 } }));
    const heads4 = (i: number, what: string): string => {
      add(
        node('Reshape', [`${a}/Split_output_${i}`, 'heads_shape'], [`${a}/Reshape_${what}_output_0`], { name: `${a}/Reshape_${what}` }),
        node('Transpose', [`${a}/Reshape_${what}_output_0`], [`${a}/Transpose_${what}_output_0`], { name: `${a}/Transpose_${what}`, attrs: { perm: [0, 2, 1, 3] } }),
      );
      return `${a}/Transpose_${what}_output_0`;
    };
    const [q, k, v] = [heads4(0, 'q'), heads4(1, 'k'), heads4(2, 'v')];
    add(
      node('Transpose', [k], [`${a}/Transpose_kT_output_0`], { name: `${a}/Transpose_kT`, attrs: { perm: [0, 1, 3, 2] } }),
      node('MatMul', [q, `${a}/Transpose_kT_output_0`], [`${a}/MatMul_output_0`], { name: `${a}/MatMul` }),
      node('Div', [`${a}/MatMul_output_0`, 'attn_scale'], [`${a}/Div_output_0`], { name: `${a}/Div` }),
      node('Where', ['/transformer/causal_mask', `${a}/Div_output_0`, 'mask_value'], [`${a}/Where_output_0`], { name: `${a}/Where` }),
      node('Softmax', [`${a}/Where_output_0`], [`${a}/Softmax_output_0`], { name: `${a}/Softmax`, attrs: { axis: -1 } }),
      node('MatMul', [`${a}/Softmax_output_0`, v], [`${a}/MatMul_1_output_0`], { name: `${a}/MatMul_1` }),
      node('Transpose', [`${a}/MatMul_1_output_0`], [`${a}/Transpose_merge_output_0`], { name: `${a}/Transpose_merge`, attrs: { perm: [0, 2, 1, 3] } }),
      node('Reshape', [`${a}/Transpose_merge_output_0`, 'merge_shape'], [`${a}/Reshape_merge_output_0`], { name: `${a}/Reshape_merge` }),
    );
    const attnOut = conv1d(`${a}/c_proj`, `${p}.attn.c_proj`, `${a}/Reshape_merge_output_0`, d, d, residualStd);
    add(node('Add', [x, attnOut], [`${s}/Add_output_0`], { name: `${s}/Add` }));

    const m = `${s}/mlp`;
    const ln2 = layerNorm(`${s}/ln_2`, `${p}.ln_2`, `${s}/Add_output_0`);
    const h = conv1d(`${m}/c_fc`, `${p}.mlp.c_fc`, ln2, d, 4 * d, INIT_STD);
    // gelu_new: 0.5·h·(1 + tanh(sqrt(2/π)·(h + 0.044715·h³))).
    const g = `${m}/act`;
    add(
      node('Mul', [h, 'gelu_half'], [`${g}/Mul_output_0`], { name: `${g}/Mul` }),
      node('Pow', [h, 'gelu_three'], [`${g}/Pow_output_0`], { name: `${g}/Pow` }),
      node('Mul', [`${g}/Pow_output_0`, 'gelu_coef'], [`${g}/Mul_1_output_0`], { name: `${g}/Mul_1` }),
      node('Add', [h, `${g}/Mul_1_output_0`], [`${g}/Add_output_0`], { name: `${g}/Add` }),
      node('Mul', [`${g}/Add_output_0`, 'gelu_sqrt_2_over_pi'], [`${g}/Mul_2_output_0`], { name: `${g}/Mul_2` }),
      node('Tanh', [`${g}/Mul_2_output_0`], [`${g}/Tanh_output_0`], { name: `${g}/Tanh` }),
      node('Add', [`${g}/Tanh_output_0`, 'gelu_one'], [`${g}/Add_1_output_0`], { name: `${g}/Add_1` }),
      node('Mul', [`${g}/Mul_output_0`, `${g}/Add_1_output_0`], [`${g}/Mul_3_output_0`], { name: `${g}/Mul_3` }),
    );
    const mlpOut = conv1d(`${m}/c_proj`, `${p}.mlp.c_proj`, `${g}/Mul_3_output_0`, 4 * d, d, residualStd);
    add(node('Add', [`${s}/Add_output_0`, mlpOut], [`${s}/Add_1_output_0`], { name: `${s}/Add_1` }));
    x = `${s}/Add_1_output_0`;
  }

  const lnF = layerNorm('/transformer/ln_f', 'transformer.ln_f', x);
  add(
    node('Transpose', ['transformer.wte.weight'], ['/lm_head/Transpose_output_0'], { name: '/lm_head/Transpose', attrs: { perm: [1, 0] } }),
    node('MatMul', [lnF, '/lm_head/Transpose_output_0'], ['logits'], { name: '/lm_head/MatMul' }),
  );

  return {
    irVersion: 8,
    producerName: 'compression-lab scripts/gen/gpt2.ts',
    opsetImport: [{ domain: '', version: 17 }],
    graph: {
      name: 'main_graph',
      node: nodes,
      initializer: inits,
      input: [tensorValue('input_ids', DataType.INT64, ['batch_size', 'sequence_length'])],
      output: [tensorValue('logits', DataType.FLOAT, ['batch_size', 'sequence_length', vocab])],
      valueInfo: [],
    },
  };
}
