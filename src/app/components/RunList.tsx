// Every run of the session, one row each, newest last. A row selects the run the result panel
// and the tabs show. Kept in memory in the record shape the experiments issue will persist.
import { describePattern } from '../../core/prune';
import { isPruneStage } from '../../core/recipe';
import { isQuantizeStage, quantizeFileTag } from '../../core/recipe/stages/quantize';
import { changeQuality, methodMeanings, quantMethodMeanings } from '../glossary';
import { formatChange, formatMetricValue, percent, seconds, shortBytes } from '../format';
import { metricEntries, primaryMetric } from '../metricsView';
import { selectRun } from '../runController';
import { selectedRun, useLab, type RunRecord } from '../store';
import { ScrollRegion } from './ScrollRegion';

function recipeCells(run: RunRecord): { method: string; pattern: string } {
  const stage = run.recipe.stages.find(isPruneStage);
  const quant = run.recipe.stages.find(isQuantizeStage);
  const quantTag = quant ? quantizeFileTag(quant).toUpperCase() : undefined;
  if (!stage) return { method: quant ? quantMethodMeanings[quant.method].label : run.recipe.stages.map((s) => s.kind).join(' + '), pattern: quantTag ?? '—' };
  const allocation = stage.allocation.kind === 'uniform' ? '' : ` · ${stage.allocation.kind}`;
  const pattern = stage.pattern.kind === 'unstructured' ? 'unstructured' : describePattern(stage.pattern);
  return { method: `${methodMeanings[stage.method].label}${allocation}${quant ? ` + ${quantMethodMeanings[quant.method].label}` : ''}`, pattern: quantTag ? `${pattern} + ${quantTag}` : pattern };
}

function DeltaCell({ run }: { run: RunRecord }) {
  const dense = run.dense.metrics;
  const after = run.evaluation?.metrics;
  if (!dense || !after) return <td>—</td>;
  const entry = metricEntries(dense).find((e) => e.key === primaryMetric[dense.task])!;
  const to = (after as unknown as Record<string, number>)[entry.key];
  const quality = changeQuality(entry.meaning.better, entry.value, to);
  const { relative } = formatChange(entry.value, to, entry.meaning.kind);
  return (
    <td className={`num change ${quality > 0 ? 'better' : quality < 0 ? 'worse' : 'unchanged'}`} title={`${entry.meaning.label}: dense ${entry.value}, run ${to}`}>
      {relative}
    </td>
  );
}

export function RunList() {
  const runs = useLab((s) => s.runs);
  const current = useLab(selectedRun);
  if (runs.length === 0) return null;
  const task = runs[runs.length - 1].dense.metrics?.task;
  const metricLabel = task ? metricEntries(runs[runs.length - 1].dense.metrics!).find((e) => e.key === primaryMetric[task])!.meaning.label : 'Metric';
  return (
    <section className="panel" aria-labelledby="runs-title">
      <h2 id="runs-title">Runs this session ({runs.length})</h2>
      <ScrollRegion label="Runs" short>
        <table className="run-list" data-testid="run-list">
          <thead>
            <tr>
              <th scope="col">Run</th>
              <th scope="col">Model</th>
              <th scope="col">Method</th>
              <th scope="col">Pattern</th>
              <th scope="col" className="num">
                Sparsity
              </th>
              <th scope="col" className="num">
                {metricLabel}
              </th>
              <th scope="col" className="num">
                Δ vs dense
              </th>
              <th scope="col" className="num">
                File
              </th>
              <th scope="col" className="num">
                Time
              </th>
              <th scope="col">Status</th>
            </tr>
          </thead>
          <tbody>
            {[...runs].reverse().map((run) => {
              const { method, pattern } = recipeCells(run);
              const metrics = run.evaluation?.metrics;
              const primary = metrics ? metricEntries(metrics).find((e) => e.key === primaryMetric[metrics.task]) : undefined;
              const isCurrent = current?.id === run.id;
              return (
                <tr key={run.id} className={isCurrent ? 'selected' : undefined} data-run={run.id} data-status={run.status} aria-current={isCurrent ? 'true' : undefined}>
                  <td>
                    <button type="button" className="link" onClick={() => selectRun(run.id)} aria-pressed={isCurrent}>
                      Run {run.number}
                    </button>
                  </td>
                  <td>{run.model.label}</td>
                  <td>{method}</td>
                  <td>{pattern}</td>
                  <td className="num" title={run.report ? String(run.report.totals.achievedSparsityPruned) : undefined}>
                    {run.report && run.report.layers.length > 0 ? percent(run.report.totals.achievedSparsityPruned) : '—'}
                  </td>
                  <td className="num" title={primary ? String(primary.value) : undefined}>
                    {primary ? formatMetricValue(primary.value, primary.meaning.kind) : '—'}
                  </td>
                  <DeltaCell run={run} />
                  <td className="num" title={run.report ? `${run.report.totals.denseFileBytes} bytes measured; sparse estimate ${run.report.totals.estimatedSparseFileBytes} bytes` : undefined}>
                    {run.report ? shortBytes(run.report.totals.denseFileBytes) : '—'}
                  </td>
                  <td className="num">{run.durationMs !== undefined ? seconds(run.durationMs) : '…'}</td>
                  <td>{run.status === 'running' ? (run.cancelling ? 'cancelling…' : 'running') : run.status}</td>
                </tr>
              );
            })}
          </tbody>
        </table>
      </ScrollRegion>
    </section>
  );
}
