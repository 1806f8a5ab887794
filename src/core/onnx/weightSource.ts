// Weights that stay in their file until a session needs them, and weights written out as they are
// produced. A model over protobuf's 2 GiB limit keeps its tensors in external data
// (onnx.proto TensorProto.external_data); reading the whole side file into one buffer would hold
// the model once more than the compression needs (a 1.1 B model: 4.4 GB). So the lab reads a
// tensor's bytes by range, when a block's session is built, from a WeightSource:
//   - in the browser, a dropped File: `Blob.slice(a, b).arrayBuffer()` reads only that range;
//   - in Node (CLI, bench), a file handle (src/cli/weightFiles.ts);
//   - in tests and for small models, bytes already in memory.
// The compressed weights go the other way, to a WeightSink, in the order they are produced: a
// file stream in Node, an origin-private-file-system file in a browser worker, or memory up to a
// stated limit (memoryWeightSink) where neither exists.
import { ExternalDataError } from './external.ts';
import { quoteName } from './display.ts';

/** One external-data file, read by byte range. */
export interface WeightSource {
  /** The file's name as the model's "location" gives it (for messages). */
  readonly name: string;
  /** Its length in bytes. */
  readonly size: number;
  /** `length` bytes from `offset`; a fresh array the caller may keep. */
  read(offset: number, length: number): Promise<Uint8Array>;
}

/** Where the compressed model's external data is written, front to back. */
export interface WeightSink {
  /** The "location" the written model names for these bytes, e.g. "model.onnx_data". */
  readonly location: string;
  /** Bytes appended so far: the offset the next append starts at. */
  readonly written: number;
  append(bytes: Uint8Array): Promise<void>;
  /** Flushes and closes the file; nothing may be appended after. */
  close(): Promise<void>;
}

/** A source over bytes already in memory (a small model's side file, tests). */
export function bytesWeightSource(name: string, bytes: Uint8Array): WeightSource {
  return {
    name,
    size: bytes.byteLength,
    async read(offset, length) {
      checkRange(name, bytes.byteLength, offset, length);
      return bytes.slice(offset, offset + length);
    },
  };
}

/** What the source needs of a Blob / File (structural, so src/core names no DOM type). */
export interface SliceableFile {
  readonly size: number;
  slice(start: number, end: number): { arrayBuffer(): Promise<ArrayBuffer> };
}

/** A source over a browser File: each read is one `slice`, so only that range is loaded. */
export function sliceWeightSource(name: string, file: SliceableFile): WeightSource {
  return {
    name,
    size: file.size,
    async read(offset, length) {
      checkRange(name, file.size, offset, length);
      return new Uint8Array(await file.slice(offset, offset + length).arrayBuffer());
    },
  };
}

export function checkRange(name: string, size: number, offset: number, length: number): void {
  if (offset < 0 || length < 0 || offset + length > size) {
    throw new ExternalDataError(`${quoteName(name)}: bytes ${offset}..${offset + length} are outside the file (${size} bytes); the external data is shorter than the tensors need`);
  }
}

/** Thrown when an in-memory sink would pass its limit. */
export class SinkLimitError extends Error {
  override name = 'SinkLimitError';
}

/**
 * A sink from two operations on its file: `write(bytes, at)` puts the bytes at `at`, the count
 * appended so far (kept here, so every sink counts alike), and `close` finishes the file.
 */
export function positionedWeightSink(location: string, write: (bytes: Uint8Array, at: number) => void | Promise<void>, close: () => void | Promise<void>): WeightSink {
  let written = 0;
  return {
    location,
    get written() {
      return written;
    },
    async append(bytes) {
      await write(bytes, written);
      written += bytes.byteLength;
    },
    async close() {
      await close();
    },
  };
}

/**
 * A sink that keeps the bytes in memory, for a download where no file can be streamed to (a
 * browser without the File System Access API). `limit` is the most it will hold: past it the
 * append throws, saying how much was asked and what to do, instead of the tab running out of memory.
 */
export function memoryWeightSink(location: string, limit: number): WeightSink & { chunks(): Uint8Array[] } {
  const chunks: Uint8Array[] = [];
  let closed = false;
  const sink = positionedWeightSink(
    location,
    (bytes, at) => {
      if (closed) throw new Error(`${quoteName(location)}: appended after close`);
      if (at + bytes.byteLength > limit) {
        const mb = (n: number) => `${(n / 1e6).toFixed(0)} MB`;
        throw new SinkLimitError(
          `${quoteName(location)}: the compressed weights pass ${mb(limit)}, the most this page keeps in memory for a download; use a browser with the File System Access API (Chrome, Edge) to stream them to disk, or the CLI`,
        );
      }
      chunks.push(bytes);
    },
    () => {
      closed = true;
    },
  );
  // Object.assign, not a spread: a spread would copy `written` once instead of keeping its getter.
  return Object.assign(sink, { chunks: () => chunks });
}

/** What the sink needs of a FileSystemSyncAccessHandle (OPFS, in a worker): positioned writes. */
export interface SyncWriteHandle {
  write(buffer: Uint8Array, options: { at: number }): number;
  flush(): void;
  close(): void;
}

/**
 * A sink over a file of the origin-private file system (navigator.storage.getDirectory() in a
 * worker, then createSyncAccessHandle()): the bytes go to disk, not to the tab's memory, in every
 * browser with OPFS; the finished file is offered for download as a File, read from disk.
 */
export function syncHandleWeightSink(location: string, handle: SyncWriteHandle): WeightSink {
  return positionedWeightSink(
    location,
    (bytes, at) => {
      for (let done = 0; done < bytes.byteLength; ) done += handle.write(bytes.subarray(done), { at: at + done });
    },
    () => {
      handle.flush();
      handle.close();
    },
  );
}
