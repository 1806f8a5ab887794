// File size per model as horizontal bars: the dense file and the compressed file as MEASURED (the
// bytes written), and the ANALYTIC size of the compressed model with every quantized layer in its
// packed format, stacked as weights / scales / zero points / the unquantized rest. Measured and
// analytic are named in the legend, since a simulated layer makes the two differ.
import * as d3 from 'd3';
import { chartRoot, type ChartDims } from './svg';

/**
 * The analytic size of a model, in bytes, split by what the bytes hold: the report's
 * totals.analyticParts (src/core/compress/sizeParts.ts) — codes, scales, zero points and g_idx of
 * the quantized layers, and restBytes, everything else in the file (unquantized layers,
 * embeddings, norms, biases, the graph). scaleBytes and zeroPointBytes are null when not split
 * out: weightBytes then holds the quantized layers' whole analytic bytes.
 */
export interface AnalyticSizeParts {
  weightBytes: number;
  scaleBytes: number | null;
  zeroPointBytes: number | null;
  /** GPTQ act-order's int32 g_idx per input column; absent or 0 when none is stored (no segment). */
  groupIndexBytes?: number;
  /** Float32 weights kept inside quantized layers (QUIK's outlier columns); absent or 0: no segment. */
  floatColumnBytes?: number;
  restBytes: number;
}

export interface ModelSize {
  /** The model's name, drawn above its bars. */
  label: string;
  /** MEASURED bytes of the dense model file; undefined when unknown (no bar). */
  denseFileBytes?: number;
  /** MEASURED bytes of the compressed file as written. */
  compressedFileBytes: number;
  /** ANALYTIC split of the packed size; null when nothing was quantized (no bar). */
  analytic: AnalyticSizeParts | null;
}

/** The drawn segments of a model, in bar order: key, legend label, bytes, measured or analytic. */
export interface SizeSegment {
  bar: 'dense' | 'compressed' | 'analytic';
  key: 'dense' | 'compressed' | 'weights' | 'scales' | 'zeros' | 'gidx' | 'float' | 'rest' | 'quantized';
  label: string;
  bytes: number;
}

export const SEGMENT_STYLE: Record<SizeSegment['key'], { label: string; color: string }> = {
  dense: { label: 'dense file (measured)', color: '#8A8A8A' },
  compressed: { label: 'compressed file (measured)', color: '#1d2430' },
  weights: { label: 'weights (analytic)', color: '#0072B2' },
  quantized: { label: 'quantized layers (analytic)', color: '#0072B2' },
  scales: { label: 'scales (analytic)', color: '#D55E00' },
  zeros: { label: 'zero points (analytic)', color: '#009E73' },
  gidx: { label: 'group index (analytic)', color: '#CC79A7' },
  float: { label: 'float columns (analytic)', color: '#E69F00' },
  rest: { label: 'unquantized rest (analytic)', color: '#C8CED8' },
};

/** KiB with one decimal: '12.3 KiB'. */
export const kib = (bytes: number) => `${(bytes / 1024).toFixed(1)} KiB`;
const px = (v: number) => Math.round(v * 100) / 100;

export function sizeSegments(m: ModelSize): SizeSegment[] {
  const seg = (bar: SizeSegment['bar'], key: SizeSegment['key'], bytes: number): SizeSegment => ({ bar, key, label: SEGMENT_STYLE[key].label, bytes });
  const out: SizeSegment[] = [];
  if (m.denseFileBytes !== undefined) out.push(seg('dense', 'dense', m.denseFileBytes));
  out.push(seg('compressed', 'compressed', m.compressedFileBytes));
  const a = m.analytic;
  if (a) {
    const split = a.scaleBytes !== null && a.zeroPointBytes !== null;
    out.push(seg('analytic', split ? 'weights' : 'quantized', a.weightBytes));
    if (a.scaleBytes !== null) out.push(seg('analytic', 'scales', a.scaleBytes));
    if (a.zeroPointBytes !== null) out.push(seg('analytic', 'zeros', a.zeroPointBytes));
    if (a.groupIndexBytes) out.push(seg('analytic', 'gidx', a.groupIndexBytes));
    if (a.floatColumnBytes) out.push(seg('analytic', 'float', a.floatColumnBytes));
    out.push(seg('analytic', 'rest', a.restBytes));
  }
  return out;
}

export interface SizeTableRow {
  id: string;
  model: string;
  part: string;
  /** KiB with one decimal, without the unit. */
  kib: string;
}

/** One row per segment plus, per analytic bar, its total. */
export function sizeTableRows(models: readonly ModelSize[]): SizeTableRow[] {
  return models.flatMap((m, i) => {
    const segs = sizeSegments(m);
    const rows = segs.map((s) => ({ id: `${i}.${s.key}`, model: m.label, part: s.label, kib: (s.bytes / 1024).toFixed(1) }));
    const analytic = segs.filter((s) => s.bar === 'analytic');
    if (analytic.length) rows.push({ id: `${i}.analytic-total`, model: m.label, part: 'packed total (analytic)', kib: (d3.sum(analytic, (s) => s.bytes) / 1024).toFixed(1) });
    return rows;
  });
}

const barLabels: Record<SizeSegment['bar'], string> = { dense: 'dense', compressed: 'compressed', analytic: 'packed' };
const marginLeft = 76;
const marginRight = 64;
const barHeight = 14;
const barGap = 4;
const modelGap = 22;
const font = 10;
const charWidth = 6.2;

/** Height the chart needs for these models at this width (the legend wraps). */
export function sizeChartHeight(models: readonly ModelSize[], width: number): number {
  const bars = d3.sum(models, (m) => new Set(sizeSegments(m).map((s) => s.bar)).size);
  return legendRows(legendKeys(models), width) * 16 + 12 + models.length * modelGap + bars * (barHeight + barGap) + 8;
}

function legendKeys(models: readonly ModelSize[]): SizeSegment['key'][] {
  const present = new Set(models.flatMap((m) => sizeSegments(m).map((s) => s.key)));
  return (Object.keys(SEGMENT_STYLE) as SizeSegment['key'][]).filter((k) => present.has(k));
}

function legendLayout(keys: readonly SizeSegment['key'][], width: number): { key: SizeSegment['key']; x: number; row: number }[] {
  let x = 8;
  let row = 0;
  return keys.map((key) => {
    const w = 16 + SEGMENT_STYLE[key].label.length * charWidth + 14;
    if (x + w > width - 8 && x > 8) {
      x = 8;
      row += 1;
    }
    const at = { key, x, row };
    x += w;
    return at;
  });
}
const legendRows = (keys: readonly SizeSegment['key'][], width: number) => (keys.length ? legendLayout(keys, width).at(-1)!.row + 1 : 0);

export function sizeChart(models: ModelSize[], dims: ChartDims, document: Document): SVGSVGElement {
  const svg = chartRoot(document, dims, `File size: ${models.map((m) => sizeSegments(m).map((s) => `${m.label} ${s.label} ${kib(s.bytes)}`).join(', ')).join('; ')}`).attr('class', 'size-chart');
  if (models.length === 0) return svg.node()!;
  const keys = legendKeys(models);
  const legend = svg.append('g').attr('class', 'legend').attr('font-size', font).attr('fill', '#1d2430');
  for (const { key, x, row } of legendLayout(keys, dims.width)) {
    const entry = legend.append('g').attr('transform', `translate(${x.toFixed(1)},${6 + row * 16})`);
    entry.append('rect').attr('width', 12).attr('height', 10).attr('fill', SEGMENT_STYLE[key].color);
    entry.append('text').attr('x', 16).attr('y', 9).text(SEGMENT_STYLE[key].label);
  }
  const barTotals = models.flatMap((m) => d3.rollups(sizeSegments(m), (v) => d3.sum(v, (s) => s.bytes), (s) => s.bar).map(([, t]) => t));
  const x = d3
    .scaleLinear()
    .domain([0, d3.max(barTotals) || 1])
    .range([marginLeft, dims.width - marginRight]);
  let cursor = legendRows(keys, dims.width) * 16 + 12;
  const plot = svg.append('g').attr('class', 'models').attr('font-size', font);
  for (const m of models) {
    const group = plot.append('g').attr('class', 'model').attr('data-model', m.label);
    group.append('text').attr('class', 'model-label').attr('x', 8).attr('y', cursor + 12).attr('font-weight', 'bold').attr('fill', '#1d2430').text(m.label);
    cursor += modelGap - 4;
    for (const [bar, segs] of d3.groups(sizeSegments(m), (s) => s.bar)) {
      const total = d3.sum(segs, (s) => s.bytes);
      const row = group.append('g').attr('class', `bar ${bar}`).attr('data-bar', bar).attr('role', 'img').attr('aria-label', `${m.label}, ${barLabels[bar]}: ${kib(total)}${segs.length > 1 ? ` (${segs.map((s) => `${s.label} ${kib(s.bytes)}`).join(', ')})` : ''}`);
      row.append('text').attr('x', marginLeft - 6).attr('y', cursor + barHeight / 2).attr('dy', '0.32em').attr('text-anchor', 'end').attr('fill', '#5b6577').text(barLabels[bar]);
      let start = 0;
      for (const s of segs) {
        row.append('rect').attr('class', `segment ${s.key}`).attr('data-bytes', s.bytes).attr('x', px(x(start))).attr('width', px(x(start + s.bytes) - x(start))).attr('y', cursor).attr('height', barHeight).attr('fill', SEGMENT_STYLE[s.key].color);
        start += s.bytes;
      }
      row.append('text').attr('class', 'total').attr('x', px(x(total) + 4)).attr('y', cursor + barHeight / 2).attr('dy', '0.32em').attr('fill', '#1d2430').text(kib(total));
      cursor += barHeight + barGap;
    }
    cursor += 4;
  }
  return svg.node()!;
}
