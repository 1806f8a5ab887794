// What a kernel check reports (kernelChecks.ts), apart from the checks themselves: this module
// imports no kernel (no `?raw` WGSL), so Node code outside Vite (e2e/kernels.e2e.ts) can use it.

export const CHECKED_KERNELS = ['hessian', 'wandaScore', 'rowSelect', 'nmSelect', 'sparsegptUpdate', 'columnRange', 'globalSelect', 'quantGrid', 'gptqUpdate', 'sparseMatmul'] as const;
export type CheckedKernel = (typeof CHECKED_KERNELS)[number];

export interface KernelCheckResult {
  kernel: CheckedKernel;
  case: string;
  ok: boolean;
  /** Against the reference; 0 for exact masks and copies that matched; NaN when the check threw. */
  maxAbsError: number;
  message: string;
}

/** What kernel-check.html publishes as `__kernelCheck` on its global object. */
export interface KernelCheckSummary {
  /** The adapter's description, or null when there was none. */
  adapter: string | null;
  results: KernelCheckResult[];
  /** Why nothing ran (no navigator.gpu, no adapter, device failure). */
  error?: string;
}
