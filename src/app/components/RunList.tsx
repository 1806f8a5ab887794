// The history view: every run kept in this browser (src/app/history.ts mirrors them to IndexedDB),
// one row each, newest first. Headers sort, selects filter, checkboxes pick runs to delete,
// export or compare. A row's button selects the run the result panel and the tabs show.
import { useState } from 'react';
import { describePattern } from '../../core/prune';
import { isPruneStage } from '../../core/recipe';
import { isQuantizeStage, quantizeFileTag } from '../../core/recipe/stages/quantize';
import { changeQuality, methodMeanings, quantMethodMeanings } from '../glossary';
import { formatChange, formatMetricValue, percent, seconds, shortBytes } from '../format';
import { metricEntries, primaryMetric } from '../metricsView';
import { selectRun } from '../runController';
import { DEFAULT_SORT, filterRuns, nextSort, NO_FILTER, sortRuns, withinNoise, type RunFilter, type RunSort, type SortKey } from '../runTable';
import { selectedRun, useLab, type RunRecord } from '../store';
import { RunCompare } from './RunCompare';
import { HistoryActions, RunFilters } from './RunListTools';
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

/** The change of the headline metric against dense, with its paired 95 % interval when the run has one. */
function DeltaCell({ run }: { run: RunRecord }) {
  const dense = run.dense.metrics;
  const after = run.evaluation?.metrics;
  if (!dense || !after) return <td>—</td>;
  const entry = metricEntries(dense).find((e) => e.key === primaryMetric[dense.task])!;
  const to = (after as unknown as Record<string, number>)[entry.key];
  const quality = changeQuality(entry.meaning.better, entry.value, to);
  const { relative } = formatChange(entry.value, to, entry.meaning.kind);
  const interval = run.interval;
  const range = interval && `[${formatChange(0, interval.low, entry.meaning.kind).absolute}, ${formatChange(0, interval.high, entry.meaning.kind).absolute}]`;
  const title = `${entry.meaning.label}: dense ${entry.value}, run ${to}${interval ? `; change ${interval.delta}, paired 95 % bootstrap interval [${interval.low}, ${interval.high}]${withinNoise(interval) ? ', which contains 0: within noise' : ''}` : ''}`;
  return (
    <td className={`num change ${quality > 0 ? 'better' : quality < 0 ? 'worse' : 'unchanged'}`} title={title} data-testid="run-delta">
      {relative}
      {range && <span className="interval">{range}</span>}
      {interval && withinNoise(interval) && <span className="interval noise">within noise</span>}
    </td>
  );
}

const statusTitles: Partial<Record<RunRecord['status'], string>> = {
  interrupted: 'The tab was closed or crashed while this run was running, so it never finished. Its recipe is kept: run it again to get its result.',
  cancelled: 'Stopped by Cancel before it finished.',
};

function StatusCell({ run }: { run: RunRecord }) {
  const word = run.status === 'running' ? (run.cancelling ? 'cancelling…' : 'running') : run.status;
  return (
    <td className={`status-${run.status}`} title={statusTitles[run.status] ?? run.message}>
      {word}
    </td>
  );
}

function SortHeader({ label, sortKey, sort, onSort, numeric }: { label: string; sortKey: SortKey; sort: RunSort; onSort: (key: SortKey) => void; numeric?: boolean }) {
  const active = sort.key === sortKey;
  return (
    <th scope="col" className={numeric ? 'num' : undefined} aria-sort={active ? (sort.descending ? 'descending' : 'ascending') : 'none'}>
      <button type="button" className="sort" onClick={() => onSort(sortKey)}>
        {label}
        <span aria-hidden="true">{active ? (sort.descending ? ' ▼' : ' ▲') : ' ↕'}</span>
      </button>
    </th>
  );
}

function RunRow({ run, current, checked, onCheck }: { run: RunRecord; current: boolean; checked: boolean; onCheck: (on: boolean) => void }) {
  const { method, pattern } = recipeCells(run);
  const metrics = run.evaluation?.metrics;
  const primary = metrics ? metricEntries(metrics).find((e) => e.key === primaryMetric[metrics.task]) : undefined;
  return (
    <tr className={current ? 'selected' : undefined} data-run={run.id} data-status={run.status} aria-current={current ? 'true' : undefined}>
      <td>
        <input type="checkbox" aria-label={`Select run ${run.number}`} checked={checked} onChange={(e) => onCheck(e.target.checked)} />
      </td>
      <td>
        <button type="button" className="link" onClick={() => selectRun(run.id)} aria-pressed={current}>
          Run {run.number}
        </button>
      </td>
      <td>{run.model.label}</td>
      <td>{method}</td>
      <td>{pattern}</td>
      <td className="num" title={run.report ? String(run.report.totals.achievedSparsityPruned) : undefined}>
        {run.report && run.report.layers.length > 0 ? percent(run.report.totals.achievedSparsityPruned) : '—'}
      </td>
      <td className="num" title={primary ? String(primary.value) : undefined} data-value={primary?.value}>
        {primary ? formatMetricValue(primary.value, primary.meaning.kind) : '—'}
      </td>
      <DeltaCell run={run} />
      <td className="num" title={run.report ? `${run.report.totals.denseFileBytes} bytes measured; sparse estimate ${run.report.totals.estimatedSparseFileBytes} bytes` : undefined}>
        {run.report ? shortBytes(run.report.totals.denseFileBytes) : '—'}
      </td>
      <td className="num">{run.durationMs !== undefined ? seconds(run.durationMs) : run.status === 'running' ? '…' : '—'}</td>
      <StatusCell run={run} />
    </tr>
  );
}

export function RunList() {
  const runs = useLab((s) => s.runs);
  const history = useLab((s) => s.history);
  const current = useLab(selectedRun);
  const [sort, setSort] = useState<RunSort>(DEFAULT_SORT);
  const [filter, setFilter] = useState<RunFilter>(NO_FILTER);
  const [checked, setChecked] = useState<readonly string[]>([]);
  const [comparing, setComparing] = useState<readonly string[]>([]);
  if (runs.length === 0) return <HistoryEmpty />;
  // Selection and comparison name runs by id; a deleted run simply drops out of both. Only runs
  // the filters show count as selected, so Delete never reaches a run the user cannot see.
  const shown = sortRuns(filterRuns(runs, filter), sort);
  const selected = shown.filter((r) => checked.includes(r.id));
  const pair = comparing.map((id) => runs.find((r) => r.id === id)).filter((r) => r !== undefined);
  const task = runs[runs.length - 1].dense.metrics?.task;
  const metricLabel = task ? metricEntries(runs[runs.length - 1].dense.metrics!).find((e) => e.key === primaryMetric[task])!.meaning.label : 'Metric';
  const check = (id: string, on: boolean) => setChecked((ids) => (on ? [...ids, id] : ids.filter((x) => x !== id)));
  const onSort = (key: SortKey) => setSort((s) => nextSort(s, key));
  return (
    <section className="panel history" aria-labelledby="runs-title">
      <h2 id="runs-title">
        Runs ({runs.length}) <span className="muted-inline" data-testid="history-note">{historyNote(history)}</span>
      </h2>
      <RunFilters runs={runs} filter={filter} onChange={setFilter} shown={shown.length} />
      <HistoryActions runs={runs} shown={shown} selected={selected} onDeleted={() => setChecked([])} onCompare={() => setComparing(selected.map((r) => r.id))} />
      <ScrollRegion label="Runs" short>
        <table className="run-list" data-testid="run-list">
          <thead>
            <tr>
              <th scope="col">
                <span className="visually-hidden">Select</span>
              </th>
              <SortHeader label="Run" sortKey="number" sort={sort} onSort={onSort} />
              <th scope="col">Model</th>
              <th scope="col">Method</th>
              <th scope="col">Pattern</th>
              <th scope="col" className="num">
                Sparsity
              </th>
              <SortHeader label={metricLabel} sortKey="metric" sort={sort} onSort={onSort} numeric />
              <th scope="col" className="num">
                Δ vs dense
              </th>
              <SortHeader label="File" sortKey="size" sort={sort} onSort={onSort} numeric />
              <SortHeader label="Time" sortKey="time" sort={sort} onSort={onSort} numeric />
              <th scope="col">Status</th>
            </tr>
          </thead>
          <tbody>
            {shown.map((run) => (
              <RunRow key={run.id} run={run} current={current?.id === run.id} checked={checked.includes(run.id)} onCheck={(on) => check(run.id, on)} />
            ))}
          </tbody>
        </table>
      </ScrollRegion>
      {pair.length === 2 && <RunCompare a={pair[0]} b={pair[1]} onClose={() => setComparing([])} />}
    </section>
  );
}

function historyNote(history: { status: string; reason?: string }): string {
  if (history.status === 'unavailable') return `not kept: ${history.reason ?? 'this browser keeps no history'}`;
  return history.reason ?? (history.status === 'opening' ? 'opening the history…' : 'kept in this browser');
}

/** With no runs yet the view still offers Import, so a file from another browser can start the history. */
function HistoryEmpty() {
  const history = useLab((s) => s.history);
  if (history.status !== 'ready') return null;
  return (
    <section className="panel history" aria-labelledby="runs-title">
      <h2 id="runs-title">
        Runs (0) <span className="muted-inline" data-testid="history-note">{historyNote(history)}</span>
      </h2>
      <HistoryActions runs={[]} shown={[]} selected={[]} onDeleted={() => undefined} onCompare={() => undefined} />
    </section>
  );
}
