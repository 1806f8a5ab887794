// Per-sample metric values: what a paired comparison of two models (bootstrap.ts) resamples.
// A sample is the unit the evaluation set is drawn in: one token sequence for an LM, one image
// for a classifier. Rows of one sequence are not independent, so they are never resampled alone.

export interface LmSampleValues {
  task: 'causal-lm';
  /** Per sequence: the NLL summed over its predicted positions (nats). */
  nll: Float64Array;
  /** Per sequence: how many positions it predicts. */
  tokens: Int32Array;
}

export interface ClassifierSampleValues {
  task: 'image-classification';
  /** Per image: 1 when the top-1 class is the label (ties to the lowest class), else 0. */
  correct: Uint8Array;
  /** Per image: the NLL of its label (nats). */
  nll: Float64Array;
}

/** A masked LM's evaluation windows (src/core/hf/maskedLm.ts): per window, the positions chosen for masking, those whose argmax is the original id, and their summed NLL (nats). */
export interface MaskedLmSampleValues {
  task: 'masked-lm';
  chosen: Int32Array;
  correct: Int32Array;
  nll: Float64Array;
}

export type SampleValues = LmSampleValues | ClassifierSampleValues | MaskedLmSampleValues;

export const sampleCount = (values: SampleValues): number => values.nll.length;
