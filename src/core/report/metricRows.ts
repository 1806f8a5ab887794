// The metrics a task reports, in display order, with their formatting: one table shared by the
// UI and the CLI so both print identical digits.
import type { EvalMetrics } from '../eval/metrics';
import { formatMetric } from './format';

export interface MetricRow {
  key: string;
  label: string;
  value: number;
  text: string;
}

const metricTable: Record<EvalMetrics['task'], [key: string, label: string, kind: 'ratio' | 'plain' | 'count'][]> = {
  'causal-lm': [
    ['perplexity', 'Perplexity', 'plain'],
    ['bitsPerChar', 'Bits per character', 'plain'],
    ['top1', 'Next-token top-1', 'ratio'],
    ['evalTokens', 'Tokens evaluated', 'count'],
  ],
  'masked-lm': [
    ['top1', 'Masked-token accuracy', 'ratio'],
    ['meanNll', 'Masked-LM NLL', 'plain'],
    ['evalTokens', 'Masked positions scored', 'count'],
  ],
  'image-classification': [
    ['top1', 'Top-1 accuracy', 'ratio'],
    ['meanNll', 'Mean NLL', 'plain'],
    ['evalSamples', 'Samples evaluated', 'count'],
  ],
};

export function metricRows(m: EvalMetrics, reference?: Record<string, number>): (MetricRow & { referenceText?: string })[] {
  const values = m as unknown as Record<string, number>;
  return metricTable[m.task].map(([key, label, kind]) => {
    const text = (v: number) => (kind === 'count' ? String(v) : formatMetric(v, kind));
    const ref = reference?.[key];
    return { key, label, value: values[key], text: text(values[key]), referenceText: ref === undefined ? undefined : text(ref) };
  });
}
