import { formatBytes, formatCount } from '../../core/report/format';
import { metricRows } from '../../core/report/metricRows';
import { trainingCurveChart } from '../charts/trainingCurve';
import { useLab } from '../store';
import { D3Chart } from './D3Chart';

export function ModelCardPanel() {
  const { card, analysis, sizeBytes, externalFiles, source, status, parseMs } = useLab((s) => s.model);
  const metrics = useLab((s) => s.evaluation.metrics);
  if (!analysis) return <section className="panel">{status === 'loading' ? 'Loading model…' : 'No model loaded.'}</section>;
  const curve = card?.training?.curve ?? [];
  return (
    <section className="panel" aria-labelledby="card-title" data-testid="model-card">
      <h2 id="card-title">{card ? card.name : source?.kind === 'file' ? source.name : 'Model'}</h2>
      {card?.description && <p className="muted">{card.description}</p>}
      <dl className="kv">
        <dt>Source</dt>
        <dd>{source?.kind === 'bundled' ? `bundled model ${source.id}` : `your file ${source?.kind === 'file' ? source.name : ''} (no model card)`}</dd>
        <dt>Task</dt>
        <dd title={analysis.taskReason}>{card?.task ?? analysis.task}</dd>
        <dt>Parameters</dt>
        <dd>{formatCount(analysis.totalParams)}</dd>
        <dt>File size</dt>
        <dd data-testid="model-size">
          {sizeBytes !== undefined ? `${formatBytes(sizeBytes)} — measured` : '—'}
          {externalFiles && externalFiles.length > 0 && ` (with external data: ${externalFiles.join(', ')})`}
        </dd>
        <dt>Opsets</dt>
        <dd>{analysis.opsetImports.map((o) => `${o.domain || 'ai.onnx'} ${o.version}`).join(', ')}</dd>
        {parseMs !== undefined && (
          <>
            <dt>Parsed in</dt>
            <dd>{parseMs.toFixed(1)} ms (in the worker)</dd>
          </>
        )}
        {card?.data?.source && (
          <>
            <dt>Data</dt>
            <dd>
              {card.data.source}
              {card.data.licence && ` — ${card.data.licence}`}
            </dd>
          </>
        )}
        {card?.training?.command && (
          <>
            <dt>Trained with</dt>
            <dd>
              <code>{card.training.command}</code>
              {card.training.stopReason && ` — stopped: ${card.training.stopReason}`}
            </dd>
          </>
        )}
      </dl>
      {card && metrics && (
        <table className="metric-table" data-testid="card-metrics">
          <caption className="muted">The card's numbers, computed by the training script in PyTorch, beside this page's (ONNX Runtime)</caption>
          <thead>
            <tr>
              <th scope="col">Metric</th>
              <th scope="col">this page</th>
              <th scope="col">model card</th>
            </tr>
          </thead>
          <tbody>
            {metricRows(metrics, card.denseMetrics).map((row) => (
              <tr key={row.key}>
                <th scope="row">{row.label}</th>
                <td>{row.text}</td>
                <td>{row.referenceText ?? '—'}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {curve.length > 1 && <D3Chart render={(doc) => trainingCurveChart(curve, { width: 420, height: 160 }, doc)} deps={[curve]} />}
    </section>
  );
}
