// One generated decoder export folder: the graph (graphFile.ts), config.json,
// generation_config.json and the tokenizer files at the root, as an Optimum export copied into a
// transformers.js repository has them.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { configJson, generationConfigJson } from './configJson.ts';
import { buildGpt2FusedGraph } from './gpt2FusedGraph.ts';
import { buildGpt2Graph } from './gpt2Graph.ts';
import { writeGraphFile, writeJson, type GraphFile, type GraphFileOptions } from './graphFile.ts';
import { buildLlamaFusedGraph } from './llamaFusedGraph.ts';
import { buildLlamaGraph } from './llamaGraph.ts';
import { decoderParameterCount, decoderShape, type DecoderShape, type PresetName, type ShapeOverrides } from './presets.ts';
import { SPECIAL_TOKENS_MAP, byteLevelTokenizerJson, tokenizerConfigJson } from './tokenizer.ts';

export { DATA_FILE, PROTOBUF_LIMIT, type FolderLayout } from './graphFile.ts';

export interface HfFolderOptions extends GraphFileOptions {
  preset: PresetName;
  overrides?: ShapeOverrides;
  /** The ORT tools' fused shape (llamaFusedGraph.ts, gpt2FusedGraph.ts). */
  fused?: boolean;
}

export interface HfFolder extends GraphFile {
  shape: DecoderShape;
  parameters: number;
}

export function writeHfFolder(options: HfFolderOptions): HfFolder {
  const shape = decoderShape(options.preset, options.overrides);
  if (options.fused && shape.family === 'llama' && (shape.hidden / shape.heads) % 16 !== 0) throw new Error(`--fused: head width ${shape.hidden / shape.heads} is not a multiple of 16, which ONNX Runtime's GroupQueryAttention requires`);
  const parameters = decoderParameterCount(shape);
  const build = shape.family === 'gpt2' ? (options.fused ? buildGpt2FusedGraph : buildGpt2Graph) : options.fused ? buildLlamaFusedGraph : buildLlamaGraph;
  const flags = `--preset ${options.preset}${options.fused ? ' --fused' : ''}`;
  const graph = writeGraphFile(options, parameters, flags, (weights, graphOptions) => build(shape, weights, graphOptions));

  writeJson(options.out, 'config.json', configJson(shape, graph.dataPath !== null));
  writeJson(options.out, 'generation_config.json', generationConfigJson(shape));
  writeFileSync(join(options.out, 'tokenizer.json'), JSON.stringify(byteLevelTokenizerJson(shape.vocab)));
  writeJson(options.out, 'tokenizer_config.json', tokenizerConfigJson(shape.maxPositions));
  writeJson(options.out, 'special_tokens_map.json', SPECIAL_TOKENS_MAP);
  return { shape, parameters, ...graph };
}
