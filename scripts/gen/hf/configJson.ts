// config.json and generation_config.json in each family's own field names, as the real
// repositories spell them (openai-community/gpt2, HuggingFaceTB/SmolLM-135M, Qwen/Qwen2.5-0.5B,
// TinyLlama/TinyLlama-1.1B): GPT-2 says n_layer/n_embd/n_head, the Llama family
// num_hidden_layers/hidden_size/num_attention_heads/num_key_value_heads.
import type { DecoderShape } from './presets.ts';

/** The transformers release whose field names these are (written as the real files do). */
const TRANSFORMERS_VERSION = '4.46.0';

export function configJson(shape: DecoderShape, externalData: boolean): Record<string, unknown> {
  const common = {
    architectures: [shape.architecture],
    model_type: shape.modelType,
    bos_token_id: shape.bosId,
    eos_token_id: shape.eosId,
    initializer_range: 0.02,
    torch_dtype: 'float32',
    transformers_version: TRANSFORMERS_VERSION,
    use_cache: true,
    vocab_size: shape.vocab,
    tie_word_embeddings: shape.tied,
    // transformers.js reads onnx/model.onnx_data only when told the graph has external data.
    ...(externalData ? { 'transformers.js_config': { use_external_data_format: true } } : {}),
  };
  if (shape.family === 'gpt2') {
    return {
      ...common,
      activation_function: 'gelu_new',
      attn_pdrop: 0.1,
      embd_pdrop: 0.1,
      resid_pdrop: 0.1,
      layer_norm_epsilon: shape.normEps,
      n_ctx: shape.maxPositions,
      n_positions: shape.maxPositions,
      n_embd: shape.hidden,
      n_head: shape.heads,
      n_layer: shape.layers,
      n_inner: shape.intermediate === 4 * shape.hidden ? null : shape.intermediate,
    };
  }
  const llama = {
    ...common,
    attention_dropout: 0.0,
    hidden_act: 'silu',
    hidden_size: shape.hidden,
    intermediate_size: shape.intermediate,
    max_position_embeddings: shape.maxPositions,
    num_attention_heads: shape.heads,
    num_hidden_layers: shape.layers,
    num_key_value_heads: shape.kvHeads,
    rms_norm_eps: shape.normEps,
    rope_scaling: null,
    rope_theta: shape.ropeTheta,
  };
  if (shape.modelType === 'qwen2') {
    return { ...llama, max_window_layers: shape.layers, sliding_window: shape.maxPositions, use_sliding_window: false };
  }
  return { ...llama, attention_bias: false, mlp_bias: false, pretraining_tp: 1 };
}

export function generationConfigJson(shape: DecoderShape): Record<string, unknown> {
  return { bos_token_id: shape.bosId, eos_token_id: shape.eosId, transformers_version: TRANSFORMERS_VERSION };
}
