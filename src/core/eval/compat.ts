// Whether a dataset can be fed to a model: checked from the graph's declared inputs and outputs
// before any inference, so a mismatch is a message rather than an ORT shape error.
import type { Dataset } from './datasets';
import type { Dim, ModelAnalysis } from '../model';
import { quoteName, shortName } from '../onnx/display.ts';
import { planLmInputs } from './lmInputs.ts';

const showShape = (shape: Dim[] | null) => (shape ? shortName(`[${shape.map((d) => d ?? '?').join(', ')}]`) : '(no shape)');

/** Largest id in the set: a loop, since Math.max(...ids) overflows the stack on 10⁵ ids. */
function maxTargetId(dataset: Dataset): number {
  let max = -Infinity;
  const visit = (ids: ArrayLike<number>) => {
    for (let i = 0; i < ids.length; i++) if (ids[i] > max) max = ids[i];
  };
  if (dataset.kind === 'lm-tokens') dataset.sequences.forEach(visit);
  else visit(dataset.labels);
  return max;
}

export function datasetMismatch(analysis: ModelAnalysis, dataset: Dataset): string | undefined {
  const output = analysis.outputs.find((o) => o.name === 'logits') ?? analysis.outputs[0];
  if (analysis.inputs.length === 0 || !output) return 'the model has no graph inputs or outputs';
  // A Hugging Face export's other inputs (mask, positions, an empty KV cache) are fed by lmInputs.
  const plan = dataset.kind === 'lm-tokens' ? planLmInputs(analysis.inputs) : undefined;
  if (plan && !plan.ok) return plan.message;
  if (!plan && analysis.inputs.length !== 1) return `the model takes ${analysis.inputs.length} inputs; an image set feeds exactly one`;
  const input = plan?.ok ? analysis.inputs.find((i) => i.name === plan.plan.tokenIds)! : analysis.inputs[0];
  const inShape = input.shape ?? [];
  if (dataset.kind === 'lm-tokens') {
    if (input.dtype !== 'int64' || inShape.length !== 2) return `the evaluation set feeds token ids int64 [batch, seq]; model input ${quoteName(input.name)} is ${input.dtype} ${showShape(input.shape)}`;
    if (typeof inShape[1] === 'number' && inShape[1] !== dataset.seqLen) return `model input takes ${inShape[1]} tokens, the evaluation set ${dataset.seqLen}`;
  } else {
    if (input.dtype !== 'float32' || inShape.length !== dataset.shape.length + 1)
      return `the evaluation set feeds float32 images [batch, ${dataset.shape.join(', ')}]; model input ${quoteName(input.name)} is ${input.dtype} ${showShape(input.shape)}`;
    if (dataset.shape.some((d, i) => typeof inShape[i + 1] === 'number' && inShape[i + 1] !== d)) return `image shape [${dataset.shape.join(', ')}] does not fit model input ${showShape(input.shape)}`;
  }
  const lastOut = output.shape?.[output.shape.length - 1];
  const maxTarget = maxTargetId(dataset);
  if (typeof lastOut === 'number' && maxTarget >= lastOut) return `the evaluation set uses class/token id ${maxTarget}, but the model predicts only ${lastOut}`;
  return undefined;
}
