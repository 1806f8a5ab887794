// What every job shares: progress events, the cancellation error, the typed backend report.
export { type Progress, type ProgressListener } from './progress.ts';
export { Cancelled, throwIfCancelled, type CancelSignal } from './cancel.ts';
export { cpuUse, describeBackendUse, fellBack, type BackendUse, type ComputeBackend, type RunBackends } from './backend.ts';
