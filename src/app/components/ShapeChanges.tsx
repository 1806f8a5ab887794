// The shape-changing stages' rows of a run (report.reshaped): the chart of removed heads, kept
// widths and ranks (charts/shapeChart.ts), and below it every row with its shapes and
// parameters. One component for every reshaping stage kind: structured, slice, low rank, BitStack.
import type { LayerShapeReport } from '../../core/compress/report';
import { shapeChart, shapeChartHeight, shapeSummary } from '../charts/shapeChart';
import { D3Chart } from './D3Chart';
import { ScrollRegion } from './ScrollRegion';
import { useElementWidth } from './useElementWidth';

function ShapeTable({ rows }: { rows: readonly LayerShapeReport[] }) {
  return (
    <ScrollRegion label="Layers whose shape changed">
      <table data-testid="run-shape-layers" className="sticky">
        <thead>
          <tr>
            <th scope="col">Layer</th>
            <th scope="col">Change</th>
            <th scope="col">Shape before → after</th>
            <th scope="col" className="num">
              Parameters before → after
            </th>
            <th scope="col">What</th>
          </tr>
        </thead>
        <tbody>
          {rows.map((r) => (
            <tr key={`${r.stage}-${r.id}`} data-layer={r.id} data-change={r.change} data-removed={r.removed?.join(',')}>
              <th scope="row">{r.name}</th>
              <td>{r.change}</td>
              <td>
                {r.before.join(' × ')} → {r.after.join(' × ')}
              </td>
              <td className="num">
                {r.paramsBefore.toLocaleString('en-US')} → {r.paramsAfter.toLocaleString('en-US')}
              </td>
              <td>{r.detail}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </ScrollRegion>
  );
}

export function ShapeChanges({ rows, headsPerBlock }: { rows: readonly LayerShapeReport[]; headsPerBlock?: number }) {
  const summary = shapeSummary(rows, headsPerBlock);
  const [host, width] = useElementWidth<HTMLDivElement>();
  return (
    <section className="shape-changes" aria-label="Shape changes">
      <h3>Shape changes</h3>
      <div className="shape-chart-host" ref={host} data-testid="shape-chart">
        {width !== undefined && <D3Chart render={(doc) => shapeChart(summary, { width: Math.max(360, width), height: Math.max(40, shapeChartHeight(summary)) }, doc)} deps={[rows, width]} />}
      </div>
      {/* The chart's data-table alternative, always shown: the rows are the per-layer record. */}
      <ShapeTable rows={rows} />
    </section>
  );
}
