// analyzeModel: what a transformer-shaped ONNX graph contains, in the terms the lab works in —
// linear layers (W is C_out × C_in), attention sites, blocks, embeddings, the head — plus what
// was not recognised and why.
import type { ModelProto } from '../onnx/types.ts';
import { findAttention, fusedAttentionCausal, fusedAttentionNodes } from './attention.ts';
import { compressionState } from './compressionState.ts';
import { assignBlocks } from './blocks.ts';
import { analysisWarnings, unsupportedFeatures } from './diagnostics.ts';
import { findEmbeddings } from './embeddings.ts';
import { buildGraphIndex } from './graphIndex.ts';
import { findLinearLayers } from './linear.ts';
import { int64ToNumber } from './proto.ts';
import { assignRoles } from './roles.ts';
import { structuralRoles } from './structure.ts';
import { graphInputs, graphOutputs, guessTask, opsetImports, parameterTotals } from './summary.ts';
import type { ModelAnalysis } from './types.ts';

export function analyzeModel(model: ModelProto): ModelAnalysis {
  const graph = model.graph ?? {};
  const index = buildGraphIndex(graph);
  const scan = findLinearLayers(index);
  const attention = findAttention(index, scan);
  const roleWarnings: string[] = [];
  const roled = assignRoles(scan.linears, structuralRoles(index, scan.linears, attention.sites), roleWarnings);
  const placed = assignBlocks(roled, attention.sites);
  const linears = [...placed.linears].sort((a, b) => a.order - b.order);
  const inputs = graphInputs(graph);
  const outputs = graphOutputs(graph);
  const { task, reason } = guessTask(inputs, outputs, placed.attention, fusedAttentionCausal(index));
  return {
    irVersion: model.irVersion === undefined ? null : int64ToNumber(model.irVersion),
    producer: model.producerName ? `${model.producerName} ${model.producerVersion ?? ''}`.trim() : null,
    opsetImports: opsetImports(model),
    inputs,
    outputs,
    ...parameterTotals(graph),
    linears,
    attention: placed.attention,
    blocks: placed.blocks,
    numBlocks: placed.blocks.length,
    blockSource: placed.source,
    embeddings: findEmbeddings(index, linears),
    task,
    taskReason: reason,
    warnings: [
      ...analysisWarnings(index, linears, scan, attention, placed.attention, placed.blocks.length),
      ...roleWarnings,
    ],
    unsupported: unsupportedFeatures(model, index, scan.nodeToLinear),
    fusedAttention: fusedAttentionNodes(index),
    compression: compressionState(model, index, linears),
  };
}
