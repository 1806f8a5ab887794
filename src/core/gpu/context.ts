// GpuContext owns one GPUDevice for the lab's compute kernels: it caches pipelines by program
// key, creates, uploads and reads back labelled buffers, batches dispatches into one command
// encoder, and turns WebGPU's asynchronous errors (error scopes, device loss) into thrown
// GpuErrors that name the programs involved. It never looks for a device itself: the caller
// (a browser service via navigator.gpu, or a Node test via the `webgpu` package) passes one in.
import { BindGroupCache, UniformArena, type BoundRange } from './bindings';
import { BufferUsage, MapMode, ShaderStage } from './flags';
import { foldWorkgroups, invocationsPerWorkgroup, packUniforms, type GpuProgram } from './program';

export type GpuErrorKind = 'validation' | 'out-of-memory' | 'internal' | 'device-lost' | 'limit' | 'pipeline';

export class GpuError extends Error {
  constructor(
    readonly kind: GpuErrorKind,
    message: string,
  ) {
    super(message);
    this.name = 'GpuError';
  }
}

/** A buffer or a byte range of one, bound to a storage binding. */
export interface BufferRange {
  buffer: GPUBuffer;
  offset?: number;
  size?: number;
}

export interface DispatchSpec {
  program: GpuProgram;
  uniforms: Readonly<Record<string, number>>;
  /** One entry per storage binding of the program, by binding name. */
  buffers: Readonly<Record<string, GPUBuffer | BufferRange>>;
  /**
   * A number: that many workgroups in a line, folded into an (x, y) grid when over
   * maxComputeWorkgroupsPerDimension (the shader reconstructs the linear index). A triple:
   * exactly that grid, which must fit the limit on each axis.
   */
  workgroups: number | readonly [number, number, number];
}

/** The device limits the kernels consult. */
export interface GpuLimits {
  maxBufferSize: number;
  maxStorageBufferBindingSize: number;
  maxComputeWorkgroupsPerDimension: number;
  maxComputeInvocationsPerWorkgroup: number;
  maxComputeWorkgroupStorageSize: number;
}

export interface GpuContextOptions {
  /**
   * Lower caps on the device's limits, never raising them. Tests use them to drive the split
   * paths (folded dispatch grids, row ranges across bindings) with small inputs.
   */
  limitCaps?: Partial<GpuLimits>;
}

interface CachedPipeline {
  pipeline: GPUComputePipeline;
  layout: GPUBindGroupLayout;
}

/** Storage buffers the kernels read and write: bindable, uploadable, readable. */
export const STORAGE_USAGE = BufferUsage.STORAGE | BufferUsage.COPY_SRC | BufferUsage.COPY_DST;

const ERROR_FILTERS: GPUErrorFilter[] = ['validation', 'out-of-memory', 'internal'];

export class GpuContext {
  readonly device: GPUDevice;
  private readonly pipelines = new Map<string, Promise<CachedPipeline>>();
  private encoder: GPUCommandEncoder | null = null;
  /** Labels of the programs encoded since the last submit, for error messages. */
  private pendingLabels: string[] = [];
  /** Released buffers, destroyed once the work encoded before their release is submitted. */
  private pendingTransients: GPUBuffer[] = [];
  /** Error-scope checks of submitted work, awaited by the next flush() or read(). */
  private inflight: Array<Promise<GpuError | null>> = [];
  private readonly uniformArena: UniformArena;
  private readonly bindGroups = new BindGroupCache();
  private lostMessage: string | null = null;
  private destroyed = false;
  readonly limits: Readonly<GpuLimits>;

  constructor(device: GPUDevice, options: GpuContextOptions = {}) {
    this.device = device;
    const caps = options.limitCaps ?? {};
    const limit = (name: keyof GpuLimits): number => Math.min(device.limits[name], caps[name] ?? Infinity);
    this.limits = {
      maxBufferSize: limit('maxBufferSize'),
      maxStorageBufferBindingSize: limit('maxStorageBufferBindingSize'),
      maxComputeWorkgroupsPerDimension: limit('maxComputeWorkgroupsPerDimension'),
      maxComputeInvocationsPerWorkgroup: limit('maxComputeInvocationsPerWorkgroup'),
      maxComputeWorkgroupStorageSize: limit('maxComputeWorkgroupStorageSize'),
    };
    // 256 on every adapter seen; the spec allows any power of two up to it.
    this.uniformArena = new UniformArena(device, device.limits.minUniformBufferOffsetAlignment ?? 256);
    device.lost.then((info) => {
      this.lostMessage = `GPU device lost (${info.reason}): ${info.message || 'no message'}`;
    });
  }

  createBuffer(label: string, byteLength: number, usage: number = STORAGE_USAGE): GPUBuffer {
    this.assertUsable(label);
    if (byteLength > this.limits.maxBufferSize) {
      throw new GpuError('limit', `${label}: ${byteLength} bytes exceed this device's maxBufferSize (${this.limits.maxBufferSize})`);
    }
    // Sizes are rounded up to 4 bytes (copy granularity); zero-size buffers cannot be bound.
    return this.device.createBuffer({ label, size: Math.max(4, Math.ceil(byteLength / 4) * 4), usage });
  }

  /** A new storage buffer holding `data`. */
  upload(label: string, data: Float32Array | Uint32Array, usage: number = STORAGE_USAGE): GPUBuffer {
    const buffer = this.createBuffer(label, data.byteLength, usage);
    this.write(buffer, data);
    return buffer;
  }

  /** Writes `data` at `byteOffset`, after every dispatch encoded so far (it flushes them first). */
  write(buffer: GPUBuffer, data: Float32Array | Uint32Array, byteOffset = 0): void {
    this.assertUsable(buffer.label);
    // queue.writeBuffer is ordered against submitted work only, so submit what is encoded first.
    this.submitPending();
    this.device.queue.writeBuffer(buffer, byteOffset, data.buffer, data.byteOffset, data.byteLength);
  }

  /** How many pipelines are compiled (or compiling): one per distinct program cache key. */
  get cachedPipelineCount(): number {
    return this.pipelines.size;
  }

  /**
   * Destroys a buffer once the dispatches encoded so far are submitted (destroying it earlier
   * would invalidate them); at once when nothing is pending.
   */
  release(buffer: GPUBuffer): void {
    if (this.encoder) this.pendingTransients.push(buffer);
    else buffer.destroy();
  }

  /**
   * Encodes one dispatch; it runs at the next flush(), read or write. Its uniforms go to the
   * encoder's uniform arena and its bind group comes from the cache (bindings.ts), so a loop of
   * dispatches on the same buffers creates no GPU objects after its first round.
   */
  async dispatch(spec: DispatchSpec): Promise<void> {
    const { program } = spec;
    this.assertUsable(program.label);
    const cached = await this.pipeline(program);
    const grid = this.grid(program, spec.workgroups);
    const uniformBytes = program.uniforms.length > 0 ? packUniforms(program, spec.uniforms) : null;
    const ranges: BoundRange[] = [];
    for (const binding of program.storage) {
      const given = spec.buffers[binding.name];
      if (!given) throw new GpuError('validation', `${program.label}: no buffer given for binding '${binding.name}'`);
      const range: BufferRange = 'buffer' in given ? given : { buffer: given };
      const offset = range.offset ?? 0;
      const size = range.size ?? range.buffer.size - offset;
      if (size > this.limits.maxStorageBufferBindingSize) {
        throw new GpuError(
          'limit',
          `${program.label}: binding '${binding.name}' is ${size} bytes, over this device's maxStorageBufferBindingSize ` +
            `(${this.limits.maxStorageBufferBindingSize}); split the work into smaller dispatches`,
        );
      }
      ranges.push({ buffer: range.buffer, offset, size });
    }
    for (const name of Object.keys(spec.buffers)) {
      if (!program.storage.some((b) => b.name === name)) throw new GpuError('validation', `${program.label}: unknown binding '${name}'`);
    }
    // A full arena ends the encoder here: its structs are written and it is submitted unawaited.
    if (uniformBytes && !this.uniformArena.fits(uniformBytes.byteLength)) this.submitPending();
    this.encoder ??= this.beginEncoder();
    const uniformRange: BoundRange[] = uniformBytes ? [{ buffer: this.uniformArena.buffer, offset: 0, size: uniformBytes.byteLength }] : [];
    const bindGroup = this.bindGroups.get(program.cacheKey, [...uniformRange, ...ranges], () => {
      const entries: GPUBindGroupEntry[] = uniformRange.map((u) => ({ binding: 0, resource: { buffer: u.buffer, offset: 0, size: u.size } }));
      program.storage.forEach((binding, i) => entries.push({ binding: binding.binding, resource: { buffer: ranges[i].buffer, offset: ranges[i].offset, size: ranges[i].size } }));
      return this.device.createBindGroup({ label: `${program.label}.bindings`, layout: cached.layout, entries });
    });
    const pass = this.encoder.beginComputePass({ label: program.label });
    pass.setPipeline(cached.pipeline);
    pass.setBindGroup(0, bindGroup, uniformBytes ? [this.uniformArena.append(uniformBytes)] : []);
    pass.dispatchWorkgroups(grid[0], grid[1], grid[2]);
    pass.end();
    this.pendingLabels.push(program.label);
  }

  /** Submits the encoded dispatches and waits for them, throwing a GpuError if any failed. */
  async flush(): Promise<void> {
    this.submitPending();
    await this.device.queue.onSubmittedWorkDone();
    await this.throwSubmittedErrors();
    this.assertUsable('flush');
  }

  /** Copies `byteLength` bytes from `buffer` back to the CPU, after all encoded work. */
  async read(buffer: GPUBuffer, byteLength: number = buffer.size, byteOffset = 0): Promise<ArrayBuffer> {
    this.assertUsable(buffer.label);
    this.submitPending();
    const staging = this.device.createBuffer({
      label: `${buffer.label}.readback`,
      size: Math.ceil(byteLength / 4) * 4,
      usage: BufferUsage.MAP_READ | BufferUsage.COPY_DST,
    });
    try {
      this.encoder = this.beginEncoder();
      this.encoder.copyBufferToBuffer(buffer, byteOffset, staging, 0, staging.size);
      this.pendingLabels.push(`read ${buffer.label}`);
      this.submitPending();
      await this.throwSubmittedErrors();
      await staging.mapAsync(MapMode.READ).catch((error: unknown) => {
        throw new GpuError(this.lostMessage ? 'device-lost' : 'validation', `reading ${buffer.label}: ${this.lostMessage ?? String(error)}`);
      });
      return staging.getMappedRange().slice(0, byteLength);
    } finally {
      staging.destroy();
    }
  }

  async readFloat32(buffer: GPUBuffer, length: number, elementOffset = 0): Promise<Float32Array> {
    return new Float32Array(await this.read(buffer, length * 4, elementOffset * 4));
  }

  async readUint32(buffer: GPUBuffer, length: number, elementOffset = 0): Promise<Uint32Array> {
    return new Uint32Array(await this.read(buffer, length * 4, elementOffset * 4));
  }

  /** Drops the pipeline cache; the device itself belongs to the caller and stays alive. */
  destroy(): void {
    this.destroyed = true;
    this.pipelines.clear();
    if (this.encoder) {
      // Close the error scopes the unsubmitted encoder opened; its work is dropped.
      for (let i = 0; i < ERROR_FILTERS.length; i++) void this.device.popErrorScope().catch(() => null);
      this.encoder = null;
      this.uniformArena.discard();
    }
    this.uniformArena.destroy();
    for (const b of this.pendingTransients) b.destroy();
    this.pendingTransients = [];
  }

  private pipeline(program: GpuProgram): Promise<CachedPipeline> {
    let cached = this.pipelines.get(program.cacheKey);
    if (!cached) {
      cached = this.createPipeline(program);
      this.pipelines.set(program.cacheKey, cached);
      // A failed compile is not cached, so a later call reports the error again.
      cached.catch(() => this.pipelines.delete(program.cacheKey));
    }
    return cached;
  }

  private async createPipeline(program: GpuProgram): Promise<CachedPipeline> {
    const invocations = invocationsPerWorkgroup(program);
    if (invocations > this.limits.maxComputeInvocationsPerWorkgroup) {
      throw new GpuError(
        'limit',
        `${program.label}: ${invocations} invocations per workgroup exceed this device's maxComputeInvocationsPerWorkgroup (${this.limits.maxComputeInvocationsPerWorkgroup})`,
      );
    }
    const entries: GPUBindGroupLayoutEntry[] = [];
    if (program.uniforms.length > 0) entries.push({ binding: 0, visibility: ShaderStage.COMPUTE, buffer: { type: 'uniform', hasDynamicOffset: true } });
    for (const b of program.storage) {
      entries.push({ binding: b.binding, visibility: ShaderStage.COMPUTE, buffer: { type: b.access === 'read' ? 'read-only-storage' : 'storage' } });
    }
    this.device.pushErrorScope('validation');
    const layout = this.device.createBindGroupLayout({ label: `${program.label}.layout`, entries });
    const module = this.device.createShaderModule({ label: program.label, code: program.shader });
    const layoutError = await this.device.popErrorScope();
    if (layoutError) throw new GpuError('pipeline', `${program.label}: ${layoutError.message}`);
    try {
      const pipeline = await this.device.createComputePipelineAsync({
        label: program.label,
        layout: this.device.createPipelineLayout({ label: `${program.label}.pipelineLayout`, bindGroupLayouts: [layout] }),
        compute: { module, entryPoint: program.entryPoint, constants: { ...program.constants } },
      });
      return { pipeline, layout };
    } catch (error) {
      const info = await module.getCompilationInfo().catch(() => null);
      const diagnostics = info?.messages.map((m) => `  ${m.type} at ${m.lineNum}:${m.linePos}: ${m.message}`).join('\n');
      throw new GpuError('pipeline', `${program.label}: pipeline creation failed: ${(error as Error).message}${diagnostics ? `\n${diagnostics}` : ''}`);
    }
  }

  private grid(program: GpuProgram, workgroups: DispatchSpec['workgroups']): [number, number, number] {
    const max = this.limits.maxComputeWorkgroupsPerDimension;
    if (typeof workgroups === 'number') return foldWorkgroups(workgroups, max);
    for (const n of workgroups) {
      if (n > max) throw new GpuError('limit', `${program.label}: grid ${workgroups.join('×')} exceeds maxComputeWorkgroupsPerDimension (${max})`);
    }
    return [workgroups[0], workgroups[1], workgroups[2]];
  }

  private beginEncoder(): GPUCommandEncoder {
    // The error scopes opened here close in submitPending, so every error raised while encoding
    // (bind groups, passes) or submitting is caught with the labels of what was encoded.
    for (const filter of ERROR_FILTERS) this.device.pushErrorScope(filter);
    return this.device.createCommandEncoder({ label: 'compression-lab.kernels' });
  }

  /** Submits the pending encoder and queues the check of its error scopes. */
  private submitPending(): void {
    if (!this.encoder) return;
    const labels = this.pendingLabels.join(', ');
    // Before the submit, so its dispatches read their own structs (queue operations run in order).
    this.uniformArena.upload(this.device.queue);
    this.device.queue.submit([this.encoder.finish()]);
    this.encoder = null;
    this.pendingLabels = [];
    for (const b of this.pendingTransients) b.destroy();
    this.pendingTransients = [];
    const scopes = ERROR_FILTERS.map(() => this.device.popErrorScope()).reverse();
    this.inflight.push(
      Promise.all(scopes).then((errors) => {
        const found = errors.flatMap((e, i) => (e ? [`${ERROR_FILTERS[i]} error: ${e.message}`] : []));
        if (found.length === 0) return null;
        const kind: GpuErrorKind = errors[0] ? 'validation' : errors[1] ? 'out-of-memory' : 'internal';
        return new GpuError(kind, `WebGPU ${found.join('; ')} (in: ${labels})`);
      }),
    );
  }

  /** Waits for the error scopes of everything submitted and throws the first error found. */
  private async throwSubmittedErrors(): Promise<void> {
    const checks = this.inflight;
    this.inflight = [];
    const errors = await Promise.all(checks);
    const first = errors.find((e) => e !== null);
    if (first) throw first;
  }

  private assertUsable(what: string): void {
    if (this.lostMessage) throw new GpuError('device-lost', `${what}: ${this.lostMessage}`);
    if (this.destroyed) throw new GpuError('device-lost', `${what}: this GpuContext was destroyed`);
  }
}
