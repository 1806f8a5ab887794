// Writing one generated graph: where it goes in the folder (transformers.js layout: onnx/model.onnx;
// flat: model.onnx), whether its weights go into it or, as Optimum saves models past protobuf's
// 2 GiB limit, into model.onnx_data beside it (streamed as drawn, weights.ts), and the check that
// the builder drew exactly the parameters the shape counts.
import { mkdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeModel } from '../../../src/core/onnx/index.ts';
import type { ModelProto } from '../../../src/core/onnx/types.ts';
import { INIT_STD, type GraphOptions } from './llamaGraph.ts';
import { ExternalWeights, InlineWeights, type WeightSink } from './weights.ts';

export type FolderLayout = 'transformersjs' | 'flat';

/** What every preset's folder takes besides its shape. */
export interface GraphFileOptions {
  out: string;
  seed?: number;
  /** Weights in model.onnx_data even below the 2 GiB limit. */
  externalData?: boolean;
  layout?: FolderLayout;
  /**
   * Init std of linears and embeddings (default HF's 0.02). Given, it also draws biases as
   * N(0, std) and norm weights as 1 + N(0, std) instead of HF's 0 and 1: a test model in which
   * every parameter changes the output.
   */
  initStd?: number;
}

export interface GraphFile {
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

/** Builds the graph into its sink and writes it; `flags` are recorded in the producer name. */
export function writeGraphFile(
  options: GraphFileOptions,
  parameters: number,
  flags: string,
  build: (weights: WeightSink, graphOptions: GraphOptions) => ModelProto,
): GraphFile {
  const seed = options.seed ?? 1;
  const external = options.externalData === true || parameters * 4 >= PROTOBUF_LIMIT - GRAPH_ALLOWANCE;
  const graphDir = options.layout === 'flat' ? options.out : join(options.out, 'onnx');
  mkdirSync(graphDir, { recursive: true });
  const graphPath = join(graphDir, 'model.onnx');
  const dataPath = external ? join(graphDir, DATA_FILE) : null;
  const producer = `compression-lab gen:hf ${flags} --seed ${seed}${options.initStd === undefined ? '' : ` --init-std ${options.initStd}`}`;
  const sink: WeightSink = dataPath ? new ExternalWeights(seed, dataPath, DATA_FILE) : new InlineWeights(seed);
  let model: ModelProto;
  try {
    model = build(sink, { producer, std: options.initStd ?? INIT_STD, perturbStd: options.initStd ?? 0 });
  } finally {
    if (sink instanceof ExternalWeights) sink.close();
  }
  if (sink.bytes !== parameters * 4) throw new Error(`internal: wrote ${sink.bytes} weight bytes, counted ${parameters * 4}`);
  const graph = writeModel(model);
  writeFileSync(graphPath, graph);
  return { graphPath, dataPath, graphBytes: graph.byteLength, dataBytes: dataPath ? statSync(dataPath).size : 0 };
}

export function writeJson(folder: string, name: string, value: unknown): void {
  writeFileSync(join(folder, name), `${JSON.stringify(value, null, 2)}\n`);
}
