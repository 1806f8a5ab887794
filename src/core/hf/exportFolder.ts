// The compressed model as a folder transformers.js loads: config.json (the user's, with a
// `transformers.js_config` entry naming the dtype), the tokenizer files as they were dropped, and
// the graph under onnx/ with the file name transformers.js derives from that dtype — its
// DEFAULT_DTYPE_SUFFIX_MAPPING (src/utils/dtypes.js): fp32 → model.onnx, fp16 → model_fp16.onnx,
// q8 → model_quantized.onnx, q4 → model_q4.onnx, q4f16 → model_q4f16.onnx, int8, uint8, bnb4.
// Packed 4-bit MatMulNBits weights are what transformers.js's own q4 files hold; a model whose
// quantization is simulated (float weights on a grid) is fp32 to the runtime. Zipped with fflate.
//
// A graph whose weights came in external data, or exceed protobuf's 2 GiB, is written with its
// weights in `onnx/model{suffix}.onnx_data` and `transformers.js_config.use_external_data_format`
// set, which is the name and flag transformers.js loads such a graph by (src/models.js,
// getSession: `${baseName}${suffix}.onnx_data`).
import { zipSync } from 'fflate';
import { externalizeInitializers } from '../onnx/externalWrite.ts';
import type { ModelProto } from '../onnx/types.ts';
import { writeModel } from '../onnx/write.ts';
import { isJsonObject } from '../recipe/reader.ts';

export type TransformersDtype = 'fp32' | 'fp16' | 'q8' | 'q4' | 'q4f16' | 'int8' | 'uint8' | 'bnb4';

export const DTYPE_SUFFIX: Record<TransformersDtype, string> = {
  fp32: '',
  fp16: '_fp16',
  q8: '_quantized',
  q4: '_q4',
  q4f16: '_q4f16',
  int8: '_int8',
  uint8: '_uint8',
  bnb4: '_bnb4',
};

export interface ExportFile {
  path: string;
  bytes: Uint8Array;
}

export interface FolderExport {
  /** The compressed graph (with external references when `externalData` is given). */
  model: Uint8Array;
  /**
   * The graph's external data file, written beside it as onnx/model{suffix}.onnx_data; 'streamed'
   * when the caller already wrote that file there (compressStreamed's sink), so it is not listed.
   */
  externalData?: Uint8Array | 'streamed';
  dtype: TransformersDtype;
  /** The dropped config.json, parsed; absent when there was none. */
  config?: unknown;
  /** Files copied as they were dropped: tokenizer.json, tokenizer_config.json, generation_config.json, … */
  copied: ExportFile[];
}

/** The folder's files, in the layout a transformers.js repository has. */
export function exportFolderFiles(input: FolderExport): ExportFile[] {
  const graph = `onnx/model${DTYPE_SUFFIX[input.dtype]}.onnx`;
  const files: ExportFile[] = [{ path: graph, bytes: input.model }];
  if (input.externalData instanceof Uint8Array) files.push({ path: `${graph}_data`, bytes: input.externalData });
  if (input.config !== undefined) {
    const config = isJsonObject(input.config) ? { ...input.config } : {};
    const previous = isJsonObject(config['transformers.js_config']) ? config['transformers.js_config'] : {};
    // The flag says what this export holds, never what the dropped config said: an inline graph
    // under an inherited `true` is refused by transformers.js (it looks for a data file).
    config['transformers.js_config'] = { ...previous, dtype: input.dtype, use_external_data_format: input.externalData !== undefined };
    files.push({ path: 'config.json', bytes: new TextEncoder().encode(`${JSON.stringify(config, null, 2)}\n`) });
  }
  for (const file of input.copied) {
    const name = file.path.slice(file.path.lastIndexOf('/') + 1);
    if (name === 'config.json' || name.endsWith('.onnx')) continue;
    files.push({ path: name, bytes: file.bytes });
  }
  return files;
}

/** protobuf's limit on one message, less a margin for the graph itself. */
const INLINE_LIMIT = 2 ** 31 - 64 * 2 ** 20;

/**
 * The graph bytes for an export: inline, or (when asked, or when the weights would pass 2 GiB)
 * with its initializers in the side file that exportFolderFiles names after the dtype.
 */
export function exportGraph(model: ModelProto, dtype: TransformersDtype, externalData: boolean): { model: Uint8Array; externalData?: Uint8Array } {
  const weightBytes = (model.graph?.initializer ?? []).reduce((sum, t) => sum + (t.rawData?.byteLength ?? 0), 0);
  if (!externalData && weightBytes < INLINE_LIMIT) return { model: writeModel(model) };
  const location = `model${DTYPE_SUFFIX[dtype]}.onnx_data`;
  const split = externalizeInitializers(model, location);
  const data = new Uint8Array(split.byteLength);
  let offset = 0;
  for (const chunk of split.chunks) {
    data.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return { model: writeModel(split.model), externalData: data };
}

/** The files as one zip under `root/` (stored, not deflated: ONNX weights barely compress). */
export function zipFolder(root: string, files: readonly ExportFile[]): Uint8Array {
  const tree: Record<string, Uint8Array> = {};
  for (const f of files) tree[`${root}/${f.path}`] = f.bytes;
  return zipSync(tree, { level: 0 });
}
