// One generated export folder: the graph (transformers.js layout: onnx/model.onnx, flat:
// model.onnx), its external data when asked or when the weights pass protobuf's 2 GiB limit,
// config.json, generation_config.json and the tokenizer files at the root, as an Optimum export
// copied into a transformers.js repository has them.
import { mkdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeModel } from '../../../src/core/onnx/index.ts';
import { configJson, generationConfigJson } from './configJson.ts';
import { buildGpt2Graph } from './gpt2Graph.ts';
import { buildLlamaGraph } from './llamaGraph.ts';
import { decoderParameterCount, decoderShape, type DecoderShape, type PresetName, type ShapeOverrides } from './presets.ts';
import { SPECIAL_TOKENS_MAP, byteLevelTokenizerJson, tokenizerConfigJson } from './tokenizer.ts';
import { ExternalWeights, InlineWeights, type WeightSink } from './weights.ts';

export type FolderLayout = 'transformersjs' | 'flat';

export interface HfFolderOptions {
  preset: PresetName;
  out: string;
  overrides?: ShapeOverrides;
  seed?: number;
  /** Weights in model.onnx_data even below the 2 GiB limit. */
  externalData?: boolean;
  layout?: FolderLayout;
}

export interface HfFolder {
  shape: DecoderShape;
  parameters: number;
  /** The graph's path, and the data file's when there is one. */
  graphPath: string;
  dataPath: string | null;
  graphBytes: number;
  dataBytes: number;
}

/** protobuf's limit on one message: a model whose weights reach it must keep them outside. */
export const PROTOBUF_LIMIT = 2 ** 31;
/** Room left for the graph itself beside the weights. */
const GRAPH_ALLOWANCE = 64 << 20;

export const DATA_FILE = 'model.onnx_data';

export function writeHfFolder(options: HfFolderOptions): HfFolder {
  const shape = decoderShape(options.preset, options.overrides);
  const seed = options.seed ?? 1;
  const parameters = decoderParameterCount(shape);
  const external = options.externalData === true || parameters * 4 >= PROTOBUF_LIMIT - GRAPH_ALLOWANCE;
  const graphDir = options.layout === 'flat' ? options.out : join(options.out, 'onnx');
  mkdirSync(graphDir, { recursive: true });
  const graphPath = join(graphDir, 'model.onnx');
  const dataPath = external ? join(graphDir, DATA_FILE) : null;

  const producer = `compression-lab gen:hf --preset ${options.preset} --seed ${seed}`;
  const sink: WeightSink = dataPath ? new ExternalWeights(seed, dataPath, DATA_FILE) : new InlineWeights(seed);
  let model;
  try {
    model = shape.family === 'gpt2' ? buildGpt2Graph(shape, sink, producer) : buildLlamaGraph(shape, sink, producer);
  } finally {
    if (sink instanceof ExternalWeights) sink.close();
  }
  if (sink.bytes !== parameters * 4) throw new Error(`internal: wrote ${sink.bytes} weight bytes, counted ${parameters * 4}`);
  const graph = writeModel(model);
  writeFileSync(graphPath, graph);

  const json = (name: string, value: unknown) => writeFileSync(join(options.out, name), `${JSON.stringify(value, null, 2)}\n`);
  json('config.json', configJson(shape, external));
  json('generation_config.json', generationConfigJson(shape));
  writeFileSync(join(options.out, 'tokenizer.json'), JSON.stringify(byteLevelTokenizerJson(shape.vocab)));
  json('tokenizer_config.json', tokenizerConfigJson(shape.maxPositions));
  json('special_tokens_map.json', SPECIAL_TOKENS_MAP);
  return {
    shape,
    parameters,
    graphPath,
    dataPath,
    graphBytes: graph.byteLength,
    dataBytes: dataPath ? statSync(dataPath).size : 0,
  };
}
