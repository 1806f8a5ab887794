import type { Progress } from '../../core/job';
import { metricRows } from '../../core/report/metricRows';
import { cancelEvaluation, runEvaluation } from '../controller';
import { useLab } from '../store';

function ProgressBar({ done, total, label }: Progress) {
  return (
    <div className="progress" data-testid="eval-progress">
      <progress value={done} max={total} />
      <span>
        {label} {done}/{total}
      </span>
    </div>
  );
}

function BackendBadge() {
  const backend = useLab((s) => s.evaluation.backend);
  if (!backend) return null;
  return (
    <div className="backend" data-testid="backend-report">
      Ran on <strong data-testid="backend-used">{backend.used === 'webgpu' ? 'WebGPU' : 'WASM (CPU)'}</strong>
      {backend.requested !== backend.used && <> (requested: {backend.requested})</>}
      {backend.fallbackReason && (
        <div className="notice" data-testid="backend-fallback">
          WebGPU not used: {backend.fallbackReason}
        </div>
      )}
    </div>
  );
}

export function MetricsPanel() {
  const evaluation = useLab((s) => s.evaluation);
  const card = useLab((s) => s.model.card);
  const ready = useLab((s) => s.model.status === 'ready');
  const running = evaluation.status === 'running';
  const reference = card?.denseMetrics;
  return (
    <section className="panel metrics" aria-labelledby="metrics-title">
      <h2 id="metrics-title">Dense baseline</h2>
      {evaluation.datasetLabel && <p className="muted">on the {evaluation.datasetLabel}</p>}
      {running && evaluation.progress && <ProgressBar {...evaluation.progress} />}
      {evaluation.status === 'done' && evaluation.metrics && (
        <table className="metric-table" data-testid="metrics">
          <thead>
            <tr>
              <th />
              <th>this run (ONNX Runtime)</th>
              {reference && <th>model card (PyTorch)</th>}
            </tr>
          </thead>
          <tbody>
            {metricRows(evaluation.metrics, reference).map((row) => (
              <tr key={row.key} data-metric={row.key} data-value={row.value}>
                <th>{row.label}</th>
                <td>{row.text}</td>
                {reference && <td>{row.referenceText ?? '—'}</td>}
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {evaluation.status === 'done' && evaluation.evalMs !== undefined && <p className="muted">Evaluated in {(evaluation.evalMs / 1000).toFixed(2)} s.</p>}
      {(evaluation.status === 'error' || evaluation.status === 'unavailable' || evaluation.status === 'cancelled') && (
        <p className={evaluation.status === 'error' ? 'error' : 'notice'} data-testid="eval-message">
          {evaluation.message}
        </p>
      )}
      <BackendBadge />
      <div className="actions">
        {running ? (
          <button type="button" onClick={cancelEvaluation}>
            Cancel
          </button>
        ) : (
          <button type="button" disabled={!ready || evaluation.status === 'unavailable'} onClick={() => void runEvaluation()}>
            Evaluate again
          </button>
        )}
      </div>
    </section>
  );
}
