// The shapes of the real checkpoints gen:hf imitates, from each repository's config.json
// (openai-community/gpt2, HuggingFaceTB/SmolLM-135M, Qwen/Qwen2.5-0.5B,
// TinyLlama/TinyLlama-1.1B-intermediate-step-1431k-3T); docs/hf-generator.md says what was checked
// against what. Tests narrow them with overrides (2 blocks, width 64) to make tiny models.

export type DecoderFamily = 'gpt2' | 'llama';

export interface DecoderShape {
  family: DecoderFamily;
  /** config.json's model_type and architectures[0]. */
  modelType: 'gpt2' | 'llama' | 'qwen2';
  architecture: string;
  layers: number;
  hidden: number;
  heads: number;
  /** Key-value heads (grouped-query attention); = heads for GPT-2. */
  kvHeads: number;
  /** MLP width (GPT-2: 4·hidden). */
  intermediate: number;
  vocab: number;
  /** Learned positions (GPT-2's wpe rows) or the rotary context limit. */
  maxPositions: number;
  /** lm_head shares the token embedding. */
  tied: boolean;
  /** q/k/v projections carry biases (Qwen2); GPT-2's Conv1D layers always do. */
  qkvBias: boolean;
  /** Rotary base (Llama family only). */
  ropeTheta: number;
  /** RMSNorm's or LayerNorm's epsilon. */
  normEps: number;
  bosId: number;
  eosId: number;
}

export const PRESETS = {
  gpt2: {
    family: 'gpt2', modelType: 'gpt2', architecture: 'GPT2LMHeadModel',
    layers: 12, hidden: 768, heads: 12, kvHeads: 12, intermediate: 3072, vocab: 50257, maxPositions: 1024,
    tied: true, qkvBias: true, ropeTheta: 0, normEps: 1e-5, bosId: 50256, eosId: 50256,
  },
  'smollm-135m': {
    family: 'llama', modelType: 'llama', architecture: 'LlamaForCausalLM',
    layers: 30, hidden: 576, heads: 9, kvHeads: 3, intermediate: 1536, vocab: 49152, maxPositions: 2048,
    tied: true, qkvBias: false, ropeTheta: 10000, normEps: 1e-5, bosId: 49151, eosId: 49151,
  },
  'qwen2.5-0.5b': {
    family: 'llama', modelType: 'qwen2', architecture: 'Qwen2ForCausalLM',
    layers: 24, hidden: 896, heads: 14, kvHeads: 2, intermediate: 4864, vocab: 151936, maxPositions: 32768,
    tied: true, qkvBias: true, ropeTheta: 1_000_000, normEps: 1e-6, bosId: 50256, eosId: 50256,
  },
  'tinyllama-1.1b': {
    family: 'llama', modelType: 'llama', architecture: 'LlamaForCausalLM',
    layers: 22, hidden: 2048, heads: 32, kvHeads: 4, intermediate: 5632, vocab: 32000, maxPositions: 2048,
    tied: false, qkvBias: false, ropeTheta: 10000, normEps: 1e-5, bosId: 31999, eosId: 31999,
  },
} as const satisfies Record<string, DecoderShape>;

export type PresetName = keyof typeof PRESETS;

export const PRESET_NAMES = Object.keys(PRESETS) as PresetName[];

/** The narrowing flags a test may give; anything left out keeps the preset's value. */
export interface ShapeOverrides {
  layers?: number;
  hidden?: number;
  heads?: number;
  kvHeads?: number;
  intermediate?: number;
  vocab?: number;
  maxPositions?: number;
}

/**
 * The preset with the overrides applied, checked for the divisibilities attention needs. The
 * end-of-text id follows the vocabulary: the tokenizer puts it on the last row (tokenizer.ts).
 */
export function decoderShape(preset: PresetName, overrides: ShapeOverrides = {}): DecoderShape {
  const base: DecoderShape = PRESETS[preset];
  const shape: DecoderShape = { ...base };
  for (const [key, value] of Object.entries(overrides) as [keyof ShapeOverrides, number | undefined][]) {
    if (value !== undefined) shape[key] = value;
  }
  if (base.family === 'gpt2') {
    shape.kvHeads = shape.heads;
    if (overrides.intermediate === undefined) shape.intermediate = 4 * shape.hidden;
  }
  if (overrides.heads !== undefined && overrides.kvHeads === undefined && base.kvHeads === base.heads) shape.kvHeads = shape.heads;
  if (shape.hidden % shape.heads !== 0) throw new Error(`--hidden ${shape.hidden} is not a multiple of --heads ${shape.heads}`);
  if (shape.heads % shape.kvHeads !== 0) throw new Error(`--heads ${shape.heads} is not a multiple of --kv-heads ${shape.kvHeads}`);
  if ((shape.hidden / shape.heads) % 2 !== 0 && shape.family === 'llama') throw new Error(`head width ${shape.hidden / shape.heads} must be even for rotary embeddings`);
  if (shape.vocab < 257) throw new Error(`--vocab ${shape.vocab} is below 257: the byte-level tokenizer needs 256 byte tokens and an end-of-text token`);
  const eos = Math.min(shape.vocab, 50257) - 1;
  shape.bosId = eos;
  shape.eosId = eos;
  return shape;
}

export const headDim = (shape: DecoderShape): number => shape.hidden / shape.heads;

/** Float parameters the graph stores, to decide on external data before anything is written. */
export function decoderParameterCount(shape: DecoderShape): number {
  const { layers, hidden: d, heads, kvHeads, intermediate: m, vocab, maxPositions } = shape;
  const hd = d / heads;
  const kv = kvHeads * hd;
  if (shape.family === 'gpt2') {
    const perBlock = 4 * d + (d * 3 * d + 3 * d) + (d * d + d) + (d * m + m) + (m * d + d);
    return vocab * d + maxPositions * d + layers * perBlock + 2 * d;
  }
  const attention = d * d + 2 * d * kv + d * d + (shape.qkvBias ? d + 2 * kv : 0);
  const perBlock = 2 * d + attention + 3 * d * m;
  return vocab * d * (shape.tied ? 1 : 2) + layers * perBlock + d;
}
