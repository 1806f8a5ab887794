// Secondary detail, one tab at a time: the run's overview and layers, the masks, trying the
// models out, and the model's provenance.
import { useState } from 'react';
import { sparsityChart } from '../charts/sparsityChart';
import { seconds } from '../format';
import { selectedRun, useLab, type RunRecord } from '../store';
import { AttentionPanel, LayerTable } from './LayerTable';
import { ModelCardPanel } from './ModelCardPanel';
import { RunLayers } from './RunLayers';
import { D3Chart } from './D3Chart';
import { Tabs, type TabSpec } from './Tabs';
import { TryIt } from './TryIt';

function hessiansWhere(run: RunRecord): string {
  const use = run.report?.backends.hessian;
  if (!use) return '';
  if (use.ran === 'webgpu') return '; statistics (Hessians) on WebGPU';
  return `; statistics (Hessians) on the CPU${use.fallbackReason ? ` (${use.requested === 'webgpu' ? 'WebGPU requested: ' : ''}${use.fallbackReason})` : ''}`;
}

function RunOverview({ run }: { run: RunRecord }) {
  const report = run.report;
  if (!report) return <p className="muted">Run {run.number} has no report{run.status === 'running' ? ' yet' : ''}.</p>;
  const c = report.calibration;
  return (
    <div>
      <h3>Sparsity per layer</h3>
      <D3Chart
        render={(doc) => sparsityChart(report.layers.map((l) => ({ id: l.id, name: l.name, block: l.block, role: l.role, target: l.targetSparsity, achieved: l.achievedSparsity })), { width: 640, height: 220 }, doc)}
        deps={[report]}
      />
      <p className="muted" data-testid="calibration-summary">
        {c ? `Calibration: ${c.samples} samples, seed ${c.seed}, ${c.mode}, ${seconds(c.ms)}${report.backends.calibrationInference ? ` on ${report.backends.calibrationInference}` : ''}${hessiansWhere(run)}.` : 'No calibration (magnitude needs no data).'} Whole run {seconds(report.timings.totalMs)}. Weights SHA-256{' '}
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

export function DetailTabs() {
  const run = useLab(selectedRun);
  const [tab, setTab] = useState('overview');
  const tabs: TabSpec[] = [
    { id: 'overview', label: 'Overview', content: () => (run ? <RunOverview run={run} /> : <p className="muted">Run a recipe to see its sparsity per layer here.</p>) },
    { id: 'layers', label: 'Layers', content: () => (run?.report ? <RunLayers report={run.report} /> : <LayerTable />) },
    { id: 'try', label: 'Try it', content: () => <TryIt /> },
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
      <Tabs tabs={tabs} selected={tab} onSelect={setTab} label="Details" />
    </section>
  );
}
