import { useLab } from '../store';
import { useEffect, useMemo, useState } from 'react';
import type { LayerQuantInspection, QuantScope } from '../../core/compress';
import type { MxFormat } from '../../core/quant/mx';
import { binCountFor, formatWeight, histogramBins, weightHistogram } from '../charts/weightHistogram';
import '../charts/charts.css';
import { ChartOrTable } from './ChartOrTable';
import { D3Chart } from './D3Chart';
import { ScrollRegion } from './ScrollRegion';

export interface QuantLayerChoice {
  id: string;
  name: string;
  shape: [number, number];
  method: string;
  mxFormat?: MxFormat;
  export: 'packed' | 'simulated';
  /** A prune stage changed the layer before it was quantized: the quantizer saw its pruned weights, not the dense ones shown. */
  prunedFirst?: boolean;
}

export interface QuantHistogramViewProps {
  /** A new run fetches the picked layer again. */
  runId: string;
  layers: QuantLayerChoice[];
  fetchLayer: (layer: QuantLayerChoice, scope: QuantScope) => Promise<LayerQuantInspection>;
}

const chartHeight = 240;
/** Levels listed one by one up to this many; beyond, their count and range. */
const LISTED_LEVELS = 16;

/** The sentence under the chart: what the grid is, where it came from, what was clipped. */
export function describeInspection(view: LayerQuantInspection): string {
  const where = view.scope.kind === 'group' ? `row ${view.scope.row}, ${view.grid.kind === 'mx' ? 'block' : 'group'} ${view.scope.group}` : 'the whole layer';
  const parts = [`${view.dense.length} weights of ${where}.`];
  if (view.grid.kind === 'int') parts.push(`${view.grid.bits}-bit ${view.grid.symmetric ? 'symmetric' : 'asymmetric'} grid, ${view.grid.actOrder ? 'act-order groups (g_idx)' : `groups of ${view.grid.groupSize}`}, packed (MatMulNBits).`);
  if (view.grid.kind === 'mx') parts.push(`${view.grid.format.toUpperCase()}: blocks of 32 sharing a power-of-two scale; stored SIMULATED (dequantized floats).`);
  if (view.params && 'scale' in view.params) parts.push(`Scale ${formatWeight(view.params.scale)}, zero point ${view.params.zeroPoint}.`);
  if (view.params && 'exponent' in view.params) parts.push(`Block scale 2^${view.params.exponent}.`);
  if (view.levels) {
    const levels = [...view.levels];
    parts.push(levels.length <= LISTED_LEVELS ? `Levels: ${levels.map(formatWeight).join(', ')}.` : `${levels.length} levels from ${formatWeight(levels[0])} to ${formatWeight(levels[levels.length - 1])}.`);
  }
  if (view.clipped) {
    const n = view.clipped.below + view.clipped.above;
    parts.push(`Clipped: ${n} of ${view.dense.length} dense weights (${view.clipped.below} below, ${view.clipped.above} above ${view.scope.kind === 'layer' ? 'their group’s' : 'the'} grid).`);
  }
  parts.push(`Source: ${view.source}.`);
  if (view.scope.kind === 'layer' && view.grid.kind !== 'none') parts.push('Each group has its own grid: pick a group to see its levels.');
  return parts.join(' ');
}

/**
 * A quantized layer's weight histogram: pick a layer and a group (or the whole layer); the worker
 * returns the dense weights, the stored values and the grid read from the run's file.
 */
export function QuantHistogramView({ runId, layers, fetchLayer }: QuantHistogramViewProps) {
  // The picked layer lives in the store, so a share link can carry it and set it.
  const pickedId = useLab((s) => s.viewLayer);
  const setPickedId = (id: string) => useLab.setState({ viewLayer: id });
  const layer = layers.find((l) => l.id === pickedId) ?? layers[0];
  const [wholeLayer, setWholeLayer] = useState(false);
  const [row, setRow] = useState(0);
  const [group, setGroup] = useState(0);
  const [showStored, setShowStored] = useState(true);
  const [loaded, setLoaded] = useState<{ key: string; view: LayerQuantInspection }>();
  const [error, setError] = useState<string>();
  const scope: QuantScope = wholeLayer ? { kind: 'layer' } : { kind: 'group', row, group };
  const key = `${runId}|${layer?.id}|${JSON.stringify(scope)}`;

  useEffect(() => {
    if (!layer) return;
    // A stale answer (another layer, group or run picked meanwhile) is dropped.
    let current = true;
    setError(undefined);
    fetchLayer(layer, scope).then(
      (view) => current && setLoaded({ key, view }),
      (e: Error) => current && setError(e.message),
    );
    return () => void (current = false);
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [key, fetchLayer]);

  const pick = (id: string) => {
    setPickedId(id);
    setRow(0);
    setGroup(0);
  };
  const view = loaded?.key === key ? loaded.view : undefined;
  const data = useMemo(() => view && { dense: view.dense, quantized: showStored ? view.quantized : null, levels: view.levels }, [view, showStored]);
  if (!layer) return null;
  const groups = view ? (view.grid.kind === 'none' ? 1 : view.grid.groups) : 1;

  return (
    <div className="quant-histogram" data-testid="quant-histogram">
      <div className="fields">
        <label className="field">
          Layer
          <select aria-label="Histogram layer" value={layer.id} onChange={(e) => pick(e.target.value)}>
            {layers.map((l) => (
              <option key={l.id} value={l.id}>
                {l.name} ({l.shape[0]} × {l.shape[1]}, {l.export === 'packed' ? 'packed' : 'SIMULATED'})
              </option>
            ))}
          </select>
        </label>
        <label className="field check">
          <input type="checkbox" checked={wholeLayer} onChange={(e) => setWholeLayer(e.target.checked)} />
          Whole layer
        </label>
        <label className="field">
          Row
          <input type="number" aria-label="Histogram row" min={0} max={layer.shape[0] - 1} disabled={wholeLayer} value={row} onChange={(e) => setRow(Math.max(0, Math.min(layer.shape[0] - 1, Number(e.target.value) || 0)))} />
        </label>
        <label className="field">
          Group
          <input type="number" aria-label="Histogram group" min={0} max={groups - 1} disabled={wholeLayer || groups === 1} value={Math.min(group, groups - 1)} onChange={(e) => setGroup(Math.max(0, Math.min(groups - 1, Number(e.target.value) || 0)))} />
        </label>
        <label className="field check">
          <input type="checkbox" checked={showStored} onChange={(e) => setShowStored(e.target.checked)} />
          Show stored values
        </label>
      </div>
      {error && <p className="error">{error}</p>}
      {view && data && (
        <>
          <p className="muted" data-testid="quant-histogram-caption">
            {describeInspection(view)}
            {layer.prunedFirst && ' A prune stage ran first: the quantizer saw the pruned weights (zeros stay zero), the dense weights are shown.'}
          </p>
          <ChartOrTable
            className="quant-histogram-chart"
            testId="quant-histogram-chart"
            chart={(width) => <D3Chart render={(doc) => weightHistogram(data, { width, height: chartHeight }, doc)} deps={[data, width]} />}
            table={() => <HistogramTable view={view} showStored={showStored} />}
          />
        </>
      )}
    </div>
  );
}

function HistogramTable({ view, showStored }: { view: LayerQuantInspection; showStored: boolean }) {
  const bins = histogramBins({ dense: view.dense, quantized: view.quantized, levels: view.levels }, binCountFor(view.dense.length));
  return (
    <ScrollRegion label="Weight histogram" className="chart-table-scroll">
      <table className="chart-table" data-testid="quant-histogram-table">
        <caption className="visually-hidden">Weight histogram: dense weights and stored values per bin</caption>
        <thead>
          <tr>
            <th scope="col">from</th>
            <th scope="col">to</th>
            <th scope="col" className="num">
              dense weights
            </th>
            {showStored && (
              <th scope="col" className="num">
                stored values
              </th>
            )}
          </tr>
        </thead>
        <tbody>
          {bins.map((b) => (
            <tr key={b.x0}>
              <th scope="row">{formatWeight(b.x0)}</th>
              <td>{formatWeight(b.x1)}</td>
              <td className="num">{b.dense}</td>
              {showStored && <td className="num">{b.quantized}</td>}
            </tr>
          ))}
        </tbody>
      </table>
    </ScrollRegion>
  );
}
