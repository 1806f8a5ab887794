// A Llama-style decoder (LlamaForCausalLM, Qwen2ForCausalLM) as Optimum exports it for
// text-generation-with-past, unfused, following transformers/models/llama/modeling_llama.py:
// RMSNorm written out as torch exports it (Pow → ReduceMean → Add ε → Sqrt → Div → Mul → Mul w),
// rotary embeddings (cos/sin of position_ids · inv_freq, rotate_half by Slice/Neg/Concat),
// grouped-query attention (repeat_kv) over the KV cache, SwiGLU MLP (down(silu(gate)·up), SiLU as
// Sigmoid·x at opset 17), no biases except Qwen2's q/k/v, lm_head tied (MatMul on the transposed
// embedding) or its own. Linear weights are stored [in, out] as the folded export stores them,
// under their parameter names; node names carry the module scope.
import type { ModelProto } from '../../../src/core/onnx/types.ts';
import { cacheGraphInputs, cacheGraphOutputs, cachedAttention, causalMask, splitHeads } from './cacheAttention.ts';
import { GraphBuilder, INT64_MAX } from './graphBuilder.ts';
import { headDim, type DecoderShape } from './presets.ts';
import type { WeightSink } from './weights.ts';

/** HF's initializer_range for Llama, Qwen2 and GPT-2 configs. */
export const INIT_STD = 0.02;

export function buildLlamaGraph(shape: DecoderShape, weights: WeightSink, producer: string): ModelProto {
  const g = new GraphBuilder();
  const { hidden: d, heads, kvHeads, intermediate: m, vocab } = shape;
  const hd = headDim(shape);

  const linear = (scope: string, param: string, x: string, inF: number, outF: number, bias: boolean): string => {
    const w = g.add(weights.float(`${param}.weight`, [inF, outF], { normal: INIT_STD }));
    const y = g.op(scope, 'MatMul', [x, w]);
    if (!bias) return y;
    const b = g.add(weights.float(`${param}.bias`, [outF], { constant: 0 }));
    return g.op(scope, 'Add', [b, y]);
  };
  const rmsNorm = (scope: string, param: string, x: string): string => {
    const w = g.add(weights.float(`${param}.weight`, [d], { constant: 1 }));
    const squared = g.op(scope, 'Pow', [x, g.float(`${scope}/two`, [2])]);
    const variance = g.op(scope, 'ReduceMean', [squared], { attrs: { axes: [-1], keepdims: 1 } });
    const rms = g.op(scope, 'Sqrt', [g.op(scope, 'Add', [variance, g.float(`${scope}/eps`, [shape.normEps])])]);
    const inverse = g.op(scope, 'Div', [g.float(`${scope}/one`, [1]), rms]);
    return g.op(scope, 'Mul', [w, g.op(scope, 'Mul', [x, inverse])]);
  };

  const embedding = g.add(weights.float('model.embed_tokens.weight', [vocab, d], { normal: INIT_STD }));
  let x = g.op('/model/embed_tokens', 'Gather', [embedding, 'input_ids']);

  // LlamaRotaryEmbedding: inv_freq[j] = θ^(−2j/hd); freqs = position · inv_freq; emb = [freqs, freqs].
  const rope = '/model/rotary_emb';
  const invFreq = Array.from({ length: hd / 2 }, (_, j) => 1 / shape.ropeTheta ** ((2 * j) / hd));
  const positions = g.op(rope, 'Unsqueeze', [g.op(rope, 'Cast', ['position_ids'], { attrs: { to: 1 } }), g.int64(`${rope}/axis_2`, [2])]);
  const freqs = g.op(rope, 'Mul', [positions, g.float(`${rope}/inv_freq`, invFreq, [hd / 2])]);
  const emb = g.op(rope, 'Concat', [freqs, freqs], { attrs: { axis: -1 } });
  const [cos, sin] = [g.op(rope, 'Cos', [emb]), g.op(rope, 'Sin', [emb])]; // [b, seq, hd]

  const mask = causalMask(g, '/model');

  for (let i = 0; i < shape.layers; i++) {
    const s = `/model/layers.${i}`;
    const p = `model.layers.${i}`;
    const a = `${s}/self_attn`;
    const h = rmsNorm(`${s}/input_layernorm`, `${p}.input_layernorm`, x);
    const q = splitHeads(g, a, linear(`${a}/q_proj`, `${p}.self_attn.q_proj`, h, d, heads * hd, shape.qkvBias), heads, hd, 'q');
    const k = splitHeads(g, a, linear(`${a}/k_proj`, `${p}.self_attn.k_proj`, h, d, kvHeads * hd, shape.qkvBias), kvHeads, hd, 'k');
    const v = splitHeads(g, a, linear(`${a}/v_proj`, `${p}.self_attn.v_proj`, h, d, kvHeads * hd, shape.qkvBias), kvHeads, hd, 'v');
    // apply_rotary_pos_emb: cos/sin unsqueezed on the head axis; x·cos + rotate_half(x)·sin.
    const cosH = g.op(a, 'Unsqueeze', [cos, g.int64(`${a}/head_axis`, [1])]);
    const sinH = g.op(a, 'Unsqueeze', [sin, `${a}/head_axis`]);
    const half = g.int64(`${a}/half`, [hd / 2]);
    const [zero, end, lastAxis] = [g.int64(`${a}/start`, [0]), g.int64(`${a}/end`, [INT64_MAX]), g.int64(`${a}/last_axis`, [-1])];
    const rotate = (t: string): string => {
      const first = g.op(a, 'Slice', [t, zero, half, lastAxis]);
      const second = g.op(a, 'Slice', [t, half, end, lastAxis]);
      const rotated = g.op(a, 'Concat', [g.op(a, 'Neg', [second]), first], { attrs: { axis: -1 } });
      return g.op(a, 'Add', [g.op(a, 'Mul', [t, cosH]), g.op(a, 'Mul', [rotated, sinH])]);
    };
    const context = cachedAttention(g, a, shape, i, { q: rotate(q), k: rotate(k), v, mask, scale: 'Mul' });
    const attnOut = linear(`${a}/o_proj`, `${p}.self_attn.o_proj`, context, heads * hd, d, false);
    const afterAttention = g.op(s, 'Add', [x, attnOut]);

    const mlp = `${s}/mlp`;
    const h2 = rmsNorm(`${s}/post_attention_layernorm`, `${p}.post_attention_layernorm`, afterAttention);
    const gate = linear(`${mlp}/gate_proj`, `${p}.mlp.gate_proj`, h2, d, m, false);
    const silu = g.op(`${mlp}/act_fn`, 'Mul', [gate, g.op(`${mlp}/act_fn`, 'Sigmoid', [gate])]);
    const up = linear(`${mlp}/up_proj`, `${p}.mlp.up_proj`, h2, d, m, false);
    const down = linear(`${mlp}/down_proj`, `${p}.mlp.down_proj`, g.op(mlp, 'Mul', [silu, up]), m, d, false);
    x = g.op(s, 'Add', [afterAttention, down]);
  }

  const final = rmsNorm('/model/norm', 'model.norm', x);
  if (shape.tied) {
    const transposed = g.op('/lm_head', 'Transpose', [embedding], { attrs: { perm: [1, 0] } });
    g.op('/lm_head', 'MatMul', [final, transposed], { outputs: ['logits'] });
  } else {
    const head = g.add(weights.float('lm_head.weight', [d, vocab], { normal: INIT_STD }));
    g.op('/lm_head', 'MatMul', [final, head], { outputs: ['logits'] });
  }

  return {
    irVersion: 8,
    producerName: producer,
    opsetImport: [{ domain: '', version: 17 }],
    graph: { name: 'main_graph', node: g.nodes, initializer: g.initializers, input: cacheGraphInputs(shape), output: cacheGraphOutputs(shape), valueInfo: [] },
  };
}
