import { useEffect, useState } from 'react';
import { useLab } from '../store';
import type { SparsityPattern } from '../../core/prune';
import type { LayerWeights } from '../../../workers/protocol';
import { clampWindow, maskChart } from '../charts/maskChart';
import '../charts/charts.css';
import { D3Chart } from './D3Chart';
import { useElementWidth } from './useElementWidth';

export interface MaskViewProps {
  /** A new run fetches the picked layer again. */
  runId: string;
  layers: { id: string; name: string; shape: [number, number] }[];
  pattern: SparsityPattern;
  fetchWeights: (layerId: string) => Promise<LayerWeights>;
}

/** Weights per side of the detail window: one square each. */
const windowRows = 32;
const windowCols = 64;
const chartHeight = 330;
const minChartWidth = 480;

type Origin = { row: number; col: number };

/**
 * One layer's keep mask and |w|: a layer picker, the window's row and column, and the chart, whose
 * overview can be dragged (or moved with the arrow keys) to move the window. The chart moves its
 * own window and reports it; only `origin` (the fields) follows, so the chart is not redrawn
 * mid-drag. A typed row or column sets `drawnOrigin` too, which redraws it there.
 */
export function MaskView({ runId, layers, pattern, fetchWeights }: MaskViewProps) {
  const [host, width] = useElementWidth<HTMLDivElement>();
  // The picked layer lives in the store, so a share link can carry it and set it.
  const pickedId = useLab((s) => s.viewLayer);
  const setPickedId = (id: string) => useLab.setState({ viewLayer: id });
  const layer = layers.find((l) => l.id === pickedId) ?? layers[0];
  const [loaded, setLoaded] = useState<{ layerId: string; weights: LayerWeights }>();
  const [error, setError] = useState<string>();
  const [origin, setOrigin] = useState<Origin>({ row: 0, col: 0 });
  const [drawnOrigin, setDrawnOrigin] = useState<Origin>({ row: 0, col: 0 });

  useEffect(() => {
    if (!layer) return;
    // A stale answer (another layer or run picked meanwhile) is dropped.
    let current = true;
    setError(undefined);
    setOrigin({ row: 0, col: 0 });
    setDrawnOrigin({ row: 0, col: 0 });
    fetchWeights(layer.id).then(
      (weights) => current && setLoaded({ layerId: layer.id, weights }),
      (e: Error) => current && setError(e.message),
    );
    return () => void (current = false);
  }, [runId, layer?.id, fetchWeights]);

  if (!layer) return null;
  const weights = loaded?.layerId === layer.id ? loaded.weights : undefined;
  const groupCols = pattern.kind === 'unstructured' ? undefined : pattern.kind === 'block' ? pattern.cols : pattern.m;
  const groupRows = pattern.kind === 'vnm' ? pattern.v : pattern.kind === 'block' ? pattern.rows : undefined;
  const [rows, cols] = layer.shape;
  const clamped = (o: Origin) => clampWindow({ rows, cols }, { ...o, rows: windowRows, cols: windowCols });
  const typed = (o: Origin) => {
    const { row, col } = clamped(o);
    setOrigin({ row, col });
    setDrawnOrigin({ row, col });
  };
  const shown = clamped(origin);
  const chartWidth = Math.max(minChartWidth, width ?? 0);

  return (
    <div className="mask-view" data-testid="mask-view" ref={host}>
      <div className="fields">
        <label className="field">
          Weight matrix
          <select aria-label="Mask layer" value={layer.id} onChange={(e) => setPickedId(e.target.value)}>
            {layers.map((l) => (
              <option key={l.id} value={l.id}>
                {l.name} ({l.shape[0]} × {l.shape[1]})
              </option>
            ))}
          </select>
        </label>
        <label className="field">
          Window row
          <input type="number" min={0} max={rows - shown.rows} step={groupRows ?? 8} value={shown.row} onChange={(e) => typed({ ...origin, row: Number(e.target.value) || 0 })} />
        </label>
        <label className="field">
          Window column
          <input type="number" min={0} max={cols - shown.cols} step={groupCols ?? 8} value={shown.col} onChange={(e) => typed({ ...origin, col: Number(e.target.value) || 0 })} />
        </label>
      </div>
      <p className="muted chart-hint">Drag on the overview to move the window, or focus the overview and use the arrow keys (with Shift, a whole window).</p>
      {error && <p className="error">{error}</p>}
      {weights?.storage === 'packed' && (
        <p className="muted" data-testid="mask-packed-note">
          Stored packed (MatMulNBits, quantized): the mask is read from the file’s codes — a weight is zero where its code equals its block’s zero point — and |w| is the dequantized weight.
        </p>
      )}
      {weights && width !== undefined && (
        <D3Chart
          render={(doc) =>
            maskChart(
              { rows: weights.rows, cols: weights.cols, keep: weights.data, magnitude: weights.magnitude, window: { ...drawnOrigin, rows: windowRows, cols: windowCols }, groupCols, groupRows },
              { width: chartWidth, height: chartHeight },
              doc,
              { onWindowChange: (row, col) => setOrigin({ row, col }) },
            )
          }
          deps={[weights, drawnOrigin, chartWidth, groupCols, groupRows]}
        />
      )}
    </div>
  );
}
