// What GpuContext.dispatch binds, without creating a GPU object per dispatch. A SparseGPT sweep
// encodes hundreds of small dispatches on the same few buffers; a uniform buffer and a bind
// group each, created and dropped every time, cost the driver an allocation per dispatch, which
// a real GPU notices long before it notices the arithmetic. So:
//
// - UniformArena: the uniform structs of one command encoder are packed into one buffer at
//   offsets aligned to minUniformBufferOffsetAlignment, written once (queue.writeBuffer) just
//   before the submit that reads them, and bound with a dynamic offset. Queue operations run in
//   order, so rewriting the same buffer for the next encoder cannot reach a submitted one.
// - BindGroupCache: bind groups keyed by the pipeline and the exact buffers and byte ranges of
//   their entries, held in WeakMaps on the buffers, so an entry goes away with its buffers.
import { BufferUsage } from './flags';

/** Dynamic offsets an encoder may use before the arena asks for a submit: 512 · 256 B = 128 KiB. */
export const UNIFORM_ARENA_SLOTS = 512;

export class UniformArena {
  private gpuBuffer: GPUBuffer | null = null;
  private readonly staged: Uint8Array;
  private used = 0;

  constructor(
    private readonly device: GPUDevice,
    /** minUniformBufferOffsetAlignment: every dynamic offset is a multiple of it. */
    readonly alignment: number,
    slots = UNIFORM_ARENA_SLOTS,
  ) {
    this.staged = new Uint8Array(alignment * slots);
  }

  /** The one uniform buffer every bind group of this arena binds (made on first use). */
  get buffer(): GPUBuffer {
    this.gpuBuffer ??= this.device.createBuffer({
      label: 'compression-lab.uniformArena',
      size: this.staged.byteLength,
      usage: BufferUsage.UNIFORM | BufferUsage.COPY_DST,
    });
    return this.gpuBuffer;
  }

  /** Whether `byteLength` more bytes fit before the next upload. */
  fits(byteLength: number): boolean {
    return this.used + byteLength <= this.staged.byteLength;
  }

  /** Stages one dispatch's uniform struct; returns its dynamic offset. Check fits() first. */
  append(values: ArrayBuffer): number {
    const offset = this.used;
    this.staged.set(new Uint8Array(values), offset);
    this.used = offset + Math.ceil(values.byteLength / this.alignment) * this.alignment;
    return offset;
  }

  /** Writes the staged structs to the buffer; call right before the submit that reads them. */
  upload(queue: GPUQueue): void {
    if (this.used === 0) return;
    queue.writeBuffer(this.buffer, 0, this.staged.buffer, this.staged.byteOffset, this.used);
    this.used = 0;
  }

  /** Forgets the staged structs of an encoder that will never be submitted. */
  discard(): void {
    this.used = 0;
  }

  destroy(): void {
    this.gpuBuffer?.destroy();
    this.gpuBuffer = null;
    this.used = 0;
  }
}

/** One bind group entry: a buffer's byte range. */
export interface BoundRange {
  buffer: GPUBuffer;
  offset: number;
  size: number;
}

interface CacheNode {
  next: WeakMap<GPUBuffer, CacheNode>;
  /** By pipeline key and the entries' byte ranges. */
  groups: Map<string, GPUBindGroup>;
}

const newNode = (): CacheNode => ({ next: new WeakMap(), groups: new Map() });

export class BindGroupCache {
  private readonly root = newNode();

  /**
   * The bind group of `pipelineKey` over `entries` (in binding order), made by `create` the first
   * time. The path through the WeakMaps is the entries' buffers, so a destroyed and collected
   * buffer takes its bind groups with it, and a new buffer never meets an old bind group.
   */
  get(pipelineKey: string, entries: readonly BoundRange[], create: () => GPUBindGroup): GPUBindGroup {
    let node = this.root;
    for (const { buffer } of entries) {
      let next = node.next.get(buffer);
      if (!next) {
        next = newNode();
        node.next.set(buffer, next);
      }
      node = next;
    }
    const key = `${pipelineKey}|${entries.map((e) => `${e.offset}+${e.size}`).join(',')}`;
    let group = node.groups.get(key);
    if (!group) {
      group = create();
      node.groups.set(key, group);
    }
    return group;
  }
}
