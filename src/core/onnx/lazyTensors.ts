// Tensors whose bytes are read from their WeightSource only when a session needs them, and a
// model written with its weights streamed to a WeightSink. Together they let a model far over
// protobuf's 2 GiB limit pass through the lab one block at a time (docs/hf-memory.md): the
// ModelProto holds the graph and external-data references, never the whole model's bytes.
import { ExternalDataError, expectedByteLength, normalizeLocation, tensorExternalRef } from './external.ts';
import { quoteName } from './display.ts';
import { float32ToRawData } from './tensor.ts';
import type { ModelProto, TensorProto } from './types.ts';
import type { WeightSink, WeightSource } from './weightSource.ts';
import { writeModel } from './write.ts';

/** Finds the source for a location as external.ts finds a file: exact, normalised, then bare name. */
export type WeightSources = (location: string) => WeightSource | undefined;

export function weightSources(sources: readonly WeightSource[]): WeightSources {
  const byName = new Map(sources.map((source) => [source.name, source]));
  return (location) => {
    const normalized = normalizeLocation(location);
    return byName.get(location) ?? byName.get(normalized) ?? byName.get(normalized.slice(normalized.lastIndexOf('/') + 1));
  };
}

/** A tensor's range in its source, checked against the file and against its dims and dtype. */
function rangeOf(tensor: TensorProto, sources: WeightSources): { source: WeightSource; offset: number; length: number } {
  const ref = tensorExternalRef(tensor)!;
  const source = sources(ref.location);
  if (source === undefined) throw new ExternalDataError(`Tensor ${quoteName(ref.tensorName)}: its external data file ${quoteName(ref.location)} was not given`);
  const length = ref.length ?? source.size - ref.offset;
  if (ref.offset + length > source.size) {
    throw new ExternalDataError(`Tensor ${quoteName(ref.tensorName)}: bytes ${ref.offset}..${ref.offset + length} are outside ${quoteName(ref.location)} (${source.size} bytes)`);
  }
  const expected = expectedByteLength(tensor);
  if (expected !== undefined && expected !== length) {
    throw new ExternalDataError(`Tensor ${quoteName(ref.tensorName)}: ${quoteName(ref.location)} gives ${length} bytes, but its dims and data_type need ${expected}`);
  }
  return { source, offset: ref.offset, length };
}

/** Whether the tensor's bytes are in a side file rather than in the tensor. */
export const isExternalTensor = (tensor: TensorProto): boolean => tensor.dataLocation === 1;

/** Copies of `tensors` with every external one's bytes read into raw_data; inline ones as they are. */
export async function resolveTensors(tensors: readonly TensorProto[], sources: WeightSources): Promise<TensorProto[]> {
  return Promise.all(
    tensors.map(async (tensor) => {
      if (!isExternalTensor(tensor)) return tensor;
      const { source, offset, length } = rangeOf(tensor, sources);
      const { externalData: _e, dataLocation: _l, ...rest } = tensor;
      return { ...rest, rawData: await source.read(offset, length) };
    }),
  );
}

/** A model whose initializers are all inline: what an ORT session is created from. */
export async function resolveModelWeights(model: ModelProto, sources: WeightSources): Promise<ModelProto> {
  const graph = model.graph;
  if (graph === undefined || !(graph.initializer ?? []).some(isExternalTensor)) return model;
  return { ...model, graph: { ...graph, initializer: await resolveTensors(graph.initializer ?? [], sources) } };
}

/** The bytes a tensor stores inline, when it has a numeric payload worth moving out (raw_data or float_data). */
function inlinePayload(tensor: TensorProto): Uint8Array | undefined {
  if (tensor.rawData !== undefined) return tensor.rawData;
  if (tensor.floatData !== undefined) return float32ToRawData(tensor.floatData);
  return undefined;
}

function externalRef(tensor: TensorProto, location: string, offset: number, length: number): TensorProto {
  const { rawData: _r, floatData: _f, externalData: _e, dataLocation: _l, ...rest } = tensor;
  return {
    ...rest,
    dataLocation: 1,
    externalData: [
      { key: 'location', value: location },
      { key: 'offset', value: String(offset) },
      { key: 'length', value: String(length) },
    ],
  };
}

/**
 * The tensors flushTensor made, with the sink their bytes went to. The sink's location may be the
 * same name as the source's ("model.onnx_data" in another folder), so a reference's text cannot
 * tell which file it means; the tensor object can.
 */
const flushedTo = new WeakMap<TensorProto, WeightSink>();

/** Appends an inline tensor's bytes to the sink; the returned tensor refers to them there. */
export async function flushTensor(tensor: TensorProto, sink: WeightSink): Promise<TensorProto> {
  const payload = inlinePayload(tensor);
  if (payload === undefined) return tensor;
  const offset = sink.written;
  await sink.append(payload);
  const flushed = externalRef(tensor, sink.location, offset, payload.byteLength);
  flushedTo.set(flushed, sink);
  return flushed;
}

/** Copied from a source to the sink in pieces of this size, so a 262 MB embedding is never one buffer twice. */
const COPY_CHUNK = 64 << 20;

export interface StreamedWriteOptions {
  sources: WeightSources;
  sink: WeightSink;
  /** Inline tensors smaller than this stay in the .onnx file (norm scales, shapes); default 1 KiB. */
  inlineBelow?: number;
}

/**
 * Writes `model` as a .onnx file whose weights are in the sink: inline tensors of `inlineBelow`
 * bytes or more are appended, external ones in another file are copied over range by range, and
 * those flushTensor already put in this sink (as the compression produced them) keep their reference.
 * Returns the .onnx bytes (graph and references only) and closes the sink.
 */
export async function writeModelStreamed(model: ModelProto, options: StreamedWriteOptions): Promise<Uint8Array> {
  const { sink, sources } = options;
  const inlineBelow = options.inlineBelow ?? 1024;
  const graph = model.graph;
  if (graph === undefined) throw new Error('writeModelStreamed: the model has no graph');
  const initializer: TensorProto[] = [];
  for (const tensor of graph.initializer ?? []) {
    if (flushedTo.get(tensor) === sink) {
      initializer.push(tensor);
      continue;
    }
    if (isExternalTensor(tensor)) {
      const { source, offset, length } = rangeOf(tensor, sources);
      const at = sink.written;
      for (let done = 0; done < length; done += COPY_CHUNK) await sink.append(await source.read(offset + done, Math.min(COPY_CHUNK, length - done)));
      initializer.push(externalRef(tensor, sink.location, at, length));
      continue;
    }
    const payload = inlinePayload(tensor);
    initializer.push(payload !== undefined && payload.byteLength >= inlineBelow ? await flushTensor(tensor, sink) : tensor);
  }
  await sink.close();
  return writeModel({ ...model, graph: { ...graph, initializer } });
}
