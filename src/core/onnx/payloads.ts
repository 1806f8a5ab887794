// Before the lab writes a model it did not fully read (pruning rewrites a few weights and copies
// the rest), every tensor's payload must be there and match its dims, as ONNX Runtime requires
// when it loads the file: a raw_data shorter than its shape, or data still in an external file,
// is refused instead of being copied into a file that no runtime opens.
import { modelTensors } from './graph.ts';
import { checkTensorPayload } from './tensor.ts';
import type { ModelProto } from './types.ts';

/** Throws the OnnxFormatError of the first tensor (model order) whose payload is unusable. */
export function checkModelPayloads(model: ModelProto): void {
  for (const tensor of modelTensors(model)) checkTensorPayload(tensor);
}
