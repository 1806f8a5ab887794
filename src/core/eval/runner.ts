// The project's view of an inference engine. Core code evaluates models through this interface;
// src/runtime/ort.ts is the one place that implements it with onnxruntime-web.
import type { TensorInfo } from '../model/types.ts';

export type Backend = 'wasm' | 'webgpu';
/** What the user asked for: a specific backend, or the best the platform has. */
export type BackendPreference = Backend | 'auto';

export type HostTensorData = Float32Array | BigInt64Array | Int32Array | Uint8Array;

export interface HostTensor {
  dtype: 'float32' | 'int64' | 'int32' | 'uint8' | 'bool';
  dims: number[];
  data: HostTensorData;
}

export interface ModelRunner {
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];
  /**
   * The inputs' and outputs' element types and shapes as the runtime read them from the graph
   * (symbolic dims as names); absent from runners that cannot say (test doubles).
   */
  readonly inputInfo?: readonly TensorInfo[];
  readonly outputInfo?: readonly TensorInfo[];
  /** The backend that actually runs this session (never a silent fallback). */
  readonly backend: Backend;
  /**
   * `fetches`: the outputs wanted (default all). A KV-cache model returns present.* for every
   * block, which a caller reading only the logits should not pay to copy out.
   */
  run(feeds: Record<string, HostTensor>, fetches?: readonly string[]): Promise<Record<string, HostTensor>>;
  release(): Promise<void>;
}

/** Which backend ran, and why it differs from the request when it does. */
export interface BackendReport {
  requested: BackendPreference;
  used: Backend;
  /** Set when `used` is not what was requested or what 'auto' would prefer (WebGPU). */
  fallbackReason?: string;
}
