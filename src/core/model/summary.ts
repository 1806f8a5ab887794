// Model-level facts: opsets, graph inputs and outputs, parameter counts and bytes, task guess.
import type { GraphProto, ModelProto, ValueInfoProto } from '../onnx/types.ts';
import { dtypeName, elementCount, int64ToNumber, isFloatType, tensorByteSize, tensorDims, typeShape } from './proto.ts';
import type { AttentionSite, ModelTask, OpsetImport, TensorInfo } from './types.ts';
import { shortName } from '../onnx/display.ts';

export function opsetImports(model: ModelProto): OpsetImport[] {
  return (model.opsetImport ?? []).map((opset) => ({
    domain: opset.domain || 'ai.onnx',
    version: opset.version === undefined ? 0 : int64ToNumber(opset.version),
  }));
}

function tensorInfo(info: ValueInfoProto): TensorInfo {
  return {
    name: info.name ?? '',
    dtype: dtypeName(info.type?.tensorType?.elemType),
    shape: typeShape(info.type),
  };
}

/** Graph inputs without the initializers that IR < 4 files also list as inputs. */
export function graphInputs(graph: GraphProto): TensorInfo[] {
  const initializers = new Set((graph.initializer ?? []).map((tensor) => tensor.name));
  return (graph.input ?? []).filter((info) => !initializers.has(info.name)).map(tensorInfo);
}

export function graphOutputs(graph: GraphProto): TensorInfo[] {
  return (graph.output ?? []).map(tensorInfo);
}

export function parameterTotals(graph: GraphProto): { totalParams: number; initializerBytes: Record<string, number> } {
  let totalParams = 0;
  const initializerBytes: Record<string, number> = {};
  for (const tensor of graph.initializer ?? []) {
    if (isFloatType(tensor.dataType)) totalParams += elementCount(tensorDims(tensor));
    const dtype = dtypeName(tensor.dataType);
    initializerBytes[dtype] = (initializerBytes[dtype] ?? 0) + tensorByteSize(tensor);
  }
  return { totalParams, initializerBytes };
}

/**
 * The task from the graph's signature: token ids in and [batch, seq, vocab] out is a language
 * model — causal when the attention scores carry a causal mask, or the only attention is fused and
 * masks causally, or there is no attention to tell; masked otherwise; an image in and [batch, classes] out is image
 * classification; token ids in and [batch, classes] out is sequence classification.
 */
export function guessTask(
  inputs: readonly TensorInfo[],
  outputs: readonly TensorInfo[],
  sites: readonly AttentionSite[],
  /** attention.ts fusedAttentionCausal: read when no unfused site is there (ORT-optimized graphs). */
  fusedCausal: boolean | null = null,
): { task: ModelTask; reason: string } {
  const ids = inputs.find((input) => (input.dtype === 'int64' || input.dtype === 'int32') && input.shape?.length === 2);
  const image = inputs.find((input) => input.dtype.startsWith('float') && input.shape?.length === 4);
  const output = outputs[0];
  const rank = output?.shape?.length;
  if (!output || rank === undefined) return { task: 'unknown', reason: 'the first graph output has no shape' };
  if (ids && rank === 3) {
    const fusedOnly = sites.length === 0 && fusedCausal !== null;
    const causal = fusedOnly ? fusedCausal : sites.length === 0 || sites.some((site) => site.causalMask);
    let why = causal ? 'causal attention mask' : 'no causal mask on the attention scores';
    if (fusedOnly) why = fusedCausal ? 'fused attention that masks causally' : 'fused attention with no causal mask';
    else if (sites.length === 0) why = 'no attention to tell causal from masked';
    return {
      task: causal ? 'causal-lm' : 'masked-lm',
      reason: `${ids.dtype} ids '${shortName(ids.name)}' [batch, seq] in, '${shortName(output.name)}' [batch, seq, vocab] out; ${why}`,
    };
  }
  if (image && rank === 2) {
    return { task: 'image-classification', reason: `4-D ${image.dtype} '${shortName(image.name)}' in, 2-D '${shortName(output.name)}' out` };
  }
  if (ids && rank === 2) {
    return { task: 'sequence-classification', reason: `${ids.dtype} ids '${shortName(ids.name)}' in, 2-D '${shortName(output.name)}' [batch, classes] out` };
  }
  const shown = inputs.slice(0, 4).map((input) => `${input.dtype} ${input.shape?.length ?? '?'}-D`).join(', ');
  const described = inputs.length > 4 ? `${shown} and ${inputs.length - 4} more` : shown;
  return { task: 'unknown', reason: `inputs (${described}) and a ${rank}-D output fit no known task` };
}
