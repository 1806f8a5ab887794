// The Gram matrix of a residual-stream tensor over the calibration tokens, from an ORT session of
// the model with that tensor added as an output (calibrate/instrument.ts), in batches.
import { calibrationFeeds } from '../calibrate/feeds.ts';
import { instrumentModel } from '../calibrate/instrument.ts';
import type { Dataset } from '../eval/datasets.ts';
import type { ModelRunner } from '../eval/runner.ts';
import { gramOfRows } from '../linalg/gram.ts';
import type { TensorInfo } from '../model/types.ts';
import { writeModel } from '../onnx/write.ts';
import type { GramSource } from './slicegpt.ts';

export interface StreamGramSetup {
  calibSet: Dataset;
  sampleIndices: readonly number[];
  inputs: readonly TensorInfo[];
  createRunner: (bytes: Uint8Array) => Promise<ModelRunner>;
  batchSize?: number;
  /** Called after every session with the tokens it ran (for the report's counts). */
  onPass?: (tokens: number) => void;
}

export function streamGramSource(setup: StreamGramSetup): GramSource {
  const batch = setup.batchSize ?? 8;
  return async (model, tensor, width) => {
    const runner = await setup.createRunner(writeModel(instrumentModel(model, [tensor])));
    const gram = new Float64Array(width * width);
    let tokens = 0;
    try {
      for (let start = 0; start < setup.sampleIndices.length; start += batch) {
        const indices = setup.sampleIndices.slice(start, start + batch);
        const outputs = await runner.run(calibrationFeeds(setup.calibSet, indices, setup.inputs), [tensor]);
        const hidden = outputs[tensor];
        const rows = hidden.data.length / width;
        if (!Number.isInteger(rows) || hidden.dims[hidden.dims.length - 1] !== width) {
          throw new Error(`slice: ${tensor} has shape [${hidden.dims.join(', ')}], expected width ${width}`);
        }
        const part = gramOfRows(hidden.data as Float32Array, rows, width);
        for (let i = 0; i < gram.length; i++) gram[i] += part[i];
        tokens += rows;
      }
    } finally {
      await runner.release();
    }
    setup.onPass?.(tokens);
    return gram;
  };
}
