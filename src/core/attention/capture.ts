// Attention capture: the post-softmax probabilities of every attention site (layer) and head for
// one input, read from onnxruntime-web. The model is copied with each site's Softmax output added
// as a graph output (calibrate/instrument.ts, as calibration taps them), so what is shown is what
// the exported graph computes — no re-implementation of the forward pass.
//
// Core stays runtime-free: the caller opens a ModelRunner on `captureModel(...).bytes` (in the
// CLI, a test, or a worker) and hands it to captureAttention.
import { instrumentModel } from '../calibrate/instrument.ts';
import type { ImageDataset } from '../eval/datasets.ts';
import { imageBatch } from '../eval/inputs.ts';
import { lmFeeds, requireLmInputs, runnerInputInfo } from '../eval/lmInputs.ts';
import type { HostTensor, ModelRunner } from '../eval/runner.ts';
import { fusedAttentionNodes } from '../model/attention.ts';
import { buildGraphIndex } from '../model/graphIndex.ts';
import type { AttentionSite, ModelAnalysis, TensorInfo } from '../model/types.ts';
import type { ModelProto } from '../onnx/types.ts';
import { writeModel } from '../onnx/write.ts';

/** One input to look at: LM token ids (from text through the model's tokenizer) or an image of a set. */
export type AttentionInput = { kind: 'tokens'; ids: readonly number[] } | { kind: 'image'; dataset: ImageDataset; index: number };

/** The instrumented copy to open a session on, or why the model's attention cannot be shown. */
export type CaptureModel = { ok: true; bytes: Uint8Array; sites: AttentionSite[] } | { ok: false; reason: string };

/** What to export differently so that each attention's Softmax is a node of its own (kept short: the CLI prints it on one line). */
export const UNFUSED_EXPORT_HINT =
  'Re-export it unfused: torch.onnx.export with attn_implementation="eager", without the ONNX Runtime ' +
  'transformer optimizer (optimum-cli: --no-post-process)';

/** Why the analysis found no attention site: the fused kernels present, or no attention at all. */
export function noAttentionReason(model: ModelProto): string {
  const graph = model.graph;
  const fused = graph ? fusedAttentionNodes(buildGraphIndex(graph)) : [];
  if (fused.length > 0) {
    const ops = [...new Set(fused.map((node) => `${node.domain} ${node.opType}`))].join(', ');
    return `The attention is fused (${fused.length} node(s): ${ops}): its probabilities are no graph tensor and cannot be captured. ${UNFUSED_EXPORT_HINT}.`;
  }
  return `No attention found (no Softmax between a Q·Kᵀ MatMul and a MatMul with V): the model may have none, or compute it in a form the analysis does not recognise. ${UNFUSED_EXPORT_HINT}.`;
}

/** A copy of the model that also outputs every attention site's probabilities. */
export function captureModel(model: ModelProto, analysis: ModelAnalysis): CaptureModel {
  if (analysis.attention.length === 0) return { ok: false, reason: noAttentionReason(model) };
  const sites = [...analysis.attention].sort((a, b) => a.order - b.order);
  return { ok: true, bytes: writeModel(instrumentModel(model, { attention: sites })), sites };
}

/** Post-softmax attention of one site for one input. */
export interface SiteAttention {
  softmaxNode: string;
  /** The transformer block the site belongs to; null when the analysis could not tell. */
  block: number | null;
  heads: number;
  /** T: queries = keys. */
  tokens: number;
  /** From AttentionSite.causalMask: an input-independent mask (the LM's causal mask). */
  causal: boolean;
  /** (heads, T, T) row-major [head][query][key]; each row sums to 1. */
  probabilities: Float32Array;
}

export interface CapturedAttention {
  tokens: number;
  sites: SiteAttention[];
}

/** The model inputs for one input, fed as evaluate() feeds them (token ids with an LM's other inputs; an image to the first input). */
export function attentionFeeds(input: AttentionInput, inputs: readonly TensorInfo[]): Record<string, HostTensor> {
  if (input.kind === 'tokens') {
    if (input.ids.length === 0) throw new Error('attention capture: the text gives no tokens');
    return lmFeeds(requireLmInputs(inputs), [input.ids], input.ids.length);
  }
  return { [inputs[0].name]: imageBatch(input.dataset, [input.index]) };
}

/** [1, heads, T, T] or [heads, T, T] → heads and T; anything else is refused with the shape. */
function mapShape(site: AttentionSite, tensor: HostTensor): { heads: number; tokens: number } {
  const dims = tensor.dims;
  const batch = dims.length === 4 ? dims[0] : 1;
  const [heads, queries, keys] = dims.slice(-3);
  if ((dims.length !== 3 && dims.length !== 4) || batch !== 1 || queries !== keys) {
    throw new Error(`attention ${site.softmaxNode}: expected probabilities [1, heads, T, T], got [${dims.join(', ')}]`);
  }
  if (site.heads !== null && site.heads !== heads) {
    throw new Error(`attention ${site.softmaxNode}: the graph gives ${heads} heads, the analysis ${site.heads}`);
  }
  return { heads, tokens: keys };
}

/** Runs one input through `runner` (opened on captureModel's bytes) and returns every site's maps. */
export async function captureAttention(runner: ModelRunner, sites: readonly AttentionSite[], input: AttentionInput): Promise<CapturedAttention> {
  if (input.kind === 'image' && runner.inputNames.length !== 1) {
    throw new Error(`attention capture feeds an image to one input; the model takes ${runner.inputNames.length} (${runner.inputNames.join(', ')})`);
  }
  const outputs = await runner.run(attentionFeeds(input, runnerInputInfo(runner)), sites.map((site) => site.output));
  const captured = sites.map((site): SiteAttention => {
    const tensor = outputs[site.output];
    if (!tensor) throw new Error(`attention ${site.softmaxNode}: the session did not return "${site.output}"`);
    if (tensor.dtype !== 'float32') throw new Error(`attention ${site.softmaxNode}: probabilities are ${tensor.dtype}, expected float32`);
    const { heads, tokens } = mapShape(site, tensor);
    return { softmaxNode: site.softmaxNode, block: site.block, heads, tokens, causal: site.causalMask, probabilities: tensor.data as Float32Array };
  });
  return { tokens: captured[0]?.tokens ?? 0, sites: captured };
}
