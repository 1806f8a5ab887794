// ACT's head search as a forest plot: one row per candidate head, grouped by layer, its change in
// calibration NLL (score with ACT on that head alone − the uncalibrated score) as a point and the
// 95 % paired bootstrap interval as a whisker, against a zero line. What became of each head is a
// marker shape and a word (selected ★, improved alone but not selected ◆, not an improvement ○),
// never colour alone; skipped layers get a row that says so. The numbers are calibration-set
// numbers, and the axis says so.
import * as d3 from 'd3';
import type { AttentionHeadRow, AttentionStageReport } from '../../core/compress/attentionStage';
import { chartRoot, type ChartDims } from './svg';

/** What the chart needs of an attention stage report. */
export type HeadSearchData = Pick<AttentionStageReport, 'candidates' | 'skippedLayers' | 'selected' | 'guard' | 'samples'>;

export type HeadStatus = 'selected' | 'not-selected' | 'within-noise' | 'worse' | 'no-gain';

export type HeadChartRow = { kind: 'head'; layer: number; row: AttentionHeadRow; status: HeadStatus } | { kind: 'skipped'; layer: number };

const containsZero = (i: { low: number; high: number }) => i.low <= 0 && 0 <= i.high;

/** What became of a candidate: the search's verdict, then what its interval says. */
export function headStatus(row: AttentionHeadRow, selected: HeadSearchData['selected']): HeadStatus {
  if (selected.some((h) => h.layer === row.layer && h.head === row.head)) return 'selected';
  if (row.improves) return 'not-selected';
  if (row.interval && row.interval.low > 0) return 'worse';
  if (row.interval && containsZero(row.interval)) return 'within-noise';
  return 'no-gain';
}

/** A row's status in words; a selected head whose own interval contains 0 says so (the strict rule takes such heads). */
export function headStatusText(row: AttentionHeadRow, status: HeadStatus): string {
  const noise = row.interval && containsZero(row.interval) ? ', alone within noise' : '';
  switch (status) {
    case 'selected':
      return `★ selected${noise}`;
    case 'not-selected':
      return `◆ improved alone, not selected${noise}`;
    case 'worse':
      return '○ worse (interval above 0)';
    case 'within-noise':
      return '○ within noise';
    case 'no-gain':
      return '○ no gain';
  }
}

/** The chart's rows in layer order: every candidate head, and one row per skipped layer. */
export function headChartRows(data: HeadSearchData): HeadChartRow[] {
  const layers = [...new Set([...data.candidates.map((c) => c.layer), ...data.skippedLayers])].sort((a, b) => a - b);
  return layers.flatMap((layer): HeadChartRow[] => {
    if (data.skippedLayers.includes(layer)) return [{ kind: 'skipped', layer }];
    return data.candidates.filter((c) => c.layer === layer).map((row) => ({ kind: 'head', layer, row, status: headStatus(row, data.selected) }));
  });
}

/** −0.0012 / +0.0034: the sign always shown, a true minus. */
export const signedNll = (v: number) => `${v < 0 ? '−' : '+'}${Math.abs(v).toFixed(4)}`;
export const intervalText = (i: { low: number; high: number } | null) => (i ? `[${signedNll(i.low)}, ${signedNll(i.high)}]` : 'no interval');

const MARKERS: Record<'selected' | 'improved' | 'other', { symbol: d3.SymbolType; size: number; fill: string; stroke: string; legend: string }> = {
  selected: { symbol: d3.symbolStar, size: 110, fill: '#D55E00', stroke: '#8a3a00', legend: 'selected' },
  improved: { symbol: d3.symbolDiamond, size: 70, fill: '#0072B2', stroke: '#004a75', legend: 'improved alone, not selected' },
  other: { symbol: d3.symbolCircle, size: 50, fill: '#ffffff', stroke: '#5b6577', legend: 'not an improvement' },
};
const markerOf = (status: HeadStatus) => (status === 'selected' ? MARKERS.selected : status === 'not-selected' ? MARKERS.improved : MARKERS.other);

const marginLeft = 112;
/** Room right of the plot for "−0.0013  ★ selected, alone within noise": the longest status line. */
const charWidth = 6.8;
const statusWidth = (rows: readonly HeadChartRow[]) => 24 + charWidth * (d3.max(rows, (r) => (r.kind === 'head' ? statusLine(r).length : 0)) ?? 0);
const statusLine = (r: Extract<HeadChartRow, { kind: 'head' }>) => `${signedNll(r.row.delta)}  ${headStatusText(r.row, r.status)}`;
const rowHeight = 20;
const layerGap = 8;
const legendHeight = 44;
const axisHeight = 48;
const font = 11;

/** Height the chart needs for these rows. */
export function headSearchChartHeight(data: HeadSearchData): number {
  const rows = headChartRows(data);
  const layers = new Set(rows.map((r) => r.layer)).size;
  return legendHeight + rows.length * rowHeight + layers * layerGap + axisHeight;
}

function drawLegend(svg: d3.Selection<SVGSVGElement, unknown, null, undefined>, data: HeadSearchData) {
  const legend = svg.append('g').attr('class', 'legend').attr('font-size', font).attr('fill', '#1d2430');
  let x = 8;
  for (const m of Object.values(MARKERS)) {
    const entry = legend.append('g').attr('transform', `translate(${x},12)`);
    entry.append('path').attr('d', d3.symbol(m.symbol, m.size)()).attr('transform', 'translate(8,0)').attr('fill', m.fill).attr('stroke', m.stroke);
    entry.append('text').attr('x', 22).attr('dy', '0.32em').text(m.legend);
    x += 40 + m.legend.length * 6.2;
  }
  const whisker = legend.append('g').attr('transform', 'translate(8,32)');
  whisker.append('line').attr('x1', 0).attr('x2', 14).attr('stroke', '#1d2430');
  const rule = data.guard === 'interval' ? 'a head counts when the interval lies below 0' : 'a head counts when its mean is below 0 (no noise guard)';
  whisker.append('text').attr('x', 20).attr('dy', '0.32em').text(`95 % paired bootstrap interval over ${data.samples} calibration samples; ${rule}`);
}

export function headSearchChart(data: HeadSearchData, dims: ChartDims, document: Document): SVGSVGElement {
  const rows = headChartRows(data);
  const label = `Head search on ${data.samples} calibration samples: ${rows.map((r) => (r.kind === 'skipped' ? `layer ${r.layer} skipped` : `layer ${r.layer} head ${r.row.head} ${signedNll(r.row.delta)} ${intervalText(r.row.interval)} ${headStatusText(r.row, r.status).slice(2)}`)).join('; ')}`;
  const marginRight = statusWidth(rows);
  // Narrower than the labels and a usable plot: drawn at this width and scaled down by the viewBox.
  const width = Math.max(dims.width, marginLeft + marginRight + 200);
  const svg = chartRoot(document, { width, height: dims.height }, label).attr('class', 'head-search-chart');
  if (rows.length === 0) return svg.node()!;
  drawLegend(svg, data);
  const values = data.candidates.flatMap((c) => (c.interval ? [c.delta, c.interval.low, c.interval.high] : [c.delta]));
  const [lo, hi] = d3.extent([0, ...values]) as [number, number];
  const pad = (hi - lo || 1e-3) * 0.06;
  const x = d3
    .scaleLinear()
    .domain([lo - pad, hi + pad])
    .range([marginLeft, width - marginRight])
    .nice();
  const plotTop = legendHeight;
  let y = plotTop;
  let lastLayer: number | undefined;
  const body = svg.append('g').attr('class', 'rows').attr('font-size', font);
  for (const r of rows) {
    if (r.layer !== lastLayer) {
      if (lastLayer !== undefined) y += layerGap;
      body.append('text').attr('class', 'layer-label').attr('x', 8).attr('y', y + rowHeight / 2).attr('dy', '0.32em').attr('font-weight', 'bold').attr('fill', '#1d2430').text(`layer ${r.layer}`);
      lastLayer = r.layer;
    }
    const mid = y + rowHeight / 2;
    if (r.kind === 'skipped') {
      body.append('text').attr('class', 'skipped').attr('data-layer', r.layer).attr('x', marginLeft).attr('y', mid).attr('dy', '0.32em').attr('font-style', 'italic').attr('fill', '#5b6577').text('skipped: not searched');
    } else {
      drawHeadRow(body, r, x, mid, width - marginRight + 12);
    }
    y += rowHeight;
  }
  svg.insert('line', 'g.rows').attr('class', 'zero').attr('x1', x(0)).attr('x2', x(0)).attr('y1', plotTop - 2).attr('y2', y).attr('stroke', '#1d2430').attr('stroke-dasharray', '4 3');
  const axis = svg.append('g').attr('class', 'x-axis').attr('transform', `translate(0,${y + 4})`).call(d3.axisBottom(x).ticks(Math.max(2, Math.floor((width - marginLeft - marginRight) / 80)), '+f'));
  axis.selectAll('text').attr('font-size', font - 1);
  svg.append('text').attr('class', 'axis-label').attr('x', (marginLeft + width - marginRight) / 2).attr('y', y + 38).attr('text-anchor', 'middle').attr('font-size', font).attr('fill', '#1d2430').text('change in calibration NLL (lower is better)');
  return svg.node()!;
}

function drawHeadRow(body: d3.Selection<SVGGElement, unknown, null, undefined>, r: Extract<HeadChartRow, { kind: 'head' }>, x: d3.ScaleLinear<number, number>, mid: number, statusX: number) {
  const { row, status } = r;
  const text = headStatusText(row, status);
  const g = body
    .append('g')
    .attr('class', `head-row ${status}`)
    .attr('data-layer', row.layer)
    .attr('data-head', row.head)
    .attr('data-status', status)
    .attr('role', 'img')
    .attr('aria-label', `layer ${row.layer} head ${row.head}: change ${signedNll(row.delta)}, 95 % interval ${intervalText(row.interval)}, ${text.slice(2)}`);
  g.append('text').attr('x', marginLeft - 10).attr('y', mid).attr('dy', '0.32em').attr('text-anchor', 'end').attr('fill', '#1d2430').text(`head ${row.head}`);
  if (row.interval) {
    const [x1, x2] = [x(row.interval.low), x(row.interval.high)];
    g.append('line').attr('class', 'whisker').attr('x1', x1).attr('x2', x2).attr('y1', mid).attr('y2', mid).attr('stroke', '#1d2430');
    for (const end of [x1, x2]) g.append('line').attr('class', 'cap').attr('x1', end).attr('x2', end).attr('y1', mid - 4).attr('y2', mid + 4).attr('stroke', '#1d2430');
  }
  const m = markerOf(status);
  g.append('path').attr('class', 'marker').attr('d', d3.symbol(m.symbol, m.size)()).attr('transform', `translate(${x(row.delta)},${mid})`).attr('fill', m.fill).attr('stroke', m.stroke);
  g.append('text').attr('class', 'status').attr('x', statusX).attr('y', mid).attr('dy', '0.32em').attr('fill', status === 'selected' ? '#8a3a00' : '#1d2430').attr('font-weight', status === 'selected' ? 'bold' : 'normal').text(statusLine(r));
}
