// A seeded uniform subsample of a layer's output tokens (Vitter's Algorithm R), for TAMP's
// output diversity: keeping every output token of every sample would not fit in memory for
// larger models, and the cosine statistics only need a representative set.
import type { Matrix } from '../prune/types.ts';
import { mulberry32, randomIndex, type Random } from './random.ts';

export class TokenReservoir {
  private readonly data: Float32Array;
  private seen = 0;
  private readonly random: Random;

  constructor(
    readonly capacity: number,
    readonly channels: number,
    seed: number,
  ) {
    this.data = new Float32Array(capacity * channels);
    this.random = mulberry32(seed);
  }

  /** Offers token rows (tokens, channels) in order. */
  add(rows: Float32Array, tokens: number): void {
    const C = this.channels;
    for (let t = 0; t < tokens; t++) {
      const slot = this.seen < this.capacity ? this.seen : randomIndex(this.random, this.seen + 1);
      this.seen++;
      if (slot < this.capacity) this.data.set(rows.subarray(t * C, (t + 1) * C), slot * C);
    }
  }

  /** (min(capacity, seen), channels) */
  sample(): Matrix {
    const rows = Math.min(this.capacity, this.seen);
    return { rows, cols: this.channels, data: this.data.slice(0, rows * this.channels) };
  }
}
