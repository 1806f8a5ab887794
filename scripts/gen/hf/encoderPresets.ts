// The encoder presets: bert-base-uncased (BertForMaskedLM, fill-mask) and
// google/vit-base-patch16-224 (ViTForImageClassification), from their config.json files.

export interface EncoderShape {
  family: 'bert' | 'vit';
  layers: number;
  hidden: number;
  heads: number;
  intermediate: number;
  normEps: number;
  /** BERT: word pieces; ViT: 0. */
  vocab: number;
  /** BERT: position_embeddings rows; ViT: patches + CLS. */
  maxPositions: number;
  /** BERT's token_type_embeddings rows. */
  typeVocab: number;
  /** ViT: image side, patch side, channels and classes. */
  imageSize: number;
  patchSize: number;
  channels: number;
  labels: number;
}

export const ENCODER_PRESETS = {
  'bert-base': {
    family: 'bert', layers: 12, hidden: 768, heads: 12, intermediate: 3072, normEps: 1e-12,
    vocab: 30522, maxPositions: 512, typeVocab: 2, imageSize: 0, patchSize: 0, channels: 0, labels: 0,
  },
  'vit-base': {
    family: 'vit', layers: 12, hidden: 768, heads: 12, intermediate: 3072, normEps: 1e-12,
    vocab: 0, maxPositions: 197, typeVocab: 0, imageSize: 224, patchSize: 16, channels: 3, labels: 1000,
  },
} as const satisfies Record<string, EncoderShape>;

export type EncoderPresetName = keyof typeof ENCODER_PRESETS;

export interface EncoderOverrides {
  layers?: number;
  hidden?: number;
  heads?: number;
  intermediate?: number;
  vocab?: number;
  maxPositions?: number;
  imageSize?: number;
  patchSize?: number;
  labels?: number;
}

export function encoderShape(preset: EncoderPresetName, overrides: EncoderOverrides = {}): EncoderShape {
  const shape: EncoderShape = { ...ENCODER_PRESETS[preset] };
  for (const [key, value] of Object.entries(overrides) as [keyof EncoderOverrides, number | undefined][]) {
    if (value !== undefined) shape[key] = value;
  }
  if (overrides.intermediate === undefined && overrides.hidden !== undefined) shape.intermediate = 4 * shape.hidden;
  if (shape.hidden % shape.heads !== 0) throw new Error(`--hidden ${shape.hidden} is not a multiple of --heads ${shape.heads}`);
  if (shape.family === 'vit') {
    if (shape.imageSize % shape.patchSize !== 0) throw new Error(`--image-size ${shape.imageSize} is not a multiple of --patch-size ${shape.patchSize}`);
    shape.maxPositions = (shape.imageSize / shape.patchSize) ** 2 + 1;
  }
  if (shape.family === 'bert' && shape.vocab < 256 + BERT_SPECIALS.length) throw new Error(`--vocab ${shape.vocab} is below ${256 + BERT_SPECIALS.length}: the byte-level tokenizer needs 256 byte tokens and BERT's special tokens`);
  return shape;
}

/** BERT's special tokens, given the last ids of the byte-level tokenizer (tokenizer.ts). */
export const BERT_SPECIALS = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]'] as const;

export function encoderParameterCount(s: EncoderShape): number {
  const { hidden: d, intermediate: m } = s;
  const perBlock = 4 * (d * d + d) + (d * m + m) + (m * d + d) + 4 * d;
  if (s.family === 'bert') {
    const embeddings = (s.vocab + s.maxPositions + s.typeVocab) * d + 2 * d;
    const mlmHead = d * d + d + 2 * d + s.vocab; // transform.dense, LayerNorm, decoder bias (weight tied)
    return embeddings + s.layers * perBlock + mlmHead;
  }
  const patch = d * s.channels * s.patchSize * s.patchSize + d;
  return patch + d + s.maxPositions * d + s.layers * perBlock + 2 * d + d * s.labels + s.labels;
}
