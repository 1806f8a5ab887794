// An encoder export folder: BERT (fill-mask) with a byte-level tokenizer carrying BERT's special
// tokens, or ViT (image classification) with a preprocessor_config.json and no tokenizer; the
// graph and its external data laid out as folder.ts lays out the decoders'.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildBertFusedGraph } from './bertFusedGraph.ts';
import { buildBertGraph, buildVitGraph } from './encoderGraph.ts';
import { BERT_SPECIALS, encoderParameterCount, encoderShape, type EncoderOverrides, type EncoderPresetName, type EncoderShape } from './encoderPresets.ts';
import { writeGraphFile, writeJson, type GraphFile, type GraphFileOptions } from './graphFile.ts';
import { byteLevelTokenizerJson } from './tokenizer.ts';

export interface EncoderFolderOptions extends GraphFileOptions {
  preset: EncoderPresetName;
  overrides?: EncoderOverrides;
  /** The ORT optimizer's fused BERT (bertFusedGraph.ts); not written for ViT. */
  fused?: boolean;
}

export interface EncoderFolder extends GraphFile {
  shape: EncoderShape;
  parameters: number;
}

const TRANSFORMERS_VERSION = '4.46.0';

function configJson(s: EncoderShape, externalData: boolean): Record<string, unknown> {
  const common = {
    attention_probs_dropout_prob: 0.0,
    hidden_act: 'gelu',
    hidden_dropout_prob: 0.0,
    hidden_size: s.hidden,
    initializer_range: 0.02,
    intermediate_size: s.intermediate,
    layer_norm_eps: s.normEps,
    num_attention_heads: s.heads,
    num_hidden_layers: s.layers,
    torch_dtype: 'float32',
    transformers_version: TRANSFORMERS_VERSION,
    ...(externalData ? { 'transformers.js_config': { use_external_data_format: true } } : {}),
  };
  if (s.family === 'bert') {
    return { ...common, architectures: ['BertForMaskedLM'], model_type: 'bert', max_position_embeddings: s.maxPositions, pad_token_id: s.vocab - BERT_SPECIALS.length, position_embedding_type: 'absolute', type_vocab_size: s.typeVocab, use_cache: true, vocab_size: s.vocab };
  }
  const id2label = Object.fromEntries(Array.from({ length: s.labels }, (_, i) => [String(i), `class_${i}`]));
  const label2id = Object.fromEntries(Array.from({ length: s.labels }, (_, i) => [`class_${i}`, i]));
  return { ...common, architectures: ['ViTForImageClassification'], model_type: 'vit', image_size: s.imageSize, patch_size: s.patchSize, num_channels: s.channels, qkv_bias: true, encoder_stride: s.patchSize, id2label, label2id };
}

/** ViTImageProcessor as google/vit-base-patch16-224 configures it: resize, rescale 1/255, normalise with mean = std = 0.5. */
function preprocessorJson(s: EncoderShape): Record<string, unknown> {
  return { do_normalize: true, do_rescale: true, do_resize: true, image_mean: [0.5, 0.5, 0.5], image_std: [0.5, 0.5, 0.5], image_processor_type: 'ViTImageProcessor', resample: 2, rescale_factor: 1 / 255, size: { height: s.imageSize, width: s.imageSize } };
}

/** BERT's [CLS] $A [SEP] template, on the byte-level tokenizer whose last ids are BERT's special tokens. */
function bertTokenizerJson(vocab: number): Record<string, unknown> {
  const base = byteLevelTokenizerJson(vocab, BERT_SPECIALS);
  const id = (token: string) => vocab - BERT_SPECIALS.length + BERT_SPECIALS.indexOf(token as (typeof BERT_SPECIALS)[number]);
  const special = (token: string) => ({ SpecialToken: { id: token, type_id: 0 } });
  return {
    ...base,
    post_processor: {
      type: 'TemplateProcessing',
      single: [special('[CLS]'), { Sequence: { id: 'A', type_id: 0 } }, special('[SEP]')],
      pair: [special('[CLS]'), { Sequence: { id: 'A', type_id: 0 } }, special('[SEP]'), { Sequence: { id: 'B', type_id: 1 } }, { SpecialToken: { id: '[SEP]', type_id: 1 } }],
      special_tokens: Object.fromEntries(['[CLS]', '[SEP]'].map((t) => [t, { id: t, ids: [id(t)], tokens: [t] }])),
    },
  };
}

export function writeEncoderFolder(options: EncoderFolderOptions): EncoderFolder {
  const shape = encoderShape(options.preset, options.overrides);
  const parameters = encoderParameterCount(shape);
  if (options.fused && shape.family !== 'bert') throw new Error(`--fused is written for the decoders and bert-base, not ${options.preset}`);
  const build = shape.family === 'bert' ? (options.fused ? buildBertFusedGraph : buildBertGraph) : buildVitGraph;
  const flags = `--preset ${options.preset}${options.fused ? ' --fused' : ''}`;
  const graph = writeGraphFile(options, parameters, flags, (weights, graphOptions) => build(shape, weights, graphOptions));
  writeJson(options.out, 'config.json', configJson(shape, graph.dataPath !== null));
  if (shape.family === 'vit') {
    writeJson(options.out, 'preprocessor_config.json', preprocessorJson(shape));
  } else {
    writeFileSync(join(options.out, 'tokenizer.json'), JSON.stringify(bertTokenizerJson(shape.vocab)));
    const [pad, unk, cls, sep, mask] = BERT_SPECIALS;
    writeJson(options.out, 'tokenizer_config.json', { cls_token: cls, sep_token: sep, mask_token: mask, pad_token: pad, unk_token: unk, model_max_length: shape.maxPositions, tokenizer_class: 'PreTrainedTokenizerFast', clean_up_tokenization_spaces: false });
    writeJson(options.out, 'special_tokens_map.json', { cls_token: cls, sep_token: sep, mask_token: mask, pad_token: pad, unk_token: unk });
  }
  return { shape, parameters, ...graph };
}
