import { useMemo } from 'react';
import type { CompressReport, LayerQuantReport } from '../../core/compress/report';
import { bitsChart, bitsTableRows } from '../charts/bitsChart';
import '../charts/charts.css';
import '../charts/quantCharts.css';
import { sizeChart, sizeChartHeight, sizeTableRows, type ModelSize } from '../charts/sizeChart';
import { formatSignedPercent, measuredVsAnalyticPercent } from '../../core/compress/sizeParts';
import { D3Chart } from './D3Chart';
import { ChartOrTable } from './ChartOrTable';
import { ScrollRegion } from './ScrollRegion';

const bitsHeight = 260;

export interface QuantViewProps {
  report: CompressReport;
  /** MEASURED bytes of the dense model file, when known. */
  denseBytes: number | undefined;
}

/** The last row per layer: a later quantize stage supersedes an earlier one. */
function latestRows(rows: readonly LayerQuantReport[]): LayerQuantReport[] {
  return [...new Map(rows.map((r) => [r.id, r])).values()];
}

/**
 * The size chart's input from a report: measured sizes, and the analytic total split into the
 * report's parts (codes, scales, zero points, g_idx, unquantized rest); when the report could not
 * split it (its notes say why), the quantized layers are one segment.
 */
export function modelSizeOf(report: CompressReport, denseBytes: number | undefined): ModelSize {
  const { analyticQuantizedFileBytes: analyticTotal, analyticParts: parts } = report.totals;
  const quantizedBytes = latestRows(report.quantized).reduce((sum, r) => sum + r.packedBytes, 0);
  const analytic = parts
    ? { weightBytes: parts.weights, scaleBytes: parts.scales, zeroPointBytes: parts.zeroPoints, groupIndexBytes: parts.groupIndex, floatColumnBytes: parts.floatColumns, restBytes: parts.rest }
    : analyticTotal === null
      ? null
      : { weightBytes: quantizedBytes, scaleBytes: null, zeroPointBytes: null, restBytes: Math.max(0, analyticTotal - quantizedBytes) };
  return { label: report.summary, denseFileBytes: denseBytes, compressedFileBytes: report.totals.denseFileBytes, analytic };
}

/** "The file measures +1.2 % against its analytic size", with why a simulated file differs. */
export function sizeDifferenceText(report: CompressReport): string | null {
  const t = report.totals;
  if (t.analyticQuantizedFileBytes === null) return null;
  const off = formatSignedPercent(measuredVsAnalyticPercent(t.denseFileBytes, t.analyticQuantizedFileBytes));
  const why = t.simulatedLayers > 0 ? ` — ${t.simulatedLayers} SIMULATED layers are stored as float weights, so the file is larger than their packed format would be` : ' (packing pads short blocks; each tensor adds a header)';
  return `Measured file against its analytic size: ${off}${why}.`;
}

/** Bits per weight per layer and the file size breakdown, as charts following the container's width, or as tables. */
export function QuantView({ report, denseBytes }: QuantViewProps) {
  const layers = useMemo(() => latestRows(report.quantized), [report]);
  const sizes = useMemo(() => [modelSizeOf(report, denseBytes)], [report, denseBytes]);
  if (report.quantized.length === 0) return null;
  const difference = sizeDifferenceText(report);
  return (
    <>
    {difference && (
      <p className="muted" data-testid="size-difference">
        {difference}
      </p>
    )}
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
    </>
  );
}

function BitsTable({ layers }: { layers: LayerQuantReport[] }) {
  return (
    <ScrollRegion label="Bits per weight per layer" className="chart-table-scroll">
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
    </ScrollRegion>
  );
}

function SizeTable({ sizes }: { sizes: ModelSize[] }) {
  return (
    <ScrollRegion label="File size" className="chart-table-scroll">
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
    </ScrollRegion>
  );
}
