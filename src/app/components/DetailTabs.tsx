// Secondary detail, one tab at a time: the run's overview and layers, the masks, trying the
// models out, their attention maps, and the model's provenance.
import { isPruneStage } from '../../core/recipe';
import { isQuantizeStage } from '../../core/recipe/stages/quantize';
import type { CompressReport } from '../../core/compress/report';
import { isAttentionStageReport } from '../../core/compress/attentionStage';
import { runLayerMask, runQuantLayer } from '../runController';
import { seconds } from '../format';
import { selectedRun, useLab, type RunRecord } from '../store';
import { AttentionPanel, LayerTable } from './LayerTable';
import { AttentionTab } from './AttentionTab';
import { HeadSearchView } from './HeadSearchView';
import { ModelCardPanel } from './ModelCardPanel';
import { RunLayers } from './RunLayers';
import { MaskView } from './MaskView';
import { MixedWidths } from './MixedWidths';
import { QuantView } from './QuantView';
import { QuantHistogramView, type QuantLayerChoice } from './QuantHistogramView';
import { SparsityView } from './SparsityView';
import { SparseSpeedPanel } from './SparseSpeedPanel';
import { Tabs, type TabSpec } from './Tabs';
import { TradeoffView } from './TradeoffView';
import { TryIt } from './TryIt';

/** Where the calibration statistics accumulated, and which: Σx² always, H only for methods that need it. */
function statisticsWhere(run: RunRecord): string {
  const use = run.report?.backends.hessian;
  if (!use) return '';
  const which = run.report!.layers.some((l) => l.relativeErrorBasis === 'hessian') ? 'Σx² and Hessians' : 'Σx²';
  if (use.ran === 'webgpu') return `; statistics (${which}) on WebGPU`;
  return `; statistics (${which}) on the CPU${use.fallbackReason ? ` (${use.requested === 'webgpu' ? 'WebGPU requested: ' : ''}${use.fallbackReason})` : ''}`;
}

function RunOverview({ run }: { run: RunRecord }) {
  const report = run.report;
  if (!report) return <p className="muted">Run {run.number} has no report{run.status === 'running' ? ' yet' : ''}.</p>;
  const c = report.calibration;
  // The head search belongs with the run's outcome, shown only for runs that had an attention stage.
  const headSearch = report.stages.find(isAttentionStageReport);
  return (
    <div>
      {report.layers.length === 0 ? (
        <p className="muted">No layer was pruned in run {run.number}.</p>
      ) : (
        <>
      <h3>Sparsity per layer</h3>
      <SparsityView layers={report.layers.map((l) => ({ id: l.id, name: l.name, block: l.block, role: l.role, target: l.targetSparsity, achieved: l.achievedSparsity }))} />
        </>
      )}
      {report.quantized.length > 0 && (
        <p data-testid="quant-summary">
          Quantized {report.quantized.length} layers: {report.quantized.every((q) => q.format === report.quantized[0].format) ? report.quantized[0].format : 'widths per layer (below)'}, {(report.quantized.reduce((sum, q) => sum + q.bitsPerWeight * q.shape[0] * q.shape[1], 0) / report.quantized.reduce((sum, q) => sum + q.shape[0] * q.shape[1], 0)).toFixed(2)} bits per weight on average (analytic); {report.totals.packedLayers} stored packed, {report.totals.simulatedLayers} simulated. Per layer in the Layers tab.
        </p>
      )}
      <QuantView report={report} denseBytes={run.dense.sizeBytes} />
      <MixedWidths report={report} />
      {headSearch && <HeadSearchView report={headSearch} />}
      <p className="muted" data-testid="calibration-summary">
        {c ? `Calibration: ${c.samples} samples, seed ${c.seed}, ${c.mode}, ${seconds(c.ms)}${report.backends.calibrationInference ? ` on ${report.backends.calibrationInference}` : ''}${statisticsWhere(run)}.` : headSearch ? 'No calibration statistics (the head search scores calibration samples itself).' : 'No calibration (magnitude needs no data).'} Whole run {seconds(report.timings.totalMs)}. Weights SHA-256{' '}
        <code data-testid="weights-sha" title={report.weightsSha256}>
          {report.weightsSha256.slice(0, 16)}…
        </code>
      </p>
      {report.notes.length > 0 && (
        <ul className="warnings">
          {report.notes.map((n) => (
            <li key={n}>{n}</li>
          ))}
        </ul>
      )}
    </div>
  );
}

function RunMasks({ run }: { run: RunRecord }) {
  const report = run.report;
  if (!report) return <p className="muted">Run {run.number} has no pruned layers{run.status === 'running' ? ' yet' : ''}.</p>;
  if (!run.held) return <p className="muted">The worker no longer holds run {run.number}’s weights (it keeps the last few runs); run it again to see its masks.</p>;
  const stage = report.recipe.stages[report.layers[0]?.stage ?? -1];
  if (!stage || !isPruneStage(stage)) return <p className="muted">Run {run.number} pruned no layer.</p>;
  return <MaskView key={run.id} runId={run.id} layers={report.layers.map((l) => ({ id: l.id, name: l.name, shape: l.shape }))} pattern={stage.pattern} fetchWeights={(layerId) => runLayerMask(run.id, layerId)} />;
}

/** The latest row per quantized layer, with what the histogram request needs from its stage. */
export function quantLayerChoices(report: CompressReport): QuantLayerChoice[] {
  const rows = [...new Map(report.quantized.map((q) => [q.id, q])).values()];
  const pruned = new Set(report.layers.map((l) => l.id));
  return rows.map((q) => {
    const stage = report.recipe.stages[q.stage];
    const mxFormat = stage && isQuantizeStage(stage) && q.method === 'mx' ? stage.mxFormat : undefined;
    return { id: q.id, name: q.name, shape: q.shape, method: q.method, export: q.export, prunedFirst: pruned.has(q.id), ...(mxFormat ? { mxFormat } : {}) };
  });
}

function RunQuantization({ run }: { run: RunRecord }) {
  const report = run.report;
  if (!report || report.quantized.length === 0) return <p className="muted">Run {run.number} quantized no layer{run.status === 'running' ? ' yet' : ''}.</p>;
  if (!run.held) return <p className="muted">The worker no longer holds run {run.number}’s weights (it keeps the last few runs); run it again to see its weight histograms.</p>;
  return <QuantHistogramView key={run.id} runId={run.id} layers={quantLayerChoices(report)} fetchLayer={(layer, scope) => runQuantLayer(run.id, layer, scope)} />;
}

export function DetailTabs() {
  const run = useLab(selectedRun);
  const tab = useLab((s) => s.detailTab);
  const tabs: TabSpec[] = [
    { id: 'overview', label: 'Overview', content: () => (run ? <RunOverview run={run} /> : <p className="muted">Run a recipe to see its sparsity per layer here.</p>) },
    { id: 'masks', label: 'Masks', content: () => (run ? <RunMasks run={run} /> : <p className="muted">Run a recipe to see which weights it kept.</p>) },
    { id: 'quant', label: 'Quantization', content: () => (run ? <RunQuantization run={run} /> : <p className="muted">Run a recipe with a quantize stage to see a layer’s weights against its grid.</p>) },
    { id: 'layers', label: 'Layers', content: () => (run?.report ? <RunLayers report={run.report} /> : <LayerTable />) },
    { id: 'tradeoff', label: 'Trade-off', content: () => <TradeoffView /> },
    { id: 'sparse-speed', label: 'Sparse speed', content: () => <SparseSpeedPanel /> },
    { id: 'try', label: 'Try it', content: () => <TryIt /> },
    { id: 'attention', label: 'Attention', content: () => <AttentionTab /> },
    {
      id: 'model',
      label: 'Model',
      content: () => (
        <div className="model-tab">
          <ModelCardPanel />
          <AttentionPanel />
          <LayerTable />
        </div>
      ),
    },
  ];
  return (
    <section className="panel detail" aria-label="Details">
      <Tabs tabs={tabs} selected={tab} onSelect={(id) => useLab.setState({ detailTab: id })} label="Details" />
    </section>
  );
}
