// The compressed model as a folder transformers.js loads: config.json (the user's, with a
// `transformers.js_config` entry naming the dtype), the tokenizer files as they were dropped, and
// the graph under onnx/ with the file name transformers.js derives from that dtype — its
// DEFAULT_DTYPE_SUFFIX_MAPPING (src/utils/dtypes.js): fp32 → model.onnx, fp16 → model_fp16.onnx,
// q8 → model_quantized.onnx, q4 → model_q4.onnx, q4f16 → model_q4f16.onnx, int8, uint8, bnb4.
// Packed 4-bit MatMulNBits weights are what transformers.js's own q4 files hold; a model whose
// quantization is simulated (float weights on a grid) is fp32 to the runtime. Zipped with fflate.
import { zipSync } from 'fflate';
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
  /** The compressed graph (external data inlined). */
  model: Uint8Array;
  dtype: TransformersDtype;
  /** The dropped config.json, parsed; absent when there was none. */
  config?: unknown;
  /** Files copied as they were dropped: tokenizer.json, tokenizer_config.json, generation_config.json, … */
  copied: ExportFile[];
}

/** The folder's files, in the layout a transformers.js repository has. */
export function exportFolderFiles(input: FolderExport): ExportFile[] {
  const files: ExportFile[] = [{ path: `onnx/model${DTYPE_SUFFIX[input.dtype]}.onnx`, bytes: input.model }];
  if (input.config !== undefined) {
    const config = isJsonObject(input.config) ? { ...input.config } : {};
    const previous = isJsonObject(config['transformers.js_config']) ? config['transformers.js_config'] : {};
    config['transformers.js_config'] = { ...previous, dtype: input.dtype };
    files.push({ path: 'config.json', bytes: new TextEncoder().encode(`${JSON.stringify(config, null, 2)}\n`) });
  }
  for (const file of input.copied) {
    const name = file.path.slice(file.path.lastIndexOf('/') + 1);
    if (name === 'config.json' || name.endsWith('.onnx')) continue;
    files.push({ path: name, bytes: file.bytes });
  }
  return files;
}

/** The files as one zip under `root/` (stored, not deflated: ONNX weights barely compress). */
export function zipFolder(root: string, files: readonly ExportFile[]): Uint8Array {
  const tree: Record<string, Uint8Array> = {};
  for (const f of files) tree[`${root}/${f.path}`] = f.bytes;
  return zipSync(tree, { level: 0 });
}
