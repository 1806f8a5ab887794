// What the teaching views (GenerateView, DigitGrid) need to run a model: the model worker's two
// teaching calls and the session settings the rest of the lab uses. Passed in as a prop, so the
// views hold no worker handle of their own and render in tests with a fake.
import type { BackendPreference } from '../../core/eval/runner';
import type { ModelWorkerService } from '../../services/modelWorker';

export interface TeachingRuntime {
  worker: Pick<ModelWorkerService, 'generate' | 'predict' | 'cancel'>;
  backend: BackendPreference;
  numThreads: number;
  wasmPaths?: string;
}

/** The session settings of a worker request, from the runtime. */
export const sessionSettings = ({ backend, numThreads, wasmPaths }: TeachingRuntime) => ({ backend, numThreads, wasmPaths });
