// Mean post-softmax attention probabilities per site over the calibration samples, for the
// attention views and TAMP's token selection. Sums in float64, divided once at the end.
import type { HostTensor } from '../eval/runner.ts';

export interface AttentionStats {
  softmaxNode: string;
  heads: number;
  /** T: queries = keys = tokens per sample. */
  tokens: number;
  samples: number;
  /** (heads, T, T) mean over samples of the probabilities, row-major [head][query][key]. */
  meanProbabilities: Float64Array;
}

export class AttentionAccumulator {
  private sum: Float64Array | undefined;
  private heads = 0;
  private tokens = 0;
  private samples = 0;

  constructor(readonly softmaxNode: string) {}

  /** probabilities [batch, heads, T, T] (or [heads, T, T] for one sample). */
  add(probabilities: HostTensor): void {
    const dims = probabilities.dims;
    const data = probabilities.data as Float32Array;
    if (dims.length < 3 || dims[dims.length - 1] !== dims[dims.length - 2]) {
      throw new Error(`attention ${this.softmaxNode}: expected [batch, heads, T, T], got [${dims.join(', ')}]`);
    }
    const [heads, tokens] = [dims[dims.length - 3], dims[dims.length - 1]];
    if (this.sum === undefined) {
      this.sum = new Float64Array(heads * tokens * tokens);
      [this.heads, this.tokens] = [heads, tokens];
    } else if (heads !== this.heads || tokens !== this.tokens) {
      throw new Error(`attention ${this.softmaxNode}: shape changed from ${this.heads}x${this.tokens}x${this.tokens} to ${heads}x${tokens}x${tokens}`);
    }
    const size = this.sum.length;
    const batch = data.length / size;
    for (let b = 0; b < batch; b++) for (let i = 0; i < size; i++) this.sum[i] += data[b * size + i];
    this.samples += batch;
  }

  finish(): AttentionStats {
    const sum = this.sum ?? new Float64Array(0);
    const n = this.samples;
    return {
      softmaxNode: this.softmaxNode,
      heads: this.heads,
      tokens: this.tokens,
      samples: n,
      meanProbabilities: sum.map((s) => (n === 0 ? 0 : s / n)),
    };
  }
}
