// An encoder export folder: BERT (fill-mask) with a byte-level tokenizer carrying BERT's special
// tokens, or ViT (image classification) with a preprocessor_config.json and no tokenizer; the
// graph and its external data laid out as folder.ts lays out the decoders'.
import { mkdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeModel } from '../../../src/core/onnx/index.ts';
import { buildBertGraph, buildVitGraph } from './encoderGraph.ts';
import { BERT_SPECIALS, encoderParameterCount, encoderShape, type EncoderOverrides, type EncoderPresetName, type EncoderShape } from './encoderPresets.ts';
import { DATA_FILE, PROTOBUF_LIMIT, type FolderLayout } from './folder.ts';
import { INIT_STD } from './llamaGraph.ts';
import { byteLevelTokenizerJson } from './tokenizer.ts';
import { ExternalWeights, InlineWeights, type WeightSink } from './weights.ts';

export interface EncoderFolderOptions {
  preset: EncoderPresetName;
  out: string;
  overrides?: EncoderOverrides;
  seed?: number;
  externalData?: boolean;
  layout?: FolderLayout;
  initStd?: number;
}

export interface EncoderFolder {
  shape: EncoderShape;
  parameters: number;
  graphPath: string;
  dataPath: string | null;
  graphBytes: number;
  dataBytes: number;
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
  const seed = options.seed ?? 1;
  const parameters = encoderParameterCount(shape);
  const external = options.externalData === true || parameters * 4 >= PROTOBUF_LIMIT - (64 << 20);
  const graphDir = options.layout === 'flat' ? options.out : join(options.out, 'onnx');
  mkdirSync(graphDir, { recursive: true });
  const graphPath = join(graphDir, 'model.onnx');
  const dataPath = external ? join(graphDir, DATA_FILE) : null;
  const producer = `compression-lab gen:hf --preset ${options.preset} --seed ${seed}${options.initStd === undefined ? '' : ` --init-std ${options.initStd}`}`;
  const sink: WeightSink = dataPath ? new ExternalWeights(seed, dataPath, DATA_FILE) : new InlineWeights(seed);
  const graphOptions = { producer, std: options.initStd ?? INIT_STD, perturbStd: options.initStd ?? 0 };
  let model;
  try {
    model = shape.family === 'bert' ? buildBertGraph(shape, sink, graphOptions) : buildVitGraph(shape, sink, graphOptions);
  } finally {
    if (sink instanceof ExternalWeights) sink.close();
  }
  if (sink.bytes !== parameters * 4) throw new Error(`internal: wrote ${sink.bytes} weight bytes, counted ${parameters * 4}`);
  const graph = writeModel(model);
  writeFileSync(graphPath, graph);
  const json = (name: string, value: unknown) => writeFileSync(join(options.out, name), `${JSON.stringify(value, null, 2)}\n`);
  json('config.json', configJson(shape, external));
  if (shape.family === 'vit') {
    json('preprocessor_config.json', preprocessorJson(shape));
  } else {
    writeFileSync(join(options.out, 'tokenizer.json'), JSON.stringify(bertTokenizerJson(shape.vocab)));
    const [pad, unk, cls, sep, mask] = BERT_SPECIALS;
    json('tokenizer_config.json', { cls_token: cls, sep_token: sep, mask_token: mask, pad_token: pad, unk_token: unk, model_max_length: shape.maxPositions, tokenizer_class: 'PreTrainedTokenizerFast', clean_up_tokenization_spaces: false });
    json('special_tokens_map.json', { cls_token: cls, sep_token: sep, mask_token: mask, pad_token: pad, unk_token: unk });
  }
  return { shape, parameters, graphPath, dataPath, graphBytes: graph.byteLength, dataBytes: dataPath ? statSync(dataPath).size : 0 };
}
