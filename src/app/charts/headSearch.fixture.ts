// A seeded head-search report for the chart's and the summary's tests (not a test file itself).
import type { AttentionStageReport } from '../../core/compress/attentionStage';

function seeded(seed: number) {
  let s = seed;
  return () => (s = (s * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
}

/** A search over layers 2–3 (0, 1 and 4 skipped) with seeded deltas; 2.1 improves and is selected, 3.0 improves and is dropped, 3.2 is worse. */
export function searchReport(seed: number): AttentionStageReport {
  const rand = seeded(seed);
  const planted: Record<string, [number, number, number]> = { '2.1': [-0.004, -0.007, -0.001], '3.0': [-0.002, -0.004, -0.0005], '3.2': [0.003, 0.001, 0.005] };
  const candidates = [2, 3].flatMap((layer) =>
    [0, 1, 2, 3].map((head) => {
      const [delta, low, high] = planted[`${layer}.${head}`] ?? ((d) => [d, d - 0.002, d + 0.002])(Math.round((rand() - 0.5) * 2e4) / 1e7);
      return { layer, head, score: 1.25 + delta, delta, interval: { low, high }, improves: high < 0 };
    }),
  );
  return {
    kind: 'attention', index: 0, summary: 'ACT', layers: [], ms: 1, heads: 'search', metric: 'mean NLL', samples: 8, guard: 'interval', baseline: 1.25,
    candidates, skippedLayers: [0, 1, 4], kept: [{ layer: 2, head: 1 }, { layer: 3, head: 0 }], keptScore: 1.2465,
    drops: [{ layer: 3, head: 0, score: 1.246, interval: { low: -0.001, high: -0.0001 } }],
    finalSet: [{ layer: 2, head: 1 }], finalInterval: { low: -0.007, high: -0.001 }, selected: [{ layer: 2, head: 1 }], selectedScore: 1.246, evaluations: 11,
  };
}
