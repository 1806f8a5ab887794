// Seeded randomness for calibration: which samples are drawn and which output tokens are kept.
// The seed is part of the recipe, so a recipe reproduces the same draw in Node, a worker and the
// browser. mulberry32 (Tommy Ettinger's 32-bit generator): small, fast, identical everywhere
// because it uses only 32-bit integer ops.

export type Random = () => number;

/** A generator of floats in [0, 1) from a 32-bit seed. */
export function mulberry32(seed: number): Random {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A seed for one stream derived from the recipe's seed and a stream index (e.g. a layer). */
export function deriveSeed(seed: number, stream: number): number {
  let h = (seed ^ Math.imul(stream + 1, 0x9e3779b1)) >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

/** An integer in [0, n). */
export const randomIndex = (random: Random, n: number): number => Math.floor(random() * n);

/**
 * `count` distinct indices of 0..total-1, in draw order: the first `count` steps of a
 * Fisher–Yates shuffle. With count === total it is a permutation of the whole set.
 */
export function chooseSamples(total: number, count: number, seed: number): number[] {
  if (!Number.isInteger(count) || count < 1 || count > total) {
    throw new RangeError(`calibration: cannot draw ${count} samples from a set of ${total}`);
  }
  const random = mulberry32(seed);
  const order = Array.from({ length: total }, (_, i) => i);
  for (let i = 0; i < count; i++) {
    const j = i + randomIndex(random, total - i);
    [order[i], order[j]] = [order[j], order[i]];
  }
  return order.slice(0, count);
}
