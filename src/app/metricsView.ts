// Which metrics a task shows, in order, with their meaning: the rows of every comparison table.
import type { EvalMetrics } from '../core/eval/metrics';
import { metricMeanings, type MetricMeaning } from './glossary';

const rowsByTask: Record<EvalMetrics['task'], string[]> = {
  'causal-lm': ['perplexity', 'bitsPerChar', 'top1', 'evalTokens'],
  'image-classification': ['top1', 'meanNll', 'evalSamples'],
};

/** The metric the run list shows for a task (perplexity for LMs, top-1 for classifiers). */
export const primaryMetric: Record<EvalMetrics['task'], string> = { 'causal-lm': 'perplexity', 'image-classification': 'top1' };

export function metricEntries(m: EvalMetrics): { key: string; meaning: MetricMeaning; value: number }[] {
  const values = m as unknown as Record<string, number>;
  return rowsByTask[m.task].map((key) => ({ key, meaning: metricMeanings[key], value: values[key] }));
}
