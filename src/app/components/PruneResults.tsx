import { useEffect, useState } from 'react';
import { metricRows } from '../../core/report/metricRows';
import { formatBytes } from '../../core/report/format';
import type { CompressReport } from '../../core/compress';
import { describeBackendUse, type BackendUse } from '../../core/job';
import type { KeepMask } from '../../core/prune';
import { isPruneStage } from '../../core/recipe';
import { maskChart } from '../charts/maskChart';
import { sparsityChart } from '../charts/sparsityChart';
import { prunedMask, prunedModelUrl } from '../pruneController';
import { useLab } from '../store';
import { D3Chart } from './D3Chart';

const pct = (v: number) => `${(v * 100).toFixed(2)} %`;

/** Where the calibration statistics accumulated: "Hessians on WebGPU", "Hessians on the CPU (WebGPU requested: why)". */
function hessiansWhere(use: BackendUse | undefined): string {
  if (use === undefined) return '';
  if (use.ran === 'webgpu') return ', Hessians on WebGPU';
  if (use.fallbackReason === undefined) return ', Hessians on the CPU';
  return `, Hessians on the CPU (${use.requested === 'webgpu' ? 'WebGPU requested: ' : ''}${use.fallbackReason})`;
}

/** The first layer job that asked for WebGPU and ran on the CPU, with its reason. */
function layerFallback(report: CompressReport): string | undefined {
  const row = report.layers.find((l) => l.backend.requested === 'webgpu' && l.backend.ran === 'cpu');
  return row && `${row.backend.fallbackReason ?? 'no reason given'} (${report.backends.layerFallbacks} of ${report.layers.length} layers)`;
}

function LayerProgress() {
  const run = useLab((s) => s.pruneRun);
  const analysis = useLab((s) => s.model.analysis);
  const done = new Set(run.layersDone);
  const layers = analysis?.linears.filter((l) => l.role !== 'head' && l.role !== 'embed') ?? [];
  return (
    <div data-testid="prune-progress">
      {run.progress && (
        <div className="progress">
          <progress value={run.progress.done} max={run.progress.total} />
          <span>
            {run.progress.phase}: {run.progress.label} {run.progress.done}/{run.progress.total}
          </span>
        </div>
      )}
      <div className="layer-chips">
        {layers.map((l) => (
          <span key={l.id} className={`chip ${done.has(l.id) ? 'done' : ''}`} title={l.name}>
            {l.name.replace(/^blocks\./, '')}
          </span>
        ))}
      </div>
    </div>
  );
}

function Comparison({ report }: { report: CompressReport }) {
  const dense = useLab((s) => s.evaluation);
  const pruned = useLab((s) => s.pruneRun.evaluation);
  const denseBytes = useLab((s) => s.model.sizeBytes);
  const t = report.totals;
  const prunedRows = pruned?.metrics ? metricRows(pruned.metrics) : [];
  return (
    <table className="metric-table" data-testid="prune-comparison">
      <thead>
        <tr>
          <th />
          <th>dense</th>
          <th>pruned</th>
        </tr>
      </thead>
      <tbody>
        {dense.metrics &&
          metricRows(dense.metrics).map((row) => (
            <tr key={row.key} data-metric={row.key} data-value={prunedRows.find((r) => r.key === row.key)?.value}>
              <th>{row.label}</th>
              <td>{row.text}</td>
              <td>{pruned?.status === 'running' ? 'evaluating…' : (prunedRows.find((r) => r.key === row.key)?.text ?? '—')}</td>
            </tr>
          ))}
        <tr>
          <th>Sparsity of pruned layers</th>
          <td>{pct(0)}</td>
          <td data-testid="achieved-sparsity">{pct(t.achievedSparsityPruned)}</td>
        </tr>
        <tr>
          <th>File size (measured, dense storage)</th>
          <td>{denseBytes !== undefined ? formatBytes(denseBytes) : '—'}</td>
          <td>{formatBytes(t.denseFileBytes)}</td>
        </tr>
        <tr>
          <th>Sparse storage (estimate, not written)</th>
          <td>—</td>
          <td>{formatBytes(t.estimatedSparseFileBytes)}</td>
        </tr>
      </tbody>
    </table>
  );
}

function MaskView({ report }: { report: CompressReport }) {
  const analysis = useLab((s) => s.model.analysis);
  const maskLayer = useLab((s) => s.maskLayer);
  const [origin, setOrigin] = useState({ row: 0, col: 0 });
  const layer = analysis?.linears.find((l) => l.id === maskLayer);
  const [mask, setMask] = useState<KeepMask>();
  useEffect(() => {
    // A stale answer (the user picked another layer meanwhile) is dropped.
    let current = true;
    setMask(undefined);
    if (layer) prunedMask(layer.id).then((m) => current && setMask(m), () => current && setMask(undefined));
    return () => void (current = false);
  }, [layer?.id, report]);
  const row = report.layers.find((l) => l.id === maskLayer);
  const pattern = row && report.recipe.stages[row.stage];
  if (!layer || !mask || !pattern || !isPruneStage(pattern)) return null;
  const window = { row: Math.min(origin.row, Math.max(0, mask.rows - 32)), col: Math.min(origin.col, Math.max(0, mask.cols - 64)), rows: 32, cols: 64 };
  return (
    <div className="mask-view" data-testid="mask-view">
      <div className="fields">
        <label className="field">
          Weight matrix
          <select aria-label="Mask layer" value={layer.id} onChange={(e) => useLab.setState({ maskLayer: e.target.value })}>
            {report.layers.map((l) => (
              <option key={l.id} value={l.id}>
                {l.name} ({l.shape[0]} × {l.shape[1]})
              </option>
            ))}
          </select>
        </label>
        <label className="field">
          Window row
          <input type="number" min={0} step={32} value={window.row} onChange={(e) => setOrigin({ ...origin, row: Number(e.target.value) || 0 })} />
        </label>
        <label className="field">
          Window column
          <input type="number" min={0} step={64} value={window.col} onChange={(e) => setOrigin({ ...origin, col: Number(e.target.value) || 0 })} />
        </label>
      </div>
      <D3Chart
        render={(doc) =>
          maskChart(
            { rows: mask.rows, cols: mask.cols, keep: mask.data, window, groupCols: pattern.pattern.kind === 'unstructured' ? undefined : pattern.pattern.m, groupRows: pattern.pattern.kind === 'vnm' ? pattern.pattern.v : undefined },
            { width: 900, height: 240 },
            doc,
          )
        }
        deps={[mask, window.row, window.col]}
      />
    </div>
  );
}

export function PruneResults() {
  const run = useLab((s) => s.pruneRun);
  if (run.status === 'idle') return null;
  const report = run.report;
  const fallback = report && layerFallback(report);
  return (
    <section className="panel wide" aria-labelledby="prune-title">
      <h2 id="prune-title">Pruning run {report && <span className="muted">— {report.summary}</span>}</h2>
      {run.status === 'running' && <LayerProgress />}
      {run.message && (
        <p className={run.status === 'error' ? 'error' : 'notice'} data-testid="prune-message">
          {run.message}
        </p>
      )}
      {fallback && (
        <p className="notice" data-testid="prune-fallback">
          Layer jobs asked for WebGPU but ran on the CPU: {fallback}
        </p>
      )}
      {report && (
        <>
          <div className="two-col">
            <Comparison report={report} />
            <div>
              <h3>Sparsity per layer (target outline, achieved filled)</h3>
              <D3Chart
                render={(doc) => sparsityChart(report.layers.map((l) => ({ id: l.id, name: l.name, block: l.block, role: l.role, target: l.targetSparsity, achieved: l.achievedSparsity })), { width: 560, height: 220 }, doc)}
                deps={[report]}
              />
            </div>
          </div>
          <p className="muted" data-testid="calibration-summary">
            Calibration: {report.calibration ? `${report.calibration.samples} samples, seed ${report.calibration.seed}, ${report.calibration.mode}, ${(report.calibration.ms / 1000).toFixed(2)} s${report.backends.calibrationInference ? ` on ${report.backends.calibrationInference}` : ''}${hessiansWhere(report.backends.hessian)}` : 'none (magnitude)'} · total {(report.timings.totalMs / 1000).toFixed(2)} s · weights SHA-256{' '}
            <code data-testid="weights-sha">{report.weightsSha256.slice(0, 16)}…</code>{' '}
            <a href={prunedModelUrl()} download="pruned.onnx" data-testid="download-pruned">
              Download pruned ONNX
            </a>
          </p>
          <MaskView report={report} />
          <div className="table-scroll">
            <table data-testid="prune-layers">
              <thead>
                <tr>
                  <th>layer</th>
                  <th>pattern</th>
                  <th className="num">target</th>
                  <th className="num">achieved</th>
                  <th className="num">rel. error ‖WX−ŴX‖/‖WX‖</th>
                  <th className="num">ms</th>
                  <th>backend</th>
                  <th>check</th>
                </tr>
              </thead>
              <tbody>
                {report.layers.map((l) => (
                  <tr key={l.id} data-layer={l.id} data-achieved={l.achievedSparsity}>
                    <td>{l.name}</td>
                    <td>{l.pattern}</td>
                    <td className="num">{pct(l.targetSparsity)}</td>
                    <td className="num">{pct(l.achievedSparsity)}</td>
                    <td className="num">{l.relativeError === null ? '—' : l.relativeError.toFixed(4)}</td>
                    <td className="num">{l.ms.toFixed(1)}</td>
                    <td>{describeBackendUse(l.backend)}</td>
                    <td title={l.patternCheck.violations.join('\n')}>{l.patternCheck.ok ? '✓' : '✗'}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        </>
      )}
    </section>
  );
}
