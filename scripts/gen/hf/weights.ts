// Where the generated weights go: into the graph (rawData) or, as Optimum saves models over
// protobuf's 2 GiB limit, into `model.onnx_data` beside it, written tensor by tensor as it is
// generated (fs.writeSync in chunks) so that a 4.4 GB TinyLlama never sits in memory.
// Both sinks draw the same numbers in the same order, so a seed gives the same model either way.
import { closeSync, openSync, writeSync } from 'node:fs';
import { DataType, type TensorProto } from '../../../src/core/onnx/types.ts';
import { NormalSource, floatTensor } from '../gpt2Model.ts';

/** How a parameter is initialised: HF's _init_weights draws linears and embeddings from N(0, std); norms are 1, biases 0. */
export type WeightInit = { normal: number } | { constant: number };

export interface WeightSink {
  float(name: string, dims: number[], init: WeightInit): TensorProto;
  /** Bytes of float data handed out so far. */
  readonly bytes: number;
}

/** Floats drawn per chunk: even, so chunked Box–Muller pairs match a whole-array fill. */
const CHUNK = 1 << 20;

function fillChunk(normal: NormalSource, out: Float32Array, init: WeightInit): Float32Array {
  return 'normal' in init ? normal.fill(out, init.normal) : out.fill(init.constant);
}

const elements = (dims: number[]): number => dims.reduce((a, b) => a * b, 1);

export class InlineWeights implements WeightSink {
  private readonly normal: NormalSource;
  bytes = 0;
  constructor(seed: number) {
    this.normal = new NormalSource(seed);
  }
  float(name: string, dims: number[], init: WeightInit): TensorProto {
    const values = new Float32Array(elements(dims));
    for (let start = 0; start < values.length; start += CHUNK) fillChunk(this.normal, values.subarray(start, start + CHUNK), init);
    this.bytes += values.byteLength;
    return floatTensor(name, dims, values);
  }
}

/**
 * Tensors appended to one data file. Offsets are aligned to 4096 bytes for tensors of 1 MiB and
 * more, as onnx.external_data_helper does (align_offset), so a reader may map them page-aligned.
 */
export class ExternalWeights implements WeightSink {
  private readonly normal: NormalSource;
  private readonly fd: number;
  private offset = 0;
  bytes = 0;
  constructor(
    seed: number,
    path: string,
    /** The "location" entry: the data file's name relative to the graph. */
    private readonly location: string,
  ) {
    this.normal = new NormalSource(seed);
    this.fd = openSync(path, 'w');
  }
  float(name: string, dims: number[], init: WeightInit): TensorProto {
    const count = elements(dims);
    if (count * 4 >= 1 << 20 && this.offset % 4096 !== 0) this.pad(4096 - (this.offset % 4096));
    const start = this.offset;
    const chunk = new Float32Array(Math.min(CHUNK, count));
    for (let done = 0; done < count; done += CHUNK) {
      const part = fillChunk(this.normal, chunk.subarray(0, Math.min(CHUNK, count - done)), init);
      this.write(new Uint8Array(part.buffer, part.byteOffset, part.byteLength));
    }
    this.bytes += count * 4;
    return {
      name,
      dims,
      dataType: DataType.FLOAT,
      dataLocation: 1,
      externalData: [
        { key: 'location', value: this.location },
        { key: 'offset', value: String(start) },
        { key: 'length', value: String(count * 4) },
      ],
    };
  }
  close(): void {
    closeSync(this.fd);
  }
  private pad(n: number): void {
    this.write(new Uint8Array(n));
  }
  private write(bytes: Uint8Array): void {
    for (let written = 0; written < bytes.length; ) written += writeSync(this.fd, bytes, written, bytes.length - written);
    this.offset += bytes.length;
  }
}
