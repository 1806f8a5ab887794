// Metric accumulators. Log-softmax and sums in float64 so the result does not depend on batch
// size or order of batches beyond float64 rounding.

export interface LmMetrics {
  task: 'causal-lm';
  /** exp(mean NLL) over every predicted position. */
  perplexity: number;
  /** mean NLL / ln 2. */
  bitsPerChar: number;
  /** Next-token top-1 accuracy (ties go to the lowest token id). */
  top1: number;
  meanNll: number;
  evalTokens: number;
}

export interface ClassificationMetrics {
  task: 'image-classification';
  top1: number;
  meanNll: number;
  evalSamples: number;
}

/** A masked LM on the user's text (src/core/hf/maskedLm.ts): accuracy at the positions chosen by BERT's 15 % rule. */
export interface MaskedLmEvalMetrics {
  task: 'masked-lm';
  /** Masked-token accuracy: argmax = the original id, over the chosen positions. */
  top1: number;
  /** Mean NLL of the original ids at the chosen positions (nats). */
  meanNll: number;
  /** Positions scored. */
  evalTokens: number;
}

export type EvalMetrics = LmMetrics | ClassificationMetrics | MaskedLmEvalMetrics;

/** NLL of `target` and the argmax of one row of logits (length V starting at `offset`). */
export function scoreRow(logits: Float32Array, offset: number, vocab: number, target: number): { nll: number; argmax: number } {
  let max = -Infinity;
  let argmax = 0;
  for (let v = 0; v < vocab; v++) {
    const x = logits[offset + v];
    if (x > max) {
      max = x;
      argmax = v;
    }
  }
  let sumExp = 0;
  for (let v = 0; v < vocab; v++) sumExp += Math.exp(logits[offset + v] - max);
  const logSumExp = max + Math.log(sumExp);
  return { nll: logSumExp - logits[offset + target], argmax };
}

/** Called once per scored row, in order, with that row's NLL and whether its argmax hit. */
export type RowListener = (row: number, nll: number, hit: boolean) => void;

/** Accumulates NLL and top-1 hits over rows of logits. */
export class NllAccumulator {
  private nllSum = 0;
  private hits = 0;
  count = 0;

  addRows(logits: Float32Array, vocab: number, targets: ArrayLike<number>, onRow?: RowListener): void {
    if (logits.length !== targets.length * vocab)
      throw new Error(`logits hold ${logits.length} values, expected ${targets.length} rows × ${vocab}`);
    for (let r = 0; r < targets.length; r++) {
      const target = targets[r];
      if (target < 0 || target >= vocab) throw new Error(`target ${target} is outside the model's ${vocab} outputs`);
      const { nll, argmax } = scoreRow(logits, r * vocab, vocab, target);
      this.nllSum += nll;
      if (argmax === target) this.hits++;
      this.count++;
      onRow?.(r, nll, argmax === target);
    }
  }

  get meanNll(): number {
    return this.nllSum / this.count;
  }

  get top1(): number {
    return this.hits / this.count;
  }

  lmMetrics(): LmMetrics {
    const meanNll = this.meanNll;
    return { task: 'causal-lm', perplexity: Math.exp(meanNll), bitsPerChar: meanNll / Math.LN2, top1: this.top1, meanNll, evalTokens: this.count };
  }

  classificationMetrics(): ClassificationMetrics {
    return { task: 'image-classification', top1: this.top1, meanNll: this.meanNll, evalSamples: this.count };
  }
}
