// Σ_tokens xxᵀ of one hidden-state tensor (its last axis the channels) over calibration samples:
// one ORT session of the model with the tensor added as an output (instrument.ts), run in batches,
// each batch's Gram on the wasm kernel calibration uses (linalg/gram.ts). For hidden states that
// are no linear layer's input, e.g. the residual stream whose principal directions SliceGPT
// rotates onto (src/core/slice).
import type { Dataset } from '../eval/datasets.ts';
import type { ModelRunner } from '../eval/runner.ts';
import { throwIfCancelled, type CancelSignal } from '../job/cancel.ts';
import { gramOfRows } from '../linalg/gram.ts';
import type { TensorInfo } from '../model/types.ts';
import type { ModelProto } from '../onnx/types.ts';
import { writeModel } from '../onnx/write.ts';
import { calibrationFeeds } from './feeds.ts';
import { instrumentModel } from './instrument.ts';

export interface TensorGramRequest {
  model: ModelProto;
  tensor: string;
  /** Channels (the tensor's last dimension). */
  width: number;
  dataset: Dataset;
  sampleIndices: readonly number[];
  /** The graph's inputs (for LM feeds: ids, mask, positions). */
  inputs: readonly TensorInfo[];
  createRunner: (bytes: Uint8Array) => Promise<ModelRunner>;
  batchSize?: number;
  cancel?: CancelSignal;
  onBatch?: (done: number, total: number) => void;
}

export interface TensorGram {
  /** (width, width) row-major, float64. */
  gram: Float64Array;
  tokens: number;
}

export async function collectTensorGram(request: TensorGramRequest): Promise<TensorGram> {
  const { tensor, width, sampleIndices } = request;
  const batch = request.batchSize ?? 8;
  const runner = await request.createRunner(writeModel(instrumentModel(request.model, [tensor])));
  const gram = new Float64Array(width * width);
  let tokens = 0;
  try {
    for (let start = 0; start < sampleIndices.length; start += batch) {
      throwIfCancelled(request.cancel, 'calibration');
      const indices = sampleIndices.slice(start, start + batch);
      const outputs = await runner.run(calibrationFeeds(request.dataset, indices, request.inputs), [tensor]);
      const hidden = outputs[tensor];
      if (hidden.dims[hidden.dims.length - 1] !== width || !(hidden.data instanceof Float32Array)) {
        throw new Error(`${tensor}: shape [${hidden.dims.join(', ')}] ${hidden.dtype}, expected float32 with ${width} channels`);
      }
      const rows = hidden.data.length / width;
      const part = gramOfRows(hidden.data, rows, width);
      for (let i = 0; i < gram.length; i++) gram[i] += part[i];
      tokens += rows;
      request.onBatch?.(Math.min(start + batch, sampleIndices.length), sampleIndices.length);
    }
  } finally {
    await runner.release();
  }
  return { gram, tokens };
}
