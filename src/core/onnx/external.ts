// External data (onnx.proto TensorProto.external_data): tensors whose bytes live in a side file,
// described by "location" (path relative to the model), "offset" and "length" (decimal strings).
// Models over protobuf's 2 GiB limit are always saved this way.

import { DataType, type ModelProto, type TensorProto } from './types.ts';
import { dtypeInfo, rawByteLength } from './dtypes.ts';
import { modelTensors } from './graph.ts';
import { tensorElementCount } from './tensor.ts';
import { quoteName } from './display.ts';
import { folderPathProblem } from './paths.ts';

export interface ExternalDataRef {
  tensor: TensorProto;
  tensorName: string;
  /** The "location" entry as written in the model, e.g. "model.onnx.data". */
  location: string;
  /** Byte offset in the file (0 when absent). */
  offset: number;
  /** Byte length, or undefined: then the data runs to the end of the file. */
  length: number | undefined;
}

/** Missing files or bad ranges; `missingFiles` maps each absent file to the tensors needing it. */
export class ExternalDataError extends Error {
  constructor(
    message: string,
    readonly missingFiles: ReadonlyMap<string, string[]> = new Map(),
  ) {
    super(message);
    this.name = 'ExternalDataError';
  }
}

function parseByteCount(tensorName: string, key: string, text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const value = Number(text);
  if (!/^\d+$/.test(text.trim()) || !Number.isSafeInteger(value)) {
    throw new ExternalDataError(`Tensor ${quoteName(tensorName)}: external_data "${key}" is ${quoteName(text)}, not a byte count`);
  }
  return value;
}

/**
 * Tensors with data_location = EXTERNAL, in model order. A location that is absolute or climbs
 * out of the model's folder is refused here, before any file is looked up.
 */
export function externalDataRefs(model: ModelProto): ExternalDataRef[] {
  return [...modelTensors(model)].flatMap((tensor) => {
    const ref = tensorExternalRef(tensor);
    return ref ? [ref] : [];
  });
}

/** One tensor's external-data reference, checked as externalDataRefs checks it; undefined when it is stored inline. */
export function tensorExternalRef(tensor: TensorProto): ExternalDataRef | undefined {
  if (tensor.dataLocation !== 1) return undefined;
  const tensorName = tensor.name ?? '';
  // A repeated key: the last entry wins, as in onnx.external_data_helper.ExternalDataInfo.
  const entry = (key: string) => tensor.externalData?.findLast((e) => e.key === key)?.value;
  const location = entry('location');
  if (location === undefined || location === '') {
    throw new ExternalDataError(`Tensor ${quoteName(tensorName)} has data_location EXTERNAL but no "location" in external_data`);
  }
  const problem = folderPathProblem(location);
  if (problem !== undefined) {
    throw new ExternalDataError(`Tensor ${quoteName(tensorName)}: external_data "location" ${problem}`);
  }
  return {
    tensor,
    tensorName,
    location,
    offset: parseByteCount(tensorName, 'offset', entry('offset')) ?? 0,
    length: parseByteCount(tensorName, 'length', entry('length')),
  };
}

/** "./a/b.data" → "a/b.data": locations are POSIX paths relative to the model's folder. */
export function normalizeLocation(location: string): string {
  return location.replace(/\\/g, '/').replace(/^(\.\/)+/, '');
}

/**
 * Finds the file for a location: exact key, then normalised path, then the bare file name (a
 * browser file picker yields names without folders).
 */
function findFile<T>(files: ReadonlyMap<string, T>, location: string): T | undefined {
  const normalized = normalizeLocation(location);
  const baseName = normalized.slice(normalized.lastIndexOf('/') + 1);
  return files.get(location) ?? files.get(normalized) ?? files.get(baseName);
}

/**
 * Loads external data into the model in place: each EXTERNAL tensor gets rawData (a zero-copy
 * view of the supplied file) and loses external_data/data_location, so the model becomes
 * self-contained. `files` maps location (or bare file name) → file bytes. Throws
 * ExternalDataError naming every missing file and the tensors that need it, before changing
 * anything.
 */
export function resolveExternalData(model: ModelProto, files: ReadonlyMap<string, Uint8Array>): ModelProto {
  const refs = checkedRefs(model, new Map([...files].map(([name, bytes]) => [name, bytes.byteLength])));
  const slices = refs.map((ref) => {
    const file = findFile(files, ref.location)!;
    return file.subarray(ref.offset, externalEnd(ref, file.byteLength));
  });
  refs.forEach((ref, i) => {
    ref.tensor.rawData = slices[i];
    delete ref.tensor.externalData;
    delete ref.tensor.dataLocation;
  });
  return model;
}

function missingFilesError(missing: Map<string, string[]>): ExternalDataError {
  const lines = [...missing].map(([file, tensors]) => {
    const shown = tensors.slice(0, 5).map((t) => quoteName(t)).join(', ');
    const more = tensors.length > 5 ? ` and ${tensors.length - 5} more` : '';
    return `${quoteName(file)} (needed by ${tensors.length} tensor${tensors.length === 1 ? '' : 's'}: ${shown}${more})`;
  });
  const files = missing.size === 1 ? 'file' : 'files';
  return new ExternalDataError(
    `Missing external data ${files}: ${lines.join('; ')}. Load the ${files} saved next to the .onnx model together with it.`,
    missing,
  );
}

/** The byte count a tensor's dims and dtype need, or undefined for a dtype without a fixed width (strings). */
export function expectedByteLength(tensor: TensorProto): number | undefined {
  const info = dtypeInfo(tensor.dataType ?? DataType.UNDEFINED);
  return info !== undefined && info.bits > 0 ? rawByteLength(info, tensorElementCount(tensor)) : undefined;
}

/** Where the tensor's bytes end in a file of `fileSize` bytes, refused when outside it or not what its dims need. */
function externalEnd(ref: ExternalDataRef, fileSize: number): number {
  const end = ref.length === undefined ? fileSize : ref.offset + ref.length;
  const label = `Tensor ${quoteName(ref.tensorName)}`;
  if (ref.offset > fileSize || end > fileSize) {
    throw new ExternalDataError(`${label}: bytes ${ref.offset}..${end} are outside ${quoteName(ref.location)} (${fileSize} bytes)`);
  }
  const info = dtypeInfo(ref.tensor.dataType ?? DataType.UNDEFINED);
  if (info !== undefined && info.bits > 0) {
    const expected = rawByteLength(info, tensorElementCount(ref.tensor));
    if (end - ref.offset !== expected) {
      throw new ExternalDataError(`${label}: ${quoteName(ref.location)} gives ${end - ref.offset} bytes, but its dims and ${info.dtype} need ${expected}`);
    }
  }
  return end;
}

/**
 * The model's external references, checked against the files' sizes alone (no byte read): every
 * file present, every range inside its file and of the length its dims need. What
 * resolveExternalData checks, for a model whose weights stay in their files (read by range later).
 */
export function checkedRefs(model: ModelProto, sizes: ReadonlyMap<string, number>): ExternalDataRef[] {
  const refs = externalDataRefs(model);
  const missing = new Map<string, string[]>();
  for (const ref of refs) {
    if (findFile(sizes, ref.location) !== undefined) continue;
    const file = normalizeLocation(ref.location);
    missing.set(file, [...(missing.get(file) ?? []), ref.tensorName]);
  }
  if (missing.size > 0) throw missingFilesError(missing);
  for (const ref of refs) externalEnd(ref, findFile(sizes, ref.location)!);
  return refs;
}
