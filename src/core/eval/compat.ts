// Whether a dataset can be fed to a model: checked from the graph's declared inputs and outputs
// before any inference, so a mismatch is a message rather than an ORT shape error.
import type { Dataset } from './datasets';
import type { Dim, ModelAnalysis } from '../model';

const showShape = (shape: Dim[] | null) => (shape ? `[${shape.map((d) => d ?? '?').join(', ')}]` : '(no shape)');

export function datasetMismatch(analysis: ModelAnalysis, dataset: Dataset): string | undefined {
  const input = analysis.inputs[0];
  const output = analysis.outputs[0];
  if (!input || !output) return 'the model has no graph inputs or outputs';
  if (analysis.inputs.length !== 1) return `the model takes ${analysis.inputs.length} inputs; the evaluation sets feed exactly one`;
  const inShape = input.shape ?? [];
  if (dataset.kind === 'lm-tokens') {
    if (input.dtype !== 'int64' || inShape.length !== 2) return `the evaluation set feeds token ids int64 [batch, seq]; model input "${input.name}" is ${input.dtype} ${showShape(input.shape)}`;
    if (typeof inShape[1] === 'number' && inShape[1] !== dataset.seqLen) return `model input takes ${inShape[1]} tokens, the evaluation set ${dataset.seqLen}`;
  } else {
    if (input.dtype !== 'float32' || inShape.length !== dataset.shape.length + 1)
      return `the evaluation set feeds float32 images [batch, ${dataset.shape.join(', ')}]; model input "${input.name}" is ${input.dtype} ${showShape(input.shape)}`;
    if (dataset.shape.some((d, i) => typeof inShape[i + 1] === 'number' && inShape[i + 1] !== d)) return `image shape [${dataset.shape.join(', ')}] does not fit model input ${showShape(input.shape)}`;
  }
  const lastOut = output.shape?.[output.shape.length - 1];
  const maxTarget = dataset.kind === 'lm-tokens' ? Math.max(...dataset.sequences.map((s) => Math.max(...s))) : Math.max(...dataset.labels);
  if (typeof lastOut === 'number' && maxTarget >= lastOut) return `the evaluation set uses class/token id ${maxTarget}, but the model predicts only ${lastOut}`;
  return undefined;
}
