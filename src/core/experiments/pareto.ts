// The Pareto frontier of runs on (size, metric): the runs no other run beats on both — at most the
// same size and at least as good a metric, better on one. Smaller size is always better; the
// metric is better lower (perplexity) or higher (top-1).

export interface TradeoffPoint {
  x: number;
  y: number;
}

/** Indices of the frontier's points, by ascending x. Ties on both keep the first. */
export function paretoFront(points: readonly TradeoffPoint[], better: 'lower' | 'higher'): number[] {
  const sign = better === 'lower' ? 1 : -1;
  const order = points
    .map((p, i) => ({ ...p, i }))
    .filter((p) => Number.isFinite(p.x) && Number.isFinite(p.y))
    .sort((a, b) => a.x - b.x || sign * (a.y - b.y) || a.i - b.i);
  const front: number[] = [];
  let best = Infinity;
  for (const p of order) {
    const y = sign * p.y;
    if (y < best) {
      front.push(p.i);
      best = y;
    }
  }
  return front;
}
