// The trade-off tab: every finished run of the loaded model as a point, its metric against one
// measure of size or speed, the dense model beside them; sweeps below fill it point by point.
import { useMemo, useState } from 'react';
import { AXIS_LABELS, tradeoffChart, tradeoffLegendHeight, type TradeoffAxis } from '../charts/tradeoffChart';
import '../charts/charts.css';
import './tradeoff.css';
import { paretoFront } from '../../core/experiments/pareto';
import { selectRun } from '../runController';
import { selectedRun, useLab } from '../store';
import { defaultLogX, tradeoffPoints, type TradeoffPoints } from '../tradeoffPoints';
import { ChartOrTable } from './ChartOrTable';
import { D3Chart } from './D3Chart';
import { ScrollRegion } from './ScrollRegion';
import { SweepPanel } from './SweepPanel';

const AXES: TradeoffAxis[] = ['bytes', 'bits', 'params', 'msPerItem', 'latency'];

/** How a value on the axis reads in the table. */
function axisText(axis: TradeoffAxis, x: number): string {
  if (axis === 'bits') return x.toFixed(2);
  if (axis === 'msPerItem' || axis === 'latency') return x.toFixed(3);
  return x.toLocaleString('en-US');
}

/** Why the picture may look flat: every point at one x says what that x cannot show. */
function sameXNote(axis: TradeoffAxis, data: TradeoffPoints): string | undefined {
  if (data.points.length < 2 || new Set(data.points.map((p) => p.x)).size > 1) return undefined;
  if (axis === 'bytes') return 'Every run here writes a file of the same size: pruned weights are stored dense (zeros included), so pruning alone does not shrink the file. Non-zero linear weights show the sparsity.';
  if (axis === 'bits') return 'No run here quantized: every run stores 32 bits per weight.';
  return undefined;
}

function useTradeoffData(axis: TradeoffAxis): TradeoffPoints {
  const runs = useLab((s) => s.runs);
  const sha256 = useLab((s) => s.model.sha256);
  const loadId = useLab((s) => s.model.loadId);
  const sizeBytes = useLab((s) => s.model.sizeBytes);
  const metrics = useLab((s) => s.evaluation.metrics);
  return useMemo(() => tradeoffPoints(runs, { sha256, loadId, sizeBytes, metrics }, axis), [runs, sha256, loadId, sizeBytes, metrics, axis]);
}

export function TradeoffView() {
  const [axis, setAxis] = useState<TradeoffAxis>('bytes');
  // The reader's choice per axis; until they choose, log scale where it helps.
  const [logChoice, setLogChoice] = useState<Partial<Record<TradeoffAxis, boolean>>>({});
  const data = useTradeoffData(axis);
  const selectedId = useLab((s) => selectedRun(s)?.id);
  const logX = logChoice[axis] ?? defaultLogX(axis, data.points, data.dense);
  const note = sameXNote(axis, data);
  return (
    <div className="tradeoff-view" data-testid="tradeoff-view">
      <p className="muted">
        Every finished run of this model: {data.metricLabel.toLowerCase()} ({data.better} is better) against the measure chosen below. The dashed line is the Pareto frontier — the runs no other run beats on both. Click a point to open its run.
      </p>
      <div className="tradeoff-controls">
        <div className="field">
          <label className="field-label" htmlFor="tradeoff-axis">
            X axis
          </label>
          <select id="tradeoff-axis" data-testid="tradeoff-axis" value={axis} onChange={(e) => setAxis(e.target.value as TradeoffAxis)}>
            {AXES.map((a) => (
              <option key={a} value={a}>
                {AXIS_LABELS[a]}
              </option>
            ))}
          </select>
        </div>
        <label className="field check">
          <input type="checkbox" data-testid="tradeoff-logx" checked={logX} onChange={(e) => setLogChoice({ ...logChoice, [axis]: e.target.checked })} />
          Log scale (x)
        </label>
      </div>
      <TradeoffNotes axis={axis} data={data} note={note} />
      {data.points.length === 0 ? (
        <p className="muted" data-testid="tradeoff-empty">
          No finished run of this model{data.leftOut > 0 ? ' has a value on this axis' : ''} yet: run a recipe, or sweep one below.
        </p>
      ) : (
        <ChartOrTable
          className="tradeoff-chart-host"
          testId="tradeoff-chart"
          chart={(width) => {
            const height = Math.max(320, tradeoffLegendHeight(data.points) + 60);
            const options = { axis, metricLabel: data.metricLabel, better: data.better, logX, dense: data.dense, selectedId, onPick: selectRun };
            return <D3Chart render={(doc) => tradeoffChart(data.points, options, { width, height }, doc)} deps={[data, axis, logX, selectedId, width]} />;
          }}
          table={() => <TradeoffTable axis={axis} data={data} />}
        />
      )}
      <SweepPanel />
    </div>
  );
}

function TradeoffNotes({ axis, data, note }: { axis: TradeoffAxis; data: TradeoffPoints; note?: string }) {
  return (
    <>
      {data.leftOut > 0 && (
        <p className="notice" data-testid="tradeoff-left-out" data-count={data.leftOut}>
          {data.leftOut} finished {data.leftOut === 1 ? 'run has' : 'runs have'} no {axis === 'latency' ? 'measured latency' : 'inference time measured'} (not yet, made before the lab measured it, or it failed) and {data.leftOut === 1 ? 'is' : 'are'} left out.
        </p>
      )}
      {data.running > 0 && (
        <p className="muted" data-testid="tradeoff-running">
          {data.running} {data.running === 1 ? 'run is' : 'runs are'} still running: {data.running === 1 ? 'it joins' : 'they join'} the chart when finished.
        </p>
      )}
      {note && (
        <p className="muted" data-testid="tradeoff-note">
          {note}
        </p>
      )}
    </>
  );
}

/** The chart's data-table alternative: one row per run by ascending x, the dense model first. */
function TradeoffTable({ axis, data }: { axis: TradeoffAxis; data: TradeoffPoints }) {
  const onFront = new Set(paretoFront(data.points, data.better).map((i) => data.points[i].id));
  const rows = [...data.points].sort((a, b) => a.x - b.x);
  return (
    <ScrollRegion label="Runs by size and metric" className="chart-table-scroll">
      <table className="chart-table" data-testid="tradeoff-table">
        <caption className="visually-hidden">
          {data.metricLabel} against {AXIS_LABELS[axis]} per run
        </caption>
        <thead>
          <tr>
            <th scope="col">run</th>
            <th scope="col">method</th>
            <th scope="col">stages</th>
            <th scope="col" className="num">
              {AXIS_LABELS[axis]}
            </th>
            <th scope="col" className="num">
              {data.metricLabel}
            </th>
            <th scope="col">frontier</th>
          </tr>
        </thead>
        <tbody>
          {data.dense && (
            <tr data-run="dense">
              <th scope="row">dense model</th>
              <td>—</td>
              <td>—</td>
              <td className="num">{axisText(axis, data.dense.x)}</td>
              <td className="num">{data.dense.y.toPrecision(4)}</td>
              <td />
            </tr>
          )}
          {rows.map((p) => (
            <tr key={p.id} data-run={p.id} data-x={p.x} data-y={p.y}>
              <th scope="row">
                <button type="button" className="link" onClick={() => selectRun(p.id)}>
                  {p.label}
                </button>
              </th>
              <td>{p.method}</td>
              <td>{p.stages}</td>
              <td className="num">{axisText(axis, p.x)}</td>
              <td className="num">{p.y.toPrecision(4)}</td>
              <td>{onFront.has(p.id) ? 'on the frontier' : ''}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </ScrollRegion>
  );
}
