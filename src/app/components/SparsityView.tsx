import { useState } from 'react';
import { sparsityChart, sparsityTableRows, type LayerSparsity } from '../charts/sparsityChart';
import '../charts/charts.css';
import { D3Chart } from './D3Chart';
import { useElementWidth } from './useElementWidth';

const chartHeight = 260;
/** Below this the chart is drawn at this width and scaled down by its viewBox. */
const minChartWidth = 360;

/** Sparsity per layer as a chart that follows its container's width, or as a table. */
export function SparsityView({ layers }: { layers: LayerSparsity[] }) {
  const [host, width] = useElementWidth<HTMLDivElement>();
  const [asTable, setAsTable] = useState(false);
  const chartWidth = Math.max(minChartWidth, width ?? 0);
  return (
    <div className="sparsity-view" ref={host} data-testid="sparsity-view">
      <label className="field check chart-toggle">
        <input type="checkbox" checked={asTable} onChange={(e) => setAsTable(e.target.checked)} />
        Show as table
      </label>
      {asTable ? (
        <SparsityTable layers={layers} />
      ) : (
        width !== undefined && <D3Chart render={(doc) => sparsityChart(layers, { width: chartWidth, height: chartHeight }, doc)} deps={[layers, chartWidth]} />
      )}
    </div>
  );
}

function SparsityTable({ layers }: { layers: LayerSparsity[] }) {
  return (
    <div className="table-scroll chart-table-scroll">
      <table className="chart-table" data-testid="sparsity-table">
        <caption className="visually-hidden">Sparsity per layer: target and achieved</caption>
        <thead>
          <tr>
            <th scope="col">layer</th>
            <th scope="col">block</th>
            <th scope="col">role</th>
            <th scope="col" className="num">
              target (%)
            </th>
            <th scope="col" className="num">
              achieved (%)
            </th>
          </tr>
        </thead>
        <tbody>
          {sparsityTableRows(layers).map((row) => (
            <tr key={row.id} data-layer={row.id}>
              <th scope="row">{row.layer}</th>
              <td>{row.block}</td>
              <td>{row.role}</td>
              <td className="num">{row.target}</td>
              <td className="num">{row.achieved}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
