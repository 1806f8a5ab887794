// The history view's table, the pure part: which runs a filter keeps (model, method, stage kind)
// and the order a column header asks for. Runs without the sorted value go last either way, so
// a failed run never sits among the best.
import { methodMeanings, quantMethodMeanings } from './glossary';
import { primaryMetric } from './metricsView';
import type { RunRecord } from './store';

export type SortKey = 'number' | 'metric' | 'size' | 'time';
export interface RunSort {
  key: SortKey;
  descending: boolean;
}
/** Newest first, as the list always showed. */
export const DEFAULT_SORT: RunSort = { key: 'number', descending: true };

export interface RunFilter {
  /** '' keeps every run. */
  model: string;
  /** "prune:wanda", "quantize:gptq", "attention:act". */
  method: string;
  stage: string;
}
export const NO_FILTER: RunFilter = { model: '', method: '', stage: '' };

/** What a stage's method is called, by its "kind:method" key. */
export function methodLabel(key: string): string {
  const [kind, method] = key.split(':');
  if (kind === 'prune' && method in methodMeanings) return methodMeanings[method as keyof typeof methodMeanings].label;
  if (kind === 'quantize' && method in quantMethodMeanings) return quantMethodMeanings[method as keyof typeof quantMethodMeanings].label;
  return method ? method.toUpperCase() : kind;
}

const methodKeys = (run: RunRecord) => run.recipe.stages.map((s) => `${s.kind}:${(s as { method?: string }).method ?? ''}`);

/** The choices each filter offers: the values the runs have, sorted. */
export function filterChoices(runs: readonly RunRecord[]): { models: string[]; methods: string[]; stages: string[] } {
  const distinct = (values: string[]) => [...new Set(values)].sort();
  return {
    models: distinct(runs.map((r) => r.model.label)),
    methods: distinct(runs.flatMap(methodKeys)),
    stages: distinct(runs.flatMap((r) => r.recipe.stages.map((s) => s.kind))),
  };
}

export function filterRuns(runs: readonly RunRecord[], filter: RunFilter): RunRecord[] {
  return runs.filter((r) => (!filter.model || r.model.label === filter.model) && (!filter.method || methodKeys(r).includes(filter.method)) && (!filter.stage || r.recipe.stages.some((s) => s.kind === filter.stage)));
}

/** The headline metric of a finished run (perplexity for LMs, top-1 for classifiers). */
export function headlineMetric(run: RunRecord): number | undefined {
  const metrics = run.evaluation?.metrics;
  return metrics ? (metrics as unknown as Record<string, number>)[primaryMetric[metrics.task]] : undefined;
}

const sortValue: Record<SortKey, (run: RunRecord) => number | undefined> = {
  number: (run) => run.number,
  metric: headlineMetric,
  size: (run) => run.report?.totals.denseFileBytes,
  time: (run) => run.durationMs,
};

export function sortRuns(runs: readonly RunRecord[], sort: RunSort): RunRecord[] {
  const value = sortValue[sort.key];
  return [...runs].sort((a, b) => {
    const va = value(a);
    const vb = value(b);
    if (va === undefined || vb === undefined) return (va === undefined ? 1 : 0) - (vb === undefined ? 1 : 0) || b.number - a.number;
    return (sort.descending ? vb - va : va - vb) || b.number - a.number;
  });
}

/** A header click: the same column flips its order, a new column starts ascending (run number: newest first). */
export function nextSort(current: RunSort, key: SortKey): RunSort {
  if (current.key === key) return { key, descending: !current.descending };
  return { key, descending: key === 'number' };
}

/** Whether a paired interval of the change against dense contains 0: the change is within noise. */
export const withinNoise = (interval: { low: number; high: number }) => interval.low <= 0 && interval.high >= 0;
