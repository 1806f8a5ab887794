// Test-only: a decoder in the shape of Optimum's merged export (decoder_model_merged.onnx, made by
// optimum.onnx.graph_transformations.merge_decoders): the graph inputs plus `use_cache_branch`
// bool [1], and one If node on it whose then branch is the with-past decoder and whose else branch
// is the without-past one, the weights shared as top-level initializers. Here both branches are the
// given decoder (which accepts an empty past), so the merged graph computes the same function.
import { AttributeType, DataType, type GraphProto, type ModelProto } from '../../onnx/types.ts';

export function mergedDecoder(model: ModelProto): ModelProto {
  const graph = model.graph!;
  const branch = (name: string): GraphProto => ({
    name,
    node: (graph.node ?? []).map((node, n) => ({ ...node, name: `${name}/${node.name || n}` })),
    output: graph.output,
    valueInfo: graph.valueInfo,
  });
  return {
    ...model,
    graph: {
      ...graph,
      node: [
        {
          opType: 'If',
          name: 'optimum::if',
          input: ['use_cache_branch'],
          output: (graph.output ?? []).map((o) => o.name ?? ''),
          attribute: [
            { name: 'then_branch', type: AttributeType.GRAPH, g: branch('decoder_with_past') },
            { name: 'else_branch', type: AttributeType.GRAPH, g: branch('decoder_without_past') },
          ],
        },
      ],
      input: [...(graph.input ?? []), { name: 'use_cache_branch', type: { tensorType: { elemType: DataType.BOOL, shape: { dim: [{ dimValue: 1 }] } } } }],
      valueInfo: [],
    },
  };
}
