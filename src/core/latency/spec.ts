// What a latency table is measured for: the shapes of one transformer block (every block of the
// models the lab analyses has the same shapes) and of the parts around the blocks. Read from a
// model analysis, so the table of a bundled LM, a ViT or a user's GPT-2 / Llama export comes from
// the same code. ZipLM (Kurtic et al. 2023, §3.3) times each block's attention with h heads kept
// and its MLP with n neurons kept on the target device; this is that, for the browser's backends.
import type { ModelAnalysis } from '../model/types.ts';

export interface LatencySpec {
  dModel: number;
  /** Query heads per block, their size, and the key-value heads (grouped-query attention: fewer). */
  heads: number;
  headDim: number;
  kvHeads: number;
  /** MLP intermediate width (neurons), and whether it is gated (Llama's gate·up, SiLU). */
  mlpWidth: number;
  gated: boolean;
  blocks: number;
  /** Tokens per forward pass: the window the latency is measured on (batch 1). */
  seq: number;
  /** Whether the attention is causal (a mask added to the scores). */
  causal: boolean;
  /** How tokens enter: a token-id table of `inputWidth` rows, or a linear patch embedding of `inputWidth` inputs. */
  input: 'tokens' | 'patches';
  inputWidth: number;
  /** Output head width (vocabulary, classes) and how many positions it is applied to (seq for an LM, 1 for a classifier). */
  headOut: number;
  headTokens: number;
}

export type LatencySpecResult = { ok: true; spec: LatencySpec } | { ok: false; message: string };

/**
 * The spec of a model, or one sentence naming what the analysis does not give. `seq` defaults to
 * the rows of a learned position table (the bundled LM's context); a model without one must be
 * given it.
 */
export function latencySpecOf(analysis: ModelAnalysis, options: { seq?: number } = {}): LatencySpecResult {
  const site = analysis.attention.find((s) => s.heads !== null && s.headDim !== null);
  if (!site || site.heads === null || site.headDim === null) return { ok: false, message: 'the latency table needs attention heads the analysis can read (no Softmax attention with a known head count was found)' };
  const q = analysis.linears.find((l) => l.role === 'attn.q' || l.role === 'attn.qkv');
  if (!q) return { ok: false, message: 'the latency table needs a query projection (no attn.q or attn.qkv layer was found)' };
  const up = analysis.linears.find((l) => l.role === 'mlp.up');
  if (!up) return { ok: false, message: 'the latency table needs an MLP (no mlp.up layer was found)' };
  if (analysis.numBlocks < 1) return { ok: false, message: 'the latency table needs transformer blocks (the analysis found none)' };
  const token = analysis.embeddings.find((e) => e.kind === 'token');
  const patch = analysis.linears.find((l) => l.role === 'embed');
  const position = analysis.embeddings.find((e) => e.kind === 'position');
  const seq = options.seq ?? position?.weightDims[0];
  if (seq === undefined || !(seq >= 1)) return { ok: false, message: 'the latency table needs a sequence length (the model has no position table to read it from; pass seq)' };
  const head = analysis.linears.find((l) => l.role === 'head');
  const lm = analysis.task === 'causal-lm' || analysis.task === 'masked-lm';
  return {
    ok: true,
    spec: {
      dModel: q.inFeatures,
      heads: site.heads,
      headDim: site.headDim,
      kvHeads: site.kvHeads ?? site.heads,
      mlpWidth: up.outFeatures,
      gated: analysis.linears.some((l) => l.role === 'mlp.gate'),
      blocks: analysis.numBlocks,
      seq,
      causal: site.causalMask,
      input: token ? 'tokens' : 'patches',
      inputWidth: token ? token.weightDims[0] : (patch?.inFeatures ?? q.inFeatures),
      headOut: head?.outFeatures ?? 0,
      headTokens: head ? (lm ? seq : 1) : 0,
    },
  };
}

/** latencySpecOf, throwing its message. */
export function latencySpec(analysis: ModelAnalysis, options: { seq?: number } = {}): LatencySpec {
  const result = latencySpecOf(analysis, options);
  if (!result.ok) throw new Error(result.message);
  return result.spec;
}
