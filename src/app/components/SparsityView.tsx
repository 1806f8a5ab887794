import { sparsityChart, sparsityTableRows, type LayerSparsity } from '../charts/sparsityChart';
import '../charts/charts.css';
import { D3Chart } from './D3Chart';
import { ChartOrTable } from './ChartOrTable';
import { ScrollRegion } from './ScrollRegion';

const chartHeight = 260;

/** Sparsity per layer as a chart that follows its container's width, or as a table. */
export function SparsityView({ layers }: { layers: LayerSparsity[] }) {
  return (
    <ChartOrTable
      className="sparsity-view"
      testId="sparsity-view"
      chart={(width) => <D3Chart render={(doc) => sparsityChart(layers, { width, height: chartHeight }, doc)} deps={[layers, width]} />}
      table={() => <SparsityTable layers={layers} />}
    />
  );
}

function SparsityTable({ layers }: { layers: LayerSparsity[] }) {
  return (
    <ScrollRegion label="Sparsity per layer" className="chart-table-scroll">
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
    </ScrollRegion>
  );
}
