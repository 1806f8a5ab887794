// Which metrics a task shows, in order (the core's table, shared with the CLI), with their meaning
// for people: the rows of every comparison table.
import type { EvalMetrics } from '../core/eval/metrics';
import { metricRows } from '../core/report/metricRows';
import { metricMeanings, type MetricMeaning } from './glossary';

/** The metric the run list shows for a task (perplexity for LMs, top-1 for classifiers). */
export const primaryMetric: Record<EvalMetrics['task'], string> = { 'causal-lm': 'perplexity', 'image-classification': 'top1', 'masked-lm': 'top1' };

/** A masked LM's top1 / meanNll / evalTokens are read at its chosen positions, and are named so (glossary's masked* entries). */
const maskedMeaning: Record<string, string> = { top1: 'maskedAccuracy', meanNll: 'maskedNll', evalTokens: 'maskedPositions' };

/** What a metric key means for a task. */
export function metricMeaning(task: EvalMetrics['task'], key: string): MetricMeaning {
  return metricMeanings[(task === 'masked-lm' ? maskedMeaning[key] : undefined) ?? key];
}

export function metricEntries(m: EvalMetrics): { key: string; meaning: MetricMeaning; value: number }[] {
  return metricRows(m).map(({ key, value }) => ({ key, meaning: metricMeaning(m.task, key), value }));
}
