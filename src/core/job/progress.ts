// One progress event for every long-running job: loading, evaluation, calibration, the stages of
// a recipe. Core emits it, the model worker forwards it unchanged, the UI and the CLI render it.

export interface Progress {
  /**
   * What is running: 'load', 'evaluate', 'calibrate', 'allocate', 'report', or the kind of the
   * recipe stage being applied ('prune').
   */
  phase: string;
  /** Where, for people: 'block 2', 'dense model', 'all layers', 'Evaluating'. */
  label: string;
  done: number;
  total: number;
  /** The step of the pipeline's walk over the model (one per block in sequential calibration). */
  step?: { index: number; count: number };
  /** The recipe stage being applied (phase = its kind). */
  stage?: number;
  /** The layer whose job just finished. */
  layerId?: string;
}

export type ProgressListener = (progress: Progress) => void;
