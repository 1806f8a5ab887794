// TAMP's AMIA token selection during calibration (G-JWLee/TAMP, AdaptiveMultimodalInputActivation):
// per sample, the tokens a layer's Wanda statistic is computed over are chosen from the attention
// they receive from the last query (of the layer's block) and a kNN graph of the layer's outputs.
// The selection itself is src/core/prune/allocation/amia.ts; this file cuts the batch into
// samples and feeds it.
import type { HostTensor } from '../eval/runner.ts';
import { lastQueryAttention, selectRepresentativeTokens, sqNormOverTokens } from '../prune/allocation/amia.ts';
import type { TokenRows } from './tokens.ts';

export interface TokenSelectionSite {
  /** The Softmax output (attention probabilities [batch, heads, T, T]) that scores the tokens. */
  tensor: string;
}

/** Σ over samples of Σ_{t selected} x_tj², for one batch of one layer. */
export function selectedSqNorm(inputs: TokenRows, outputs: TokenRows, probabilities: HostTensor, batch: number, label: string): Float64Array {
  const dims = probabilities.dims;
  const [heads, tokens] = [dims[dims.length - 3], dims[dims.length - 1]];
  if (inputs.tokens !== batch * tokens || outputs.tokens !== batch * tokens) {
    throw new Error(`${label}: token selection needs ${tokens} tokens per sample (the attention's T), got ${inputs.tokens / batch}`);
  }
  const sum = new Float64Array(inputs.channels);
  const probs = probabilities.data as Float32Array;
  const size = heads * tokens * tokens;
  for (let b = 0; b < batch; b++) {
    const received = lastQueryAttention(probs.subarray(b * size, (b + 1) * size), heads, tokens);
    const out = { rows: tokens, cols: outputs.channels, data: outputs.data.subarray(b * tokens * outputs.channels, (b + 1) * tokens * outputs.channels) };
    const { selected } = selectRepresentativeTokens(out, received);
    const inp = { rows: tokens, cols: inputs.channels, data: inputs.data.subarray(b * tokens * inputs.channels, (b + 1) * tokens * inputs.channels) };
    const sqNorm = sqNormOverTokens(inp, selected);
    for (let j = 0; j < sum.length; j++) sum[j] += sqNorm[j];
  }
  return sum;
}
