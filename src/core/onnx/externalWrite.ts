// The inverse of resolveExternalData: a model's large initializers moved to one side file, as
// onnx.external_data_helper.convert_model_to_external_data(all_tensors_to_one_file=True,
// size_threshold=1024) writes them — each tensor keeps its name, dims and type, loses raw_data,
// and gets data_location = EXTERNAL with "location", "offset" and "length". A graph whose weights
// exceed protobuf's 2 GiB cannot be written any other way; transformers.js names the file
// `{graph}.onnx_data` (its `use_external_data_format`).
import type { ModelProto, TensorProto } from './types.ts';

/** Offsets are aligned to this many bytes (onnx's helper aligns large tensors to pages; 64 keeps typed views aligned). */
const ALIGN = 64;

export interface ExternalizedModel {
  /** The graph, with external references instead of raw bytes (write it with writeModel). */
  model: ModelProto;
  /** The side file's contents, in order (concatenate or stream them). */
  chunks: Uint8Array[];
  /** Its length in bytes. */
  byteLength: number;
}

/**
 * `model` with every top-level initializer of at least `minBytes` raw bytes moved to `location`.
 * The input model is not changed: moved tensors are copies without their raw_data.
 */
export function externalizeInitializers(model: ModelProto, location: string, minBytes = 1024): ExternalizedModel {
  const graph = model.graph;
  if (graph === undefined) return { model, chunks: [], byteLength: 0 };
  const chunks: Uint8Array[] = [];
  let offset = 0;
  const initializer = (graph.initializer ?? []).map((tensor): TensorProto => {
    const raw = tensor.rawData;
    if (raw === undefined || raw.byteLength < minBytes) return tensor;
    const pad = (ALIGN - (offset % ALIGN)) % ALIGN;
    if (pad > 0) chunks.push(new Uint8Array(pad));
    offset += pad;
    chunks.push(raw);
    const moved: TensorProto = { ...tensor, dataLocation: 1, externalData: [
      { key: 'location', value: location },
      { key: 'offset', value: String(offset) },
      { key: 'length', value: String(raw.byteLength) },
    ] };
    delete moved.rawData;
    offset += raw.byteLength;
    return moved;
  });
  return { model: { ...model, graph: { ...graph, initializer } }, chunks, byteLength: offset };
}
