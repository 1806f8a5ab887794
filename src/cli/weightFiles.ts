// WeightSource and WeightSink (src/core/onnx/weightSource.ts) on Node file handles: a tensor's
// bytes are read with one positioned read when a block's session needs them, and the compressed
// weights are appended to the output file as they are produced. Paths inside a model folder are
// checked by the caller (externalDataRefs refuses absolute and climbing locations).
import { open, type FileHandle } from 'node:fs/promises';
import { basename } from 'node:path';
import { ExternalDataError, externalDataRefs, type ModelProto } from '../core/onnx/index.ts';
import { normalizeLocation } from '../core/onnx/external.ts';
import { checkRange, positionedWeightSink, type WeightSink, type WeightSource } from '../core/onnx/weightSource.ts';

export interface FileWeightSource extends WeightSource {
  close(): Promise<void>;
}

export async function fileWeightSource(path: string, name = basename(path)): Promise<FileWeightSource> {
  const handle = await open(path, 'r');
  const { size } = await handle.stat();
  return {
    name,
    size,
    async read(offset, length) {
      checkRange(name, size, offset, length);
      const out = new Uint8Array(length);
      let done = 0;
      while (done < length) {
        const { bytesRead } = await handle.read(out, done, length - done, offset + done);
        if (bytesRead === 0) throw new ExternalDataError(`${name}: the file ended at byte ${offset + done} (it changed while being read)`);
        done += bytesRead;
      }
      return out;
    },
    close: () => handle.close(),
  };
}

/** Opens every external-data file the model names, in its folder. */
export async function modelWeightSources(model: ModelProto, folder: string): Promise<FileWeightSource[]> {
  const locations = [...new Set(externalDataRefs(model).map((ref) => normalizeLocation(ref.location)))];
  return Promise.all(locations.map((location) => fileWeightSource(`${folder}/${location}`, location)));
}

/** Appends to a new file at `path`; `location` is how the written model names it. */
export async function fileWeightSink(path: string, location = basename(path)): Promise<WeightSink> {
  const handle: FileHandle = await open(path, 'w');
  return positionedWeightSink(
    location,
    async (bytes, at) => {
      for (let done = 0; done < bytes.byteLength; ) done += (await handle.write(bytes, done, bytes.byteLength - done, at + done)).bytesWritten;
    },
    () => handle.close(),
  );
}
