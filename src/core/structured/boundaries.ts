// A block's residual-stream input and output, for CFSP's block importance (the angle between the
// hidden states a block receives and returns; the reference hooks the decoder layer's input and
// output). In a pre-norm block the attention output projection's result is added to the block's
// input, and the MLP down projection's result is added to the stream that then leaves the block:
// the other operand of the first Add is the block's input, the second Add's result its output.
import type { LinearLayer, ModelAnalysis } from '../model/types.ts';
import { consumerMap } from '../onnx/graph.ts';
import type { ModelProto } from '../onnx/types.ts';

export interface BlockBoundary {
  block: number;
  input: string;
  output: string;
}

/** The residual Add that reads `layer`'s result, or null. */
function residualAdd(consumers: Map<string, { opType?: string; input?: string[]; output?: string[] }[]>, layer: LinearLayer) {
  const adds = (consumers.get(layer.uses[0].output) ?? []).filter((n) => n.opType === 'Add');
  return adds.length === 1 ? adds[0] : null;
}

/** Every block's boundary tensors, or one sentence saying which block has no residual Adds where expected. */
export function blockBoundaries(model: ModelProto, analysis: ModelAnalysis): BlockBoundary[] | string {
  const consumers = consumerMap(model.graph!);
  const out: BlockBoundary[] = [];
  for (const info of analysis.blocks) {
    const layers = analysis.linears.filter((l) => l.block === info.index);
    const attnOut = layers.find((l) => l.role === 'attn.out');
    const down = layers.find((l) => l.role === 'mlp.down');
    if (!attnOut || !down) return `block ${info.index} lacks an attention output or MLP down projection to find its residual stream`;
    const first = residualAdd(consumers, attnOut);
    const second = residualAdd(consumers, down);
    if (!first || !second) return `block ${info.index}'s projections do not each feed one residual Add (a pre-norm block is expected)`;
    const input = (first.input ?? []).find((t) => t !== attnOut.uses[0].output);
    if (!input || !(second.input ?? []).includes(first.output![0])) return `block ${info.index}'s residual Adds do not chain as in a pre-norm block (x + attn, then + mlp)`;
    out.push({ block: info.index, input, output: second.output![0] });
  }
  return out;
}
