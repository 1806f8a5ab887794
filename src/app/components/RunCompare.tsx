// Two checked runs side by side: their measures and the difference (second − first), the recipe
// lines that differ, and the layers where the two results part most.
import { formatRelativeError } from '../../core/compress/report';
import { changeQuality } from '../glossary';
import { formatChange, formatMetricValue, percent, seconds, shortBytes } from '../format';
import { formatChangeLine, recipeDiff } from '../recipeDiff';
import { layerDifferences, measureRows, type LayerDifference, type LayerSide, type MeasureRow } from '../runCompare';
import type { RunRecord } from '../store';
import { ScrollRegion } from './ScrollRegion';

/** Layer rows shown: the largest differences; the rest are alike enough to leave out. */
const LAYER_ROWS = 40;

function formatMeasure(row: MeasureRow, v: number | undefined): string {
  if (v === undefined) return '—';
  if (row.kind === 'bytes') return shortBytes(v);
  if (row.kind === 'ms') return seconds(v);
  return formatMetricValue(v, row.kind);
}

function formatDifference(row: MeasureRow): string {
  if (row.a === undefined || row.b === undefined) return '—';
  const d = row.b - row.a;
  const sign = d > 0 ? '+' : d < 0 ? '−' : '±';
  if (row.kind === 'bytes') return `${sign}${shortBytes(Math.abs(d))}`;
  if (row.kind === 'ms') return `${sign}${seconds(Math.abs(d))}`;
  const { absolute, relative } = formatChange(row.a, row.b, row.kind);
  return `${absolute} (${relative})`;
}

function MeasureTable({ a, b }: { a: RunRecord; b: RunRecord }) {
  return (
    <table className="metric-table" data-testid="compare-measures">
      <thead>
        <tr>
          <th scope="col">Measure</th>
          <th scope="col">Run {a.number}</th>
          <th scope="col">Run {b.number}</th>
          <th scope="col">Run {b.number} − Run {a.number}</th>
        </tr>
      </thead>
      <tbody>
        {measureRows(a, b).map((row) => {
          const quality = row.a === undefined || row.b === undefined ? 0 : changeQuality(row.better, row.a, row.b);
          return (
            <tr key={row.key} data-measure={row.key} data-a={row.a} data-b={row.b}>
              <th scope="row">{row.label}</th>
              <td title={row.a === undefined ? undefined : String(row.a)}>{formatMeasure(row, row.a)}</td>
              <td title={row.b === undefined ? undefined : String(row.b)}>{formatMeasure(row, row.b)}</td>
              <td className={`change ${quality > 0 ? 'better' : quality < 0 ? 'worse' : 'unchanged'}`}>{formatDifference(row)}</td>
            </tr>
          );
        })}
      </tbody>
    </table>
  );
}

function RecipeLines({ a, b }: { a: RunRecord; b: RunRecord }) {
  const changes = recipeDiff(a.recipe, b.recipe);
  const sameModel = a.model.sha256 && a.model.sha256 === b.model.sha256;
  return (
    <>
      <h4>Recipe differences</h4>
      {!sameModel && (
        <p className="muted" data-testid="compare-models">
          Models: {a.model.label}
          {a.model.sha256 ? ` (${a.model.sha256.slice(0, 8)})` : ''} → {b.model.label}
          {b.model.sha256 ? ` (${b.model.sha256.slice(0, 8)})` : ''}
          {a.model.label === b.model.label ? ': same name, different file' : ''}
        </p>
      )}
      {changes.length === 0 ? (
        <p className="muted">The same recipe{sameModel ? ' on the same model' : ''}.</p>
      ) : (
        <ul className="recipe-diff" data-testid="recipe-diff">
          {changes.map((c) => (
            <li key={c.path}>
              <code>{formatChangeLine(c)}</code>
            </li>
          ))}
        </ul>
      )}
    </>
  );
}

const side = (v: number | null, as: (v: number) => string) => (v === null ? '—' : as(v));
const signed = (d: number | null, as: (v: number) => string) => (d === null ? '' : ` (${d > 0 ? '+' : d < 0 ? '−' : '±'}${as(Math.abs(d))})`);
const error = (v: number) => formatRelativeError({ relativeError: v, relativeErrorBasis: null });
const bits = (v: number) => v.toFixed(2);

type LayerColumn = keyof LayerSide;
const LAYER_COLUMNS: { key: LayerColumn; label: string; as: (v: number) => string; delta: (v: number) => string }[] = [
  { key: 'sparsity', label: 'Sparsity', as: percent, delta: (v) => `${(v * 100).toFixed(1)} pp` },
  { key: 'relativeError', label: 'Relative error', as: error, delta: error },
  { key: 'bits', label: 'Bits per weight', as: bits, delta: bits },
];

function LayerRow({ row, columns }: { row: LayerDifference; columns: typeof LAYER_COLUMNS }) {
  return (
    <tr data-layer={row.id}>
      <th scope="row">{row.name}</th>
      {columns.map(({ key, as, delta }) => (
        <td key={key} className="num">
          {side(row.a[key], as)} → {side(row.b[key], as)}
          {signed(row.delta[key], delta)}
        </td>
      ))}
    </tr>
  );
}

function LayerDifferences({ a, b }: { a: RunRecord; b: RunRecord }) {
  if (!a.report || !b.report) return <p className="muted">Per-layer differences need both runs’ reports; {!a.report ? `run ${a.number}` : `run ${b.number}`} has none (it did not finish).</p>;
  const rows = layerDifferences(a.report, b.report);
  if (rows.length === 0) return <p className="muted">The two runs changed no layer in common.</p>;
  // A measure neither run has (no calibration: no error; no quantize stage: no bits) gets no column.
  const columns = LAYER_COLUMNS.filter(({ key }) => rows.some((r) => r.a[key] !== null || r.b[key] !== null));
  return (
    <>
      <p className="muted">
        {rows.length} layers in both runs, largest change in relative error first (then sparsity, then bits){rows.length > LAYER_ROWS ? `; the first ${LAYER_ROWS} shown` : ''}.
        {columns.some((c) => c.key === 'relativeError') && ' Relative error is the last stage’s that measured one: exact from the Hessian or estimated on sampled tokens, as each run’s Layers tab says.'}
      </p>
      <ScrollRegion label="Per-layer differences" short>
        <table className="layer-diff" data-testid="compare-layers">
          <thead>
            <tr>
              <th scope="col">Layer</th>
              {columns.map((c) => (
                <th key={c.key} scope="col" className="num">
                  {c.label}
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {rows.slice(0, LAYER_ROWS).map((row) => (
              <LayerRow key={row.id} row={row} columns={columns} />
            ))}
          </tbody>
        </table>
      </ScrollRegion>
    </>
  );
}

export function RunCompare({ a: first, b: second, onClose }: { a: RunRecord; b: RunRecord; onClose: () => void }) {
  // Older run first, so "second − first" reads as what the later recipe changed.
  const [a, b] = first.number <= second.number ? [first, second] : [second, first];
  return (
    <section className="run-compare" aria-labelledby="compare-title" data-testid="run-compare">
      <h3 id="compare-title">
        Run {a.number} vs Run {b.number}
        <button type="button" className="link close" onClick={onClose}>
          Close comparison
        </button>
      </h3>
      <div className="compare-columns">
        <div>
          <MeasureTable a={a} b={b} />
          <RecipeLines a={a} b={b} />
        </div>
        <div>
          <h4>Per-layer differences</h4>
          <LayerDifferences a={a} b={b} />
        </div>
      </div>
    </section>
  );
}
