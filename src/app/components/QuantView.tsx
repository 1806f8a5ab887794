import { useMemo } from 'react';
import type { CompressReport, LayerQuantReport } from '../../core/compress/report';
import { bitsChart, bitsTableRows } from '../charts/bitsChart';
import '../charts/charts.css';
import '../charts/quantCharts.css';
import { sizeChart, sizeChartHeight, sizeTableRows, type AnalyticSizeParts, type ModelSize } from '../charts/sizeChart';
import { D3Chart } from './D3Chart';
import { ChartOrTable } from './ChartOrTable';

const bitsHeight = 260;

export interface QuantViewProps {
  report: CompressReport;
  /** MEASURED bytes of the dense model file, when known. */
  denseBytes: number | undefined;
  /**
   * The analytic size split into weights / scales / zero points / rest, computed by the caller from
   * the quantizers' bits and group sizes. Without it the quantized layers are one segment.
   */
  analyticParts?: AnalyticSizeParts;
}

/** The last row per layer: a later quantize stage supersedes an earlier one. */
function latestRows(rows: readonly LayerQuantReport[]): LayerQuantReport[] {
  return [...new Map(rows.map((r) => [r.id, r])).values()];
}

/** The size chart's input from a report: measured sizes, and the analytic total split as far as the report allows. */
export function modelSizeOf(report: CompressReport, denseBytes: number | undefined, analyticParts?: AnalyticSizeParts): ModelSize {
  const analyticTotal = report.totals.analyticQuantizedFileBytes;
  const quantizedBytes = latestRows(report.quantized).reduce((sum, r) => sum + r.packedBytes, 0);
  const analytic =
    analyticParts ?? (analyticTotal === null ? null : { weightBytes: quantizedBytes, scaleBytes: null, zeroPointBytes: null, restBytes: Math.max(0, analyticTotal - quantizedBytes) });
  return { label: report.summary, denseFileBytes: denseBytes, compressedFileBytes: report.totals.denseFileBytes, analytic };
}

/** Bits per weight per layer and the file size breakdown, as charts following the container's width, or as tables. */
export function QuantView({ report, denseBytes, analyticParts }: QuantViewProps) {
  const layers = useMemo(() => latestRows(report.quantized), [report]);
  const sizes = useMemo(() => [modelSizeOf(report, denseBytes, analyticParts)], [report, denseBytes, analyticParts]);
  if (report.quantized.length === 0) return null;
  return (
    <ChartOrTable
      className="quant-view"
      testId="quant-view"
      chart={(width) => (
        <>
          <D3Chart render={(doc) => bitsChart(layers, { width, height: bitsHeight }, doc)} deps={[layers, width]} />
          <D3Chart render={(doc) => sizeChart(sizes, { width, height: sizeChartHeight(sizes, width) }, doc)} deps={[sizes, width]} />
        </>
      )}
      table={() => (
        <>
          <BitsTable layers={layers} />
          <SizeTable sizes={sizes} />
        </>
      )}
    />
  );
}

function BitsTable({ layers }: { layers: LayerQuantReport[] }) {
  return (
    <div className="table-scroll chart-table-scroll">
      <table className="chart-table" data-testid="bits-table">
        <caption className="visually-hidden">Bits per weight per layer (analytic) and how the file stores each layer</caption>
        <thead>
          <tr>
            <th scope="col">layer</th>
            <th scope="col">block</th>
            <th scope="col">role</th>
            <th scope="col">format</th>
            <th scope="col" className="num">
              bits/weight
            </th>
            <th scope="col">stored</th>
          </tr>
        </thead>
        <tbody>
          {bitsTableRows(layers).map((row) => (
            <tr key={row.id} data-layer={row.id}>
              <th scope="row">{row.layer}</th>
              <td>{row.block}</td>
              <td>{row.role}</td>
              <td>{row.format}</td>
              <td className="num">{row.bitsPerWeight}</td>
              <td>{row.storage}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

function SizeTable({ sizes }: { sizes: ModelSize[] }) {
  return (
    <div className="table-scroll chart-table-scroll">
      <table className="chart-table" data-testid="size-table">
        <caption className="visually-hidden">File size: measured and analytic</caption>
        <thead>
          <tr>
            <th scope="col">model</th>
            <th scope="col">part</th>
            <th scope="col" className="num">
              size (KiB)
            </th>
          </tr>
        </thead>
        <tbody>
          {sizeTableRows(sizes).map((row) => (
            <tr key={row.id}>
              <th scope="row">{row.model}</th>
              <td>{row.part}</td>
              <td className="num">{row.kib}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
