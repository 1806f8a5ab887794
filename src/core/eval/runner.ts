// The project's view of an inference engine. Core code evaluates models through this interface;
// src/runtime/ort.ts is the one place that implements it with onnxruntime-web.

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
  /** The backend that actually runs this session (never a silent fallback). */
  readonly backend: Backend;
  run(feeds: Record<string, HostTensor>): Promise<Record<string, HostTensor>>;
  release(): Promise<void>;
}

/** Which backend ran, and why it differs from the request when it does. */
export interface BackendReport {
  requested: BackendPreference;
  used: Backend;
  /** Set when `used` is not what was requested or what 'auto' would prefer (WebGPU). */
  fallbackReason?: string;
}
