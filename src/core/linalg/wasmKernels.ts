// The WebAssembly SIMD kernels of wasm/*.c, instantiated once per thread (Node, worker or
// page) from the bytes embedded in wasm/kernels.wasm.ts, and a bump arena over the module's
// memory. Every operation is synchronous and lays out all its arrays before it reads a view
// (memory.grow detaches the old ones), so one arena reset per operation is enough.
import { KERNELS_WASM_BASE64 } from './wasm/kernels.wasm.ts';

type Ptr = number;

/** The exports of wasm/*.c; pointers are byte offsets into `memory`. */
export interface LinalgExports {
  memory: WebAssembly.Memory;
  __heap_base: WebAssembly.Global;
  sgemm_sub(m: number, n: number, k: number, a: Ptr, lda: number, b: Ptr, ldb: number, c: Ptr, ldc: number): void;
  sgemm_trace_upper(m: number, n: number, a: Ptr, lda: number, b: Ptr, ldb: number): number;
  sparsegpt_sweep(rows: number, cols: number, w: Ptr, u: Ptr, keep: Ptr, err: Ptr, errStride: number, blockStart: number, blockEnd: number, from: number, to: number, blockLoss: Ptr, keepN: number, groupM: number, qScale: Ptr, qZero: Ptr, qStride: number, qGroup: Ptr, maxq: number, qCodes: Ptr): void;
  obs_scores(rows: number, cols: number, w: Ptr, u: Ptr, c0: number, width: number, scores: Ptr): void;
  select_kth(a: Ptr, n: number, k: number): number;
  keep_nm(rows: number, cols: number, scores: Ptr, width: number, n: number, m: number, keep: Ptr, c0: number): void;
  keep_above(rows: number, cols: number, scores: Ptr, width: number, threshold: number, keep: Ptr, c0: number): void;
  cholesky_lower_f64(n: number, a: Ptr): number;
  lower_inverse_f64(n: number, l: Ptr, x: Ptr): void;
  gram_add4_f64(c: number, p: Ptr, gram: Ptr): void;
  keep_nm_scaled(rows: number, cols: number, w: Ptr, scale: Ptr, n: number, m: number, keep: Ptr): void;
  keep_rows_scaled(rows: number, cols: number, w: Ptr, scale: Ptr, count: number, keep: Ptr, scratch: Ptr): void;
  quant_codes(rows: number, cols: number, w: Ptr, groupSize: number, groups: number, scale: Ptr, zero: Ptr, maxq: number, codes: Ptr): void;
  /** 1 when a weight is NaN. */
  quant_range(rows: number, cols: number, w: Ptr, groupSize: number, groups: number, lo: Ptr, hi: Ptr): number;
}

let kernels: LinalgExports | undefined;
let compiled: WebAssembly.Module | undefined;

function decodeBase64(base64: string): Uint8Array {
  const text = atob(base64);
  const bytes = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) bytes[i] = text.charCodeAt(i);
  return bytes;
}

/**
 * The instance, compiled synchronously on first use (about 20 kB; Node, workers and, since
 * Chromium 114, the main thread allow a synchronous compile of any size). Throws where
 * WebAssembly SIMD is missing: there is no slower fallback to drift from it.
 */
export function linalgKernels(): LinalgExports {
  kernels ??= linalgInstance();
  return kernels;
}

/**
 * A fresh instance with a memory of its own, for state that outlives one operation (a
 * calibration accumulator's Gram matrix); it is freed with the object that holds it.
 */
export function linalgInstance(): LinalgExports {
  compiled ??= new WebAssembly.Module(decodeBase64(KERNELS_WASM_BASE64) as BufferSource);
  return new WebAssembly.Instance(compiled, {}).exports as unknown as LinalgExports;
}

type ElementKind = 'f32' | 'f64' | 'u8' | 'i32';
const BYTES: Record<ElementKind, number> = { f32: 4, f64: 8, u8: 1, i32: 4 };

/** A region of the arena: its byte offset, and typed views made after every region was placed. */
export interface Region<K extends ElementKind> {
  ptr: Ptr;
  length: number;
  kind: K;
}

type ViewOf<K extends ElementKind> = K extends 'f32' ? Float32Array : K extends 'f64' ? Float64Array : K extends 'i32' ? Int32Array : Uint8Array;

/** One operation's memory: place regions, then `ready()` grows the memory once. */
export class WasmArena {
  readonly k: LinalgExports;
  private top: number;

  /** On the thread's shared instance (reset by the next operation), or on an instance of its own. */
  constructor(kernels: LinalgExports = linalgKernels()) {
    this.k = kernels;
    this.top = align16(this.k.__heap_base.value as number);
  }

  region<K extends ElementKind>(kind: K, length: number): Region<K> {
    const ptr = this.top;
    this.top = align16(ptr + length * BYTES[kind]);
    return { ptr, length, kind };
  }

  /** Grows the memory to hold every region placed so far. Views made before this are stale. */
  ready(): this {
    const memory = this.k.memory;
    const missing = this.top - memory.buffer.byteLength;
    if (missing > 0) memory.grow(Math.ceil(missing / 65536));
    return this;
  }

  view<K extends ElementKind>(region: Region<K>): ViewOf<K> {
    const buffer = this.k.memory.buffer;
    const { ptr, length, kind } = region;
    const view = kind === 'f32' ? new Float32Array(buffer, ptr, length) : kind === 'f64' ? new Float64Array(buffer, ptr, length) : kind === 'i32' ? new Int32Array(buffer, ptr, length) : new Uint8Array(buffer, ptr, length);
    return view as ViewOf<K>;
  }
}

const align16 = (n: number) => (n + 15) & ~15;
