// A GPU program is a small declarative object, in the manner of tfjs-backend-webgpu's
// WebGPUProgram: which WGSL entry point, which buffers at which bindings, which uniform fields,
// the workgroup size and tuning knobs (WGSL `override` constants). Shapes never appear in the
// shader source: they arrive in the uniform struct, so one compiled pipeline serves every shape
// and the cache key depends only on source, entry point and override constants.

/** One field of the uniform struct at @group(0) @binding(0); fields are 4-byte scalars, in order. */
export interface UniformField {
  readonly name: string;
  readonly type: 'u32' | 'f32';
}

/** A storage buffer binding, @group(0) @binding(binding). */
export interface StorageBinding {
  readonly name: string;
  readonly binding: number;
  /** 'read' is `var<storage, read>`, 'read_write' is `var<storage, read_write>`. */
  readonly access: 'read' | 'read_write';
}

export type WorkgroupSize = readonly [number] | readonly [number, number] | readonly [number, number, number];

export interface GpuProgram {
  /** Names the pipeline and appears in every error message, e.g. 'hessian.accumulateGram'. */
  readonly label: string;
  readonly shader: string;
  readonly entryPoint: string;
  /** The uniform struct at binding 0 (absent when empty). */
  readonly uniforms: readonly UniformField[];
  readonly storage: readonly StorageBinding[];
  readonly workgroupSize: WorkgroupSize;
  /** Every override constant the pipeline is created with, including WG_X / WG_Y / WG_Z. */
  readonly constants: Readonly<Record<string, number>>;
  readonly cacheKey: string;
}

export interface ProgramSpec {
  label: string;
  shader: string;
  entryPoint: string;
  uniforms: readonly UniformField[];
  storage: readonly StorageBinding[];
  /** Passed to the shader as overrides WG_X, WG_Y, WG_Z (as many as given); the shader declares them. */
  workgroupSize: WorkgroupSize;
  /** Further override constants (tile sizes and other knobs). */
  constants?: Readonly<Record<string, number>>;
}

const WORKGROUP_CONSTANT_NAMES = ['WG_X', 'WG_Y', 'WG_Z'] as const;

/** FNV-1a over the shader text: enough to keep two sources with the same label apart in a cache. */
function hashText(text: string): string {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return (hash >>> 0).toString(16).padStart(8, '0');
}

export function defineProgram(spec: ProgramSpec): GpuProgram {
  const constants: Record<string, number> = {};
  spec.workgroupSize.forEach((size, axis) => {
    if (!Number.isInteger(size) || size < 1) throw new Error(`${spec.label}: workgroup size ${size} on axis ${axis} is not a positive integer`);
    constants[WORKGROUP_CONSTANT_NAMES[axis]] = size;
  });
  Object.assign(constants, spec.constants ?? {});
  const bindings = new Set<number>(spec.uniforms.length > 0 ? [0] : []);
  for (const s of spec.storage) {
    if (bindings.has(s.binding)) throw new Error(`${spec.label}: binding ${s.binding} is used twice`);
    bindings.add(s.binding);
  }
  const constantKey = Object.keys(constants)
    .sort()
    .map((k) => `${k}=${constants[k]}`)
    .join(',');
  return {
    label: spec.label,
    shader: spec.shader,
    entryPoint: spec.entryPoint,
    uniforms: spec.uniforms,
    storage: spec.storage,
    workgroupSize: spec.workgroupSize,
    constants,
    cacheKey: `${spec.label}#${spec.entryPoint}#${hashText(spec.shader)}#${constantKey}`,
  };
}

export function invocationsPerWorkgroup(program: GpuProgram): number {
  return program.workgroupSize.reduce((a, b) => a * b, 1);
}

/** The uniform struct's bytes: 4 bytes per field, padded to a multiple of 16 (WGSL uniform layout). */
export function packUniforms(program: GpuProgram, values: Readonly<Record<string, number>>): ArrayBuffer {
  const bytes = new ArrayBuffer(Math.max(16, Math.ceil((program.uniforms.length * 4) / 16) * 16));
  const asU32 = new Uint32Array(bytes);
  const asF32 = new Float32Array(bytes);
  program.uniforms.forEach((field, i) => {
    const value = values[field.name];
    if (value === undefined) throw new Error(`${program.label}: uniform '${field.name}' was not given`);
    if (field.type === 'u32') {
      if (!Number.isInteger(value) || value < 0 || value > 0xffffffff) {
        throw new Error(`${program.label}: uniform '${field.name}' = ${value} is not a u32`);
      }
      asU32[i] = value;
    } else {
      asF32[i] = value;
    }
  });
  for (const name of Object.keys(values)) {
    if (!program.uniforms.some((f) => f.name === name)) throw new Error(`${program.label}: unknown uniform '${name}'`);
  }
  return bytes;
}

export const ceilDiv = (a: number, b: number): number => Math.floor((a + b - 1) / b);

/**
 * Lays a linear count of workgroups out as an (x, y) grid within maxPerDimension
 * (maxComputeWorkgroupsPerDimension, 65535 by default). The shader recovers the linear index as
 * `wid.x + wid.y * nwg.x` and returns early when it is past the real count, which it gets from
 * its uniforms; the padding workgroups of the last row do nothing.
 */
export function foldWorkgroups(count: number, maxPerDimension: number): [number, number, number] {
  if (count <= maxPerDimension) return [count, 1, 1];
  const y = ceilDiv(count, maxPerDimension);
  if (y > maxPerDimension) throw new Error(`${count} workgroups do not fit a ${maxPerDimension}² dispatch grid`);
  return [ceilDiv(count, y), y, 1];
}

/**
 * Splits `rows` into consecutive ranges whose per-row storage fits one binding
 * (maxStorageBufferBindingSize). Used by kernels whose rows are independent, so a matrix larger
 * than one binding runs as several dispatches on separate buffers.
 */
export function rowRangesWithinBinding(rows: number, bytesPerRow: number, maxBindingBytes: number, label: string): Array<[number, number]> {
  const rowsPerRange = Math.floor(maxBindingBytes / bytesPerRow);
  if (rowsPerRange < 1) {
    throw new Error(`${label}: one row needs ${bytesPerRow} bytes, more than this device's maxStorageBufferBindingSize (${maxBindingBytes})`);
  }
  const ranges: Array<[number, number]> = [];
  for (let start = 0; start < rows; start += rowsPerRange) ranges.push([start, Math.min(rows, start + rowsPerRange)]);
  return ranges;
}
