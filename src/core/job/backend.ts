// What ran each part of a compression run, typed: what was requested, what ran, and why anything
// fell back. The UI and the CLI render it with describeBackendUse; nobody parses the text back.

/** Where compute (layer jobs, calibration statistics) may run. */
export type ComputeBackend = 'cpu' | 'webgpu';

export interface BackendUse {
  requested: ComputeBackend;
  /** What ran: one backend, or WebGPU with some steps on the CPU ('webgpu+cpu'). */
  ran: ComputeBackend | 'webgpu+cpu';
  /** With 'webgpu+cpu': the steps that ran on the CPU, e.g. 'H⁻¹ Cholesky in float64'. */
  cpuSteps?: string[];
  /** Why it did not run as requested (no device, no kernel for this case, ...). */
  fallbackReason?: string;
}

/** The backends of one run: calibration inference, its statistics (the Hessians), the layer jobs. */
export interface RunBackends {
  /** Calibration inference (always onnxruntime-web's wasm, so statistics are deterministic). */
  calibrationInference?: string;
  /** Where the calibration statistics (Σx², H = 2/n·XXᵀ) accumulated. */
  hessian?: BackendUse;
  /** Layer jobs that did not run as requested; each layer's own use is in its report row. */
  layerFallbacks: number;
}

export const cpuUse = (requested: ComputeBackend = 'cpu', fallbackReason?: string): BackendUse =>
  fallbackReason === undefined ? { requested, ran: 'cpu' } : { requested, ran: 'cpu', fallbackReason };

/** 'cpu', 'webgpu', 'webgpu+cpu (H⁻¹ Cholesky in float64)', 'cpu (V:N:M selection has no GPU kernel)'. */
export function describeBackendUse(use: BackendUse): string {
  if (use.ran === 'webgpu+cpu') return `webgpu+cpu (${(use.cpuSteps ?? []).join('; ')})`;
  return use.fallbackReason === undefined ? use.ran : `${use.ran} (${use.fallbackReason})`;
}

/** Whether the part ran somewhere other than where it was asked to. */
export const fellBack = (use: BackendUse): boolean => use.fallbackReason !== undefined;
