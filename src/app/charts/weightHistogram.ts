// A quantized layer's weight histogram: the dense weights of a group (or the whole layer) as bars,
// the values the run's file stores for them as a second histogram (overlaid, or toggled off), the
// group's quantization grid as vertical lines at its levels, and the clipped range — beyond the
// smallest and largest level — shaded. A function of data, dims and document, as every chart.
import * as d3 from 'd3';
import { chartRoot, type ChartDims } from './svg';

export interface WeightHistogramData {
  dense: ArrayLike<number>;
  /** The stored (dequantized) values; null hides their histogram. */
  quantized: ArrayLike<number> | null;
  /** The group's levels, ascending; null when no grid is shown (whole layer, simulated). */
  levels: ArrayLike<number> | null;
}

export interface HistogramBin {
  x0: number;
  x1: number;
  dense: number;
  quantized: number;
}

const margin = { top: 30, right: 14, bottom: 30, left: 44 };
/** Okabe–Ito colours, as the other charts; the stored values drawn over the dense ones. */
const STYLE = {
  dense: { fill: '#0072B2', opacity: 0.5 },
  quantized: { fill: '#D55E00', opacity: 0.75 },
  level: { fill: '#1d2430', opacity: 0.8 },
  clipped: { fill: '#E69F00', opacity: 0.18 },
} as const;
/** Above this many levels (8-bit grids) the lines are drawn fainter, or they would hide the bars. */
const DENSE_GRID = 64;

const finite = (values: ArrayLike<number> | null) => (values ? Array.from(values).filter(Number.isFinite) : []);

/** The x range every series shares: the values and the grid, padded by a twentieth. */
function domainOf(data: WeightHistogramData): [number, number] {
  const all = [...finite(data.dense), ...finite(data.quantized), ...finite(data.levels)];
  const [lo, hi] = d3.extent(all) as [number | undefined, number | undefined];
  if (lo === undefined || hi === undefined) return [-1, 1];
  const pad = (hi - lo || Math.abs(hi) || 1) / 20;
  return [lo - pad, hi + pad];
}

/** Counts of dense and stored values in `count` equal bins over the shared range. */
export function histogramBins(data: WeightHistogramData, count: number): HistogramBin[] {
  const [lo, hi] = domainOf(data);
  const width = (hi - lo) / count;
  const bins: HistogramBin[] = Array.from({ length: count }, (_, i) => ({ x0: lo + i * width, x1: lo + (i + 1) * width, dense: 0, quantized: 0 }));
  const at = (v: number) => Math.min(count - 1, Math.max(0, Math.floor((v - lo) / width)));
  for (const v of finite(data.dense)) bins[at(v)].dense++;
  for (const v of finite(data.quantized)) bins[at(v)].quantized++;
  return bins;
}

/** Bins for this many values: about √n, within 12 … 80. */
export const binCountFor = (n: number): number => Math.max(12, Math.min(80, Math.round(Math.sqrt(n))));

export function weightHistogram(data: WeightHistogramData, dims: ChartDims, document: Document): SVGSVGElement {
  const levels = finite(data.levels);
  const svg = chartRoot(
    document,
    dims,
    `Histogram of ${data.dense.length} dense weights${data.quantized ? ' and their stored values' : ''}${levels.length ? `, with the ${levels.length} grid levels from ${fmt(levels[0])} to ${fmt(levels[levels.length - 1])}; weights outside are clipped` : ''}`,
  ).attr('class', 'weight-histogram');
  const bins = histogramBins(data, binCountFor(data.dense.length));
  const [lo, hi] = domainOf(data);
  const x = d3.scaleLinear().domain([lo, hi]).range([margin.left, dims.width - margin.right]);
  const y = d3
    .scaleLinear()
    .domain([0, d3.max(bins, (b) => Math.max(b.dense, data.quantized ? b.quantized : 0)) || 1])
    .nice()
    .range([dims.height - margin.bottom, margin.top]);
  const bottom = dims.height - margin.bottom;
  if (levels.length) {
    // Clipped: what lies beyond the grid's ends rounds (saturates) to the end level.
    const clip = svg.append('g').attr('class', 'clipped').attr('fill', STYLE.clipped.fill).attr('fill-opacity', STYLE.clipped.opacity);
    clip.append('rect').attr('class', 'clipped below').attr('x', x(lo)).attr('width', Math.max(0, x(levels[0]) - x(lo))).attr('y', margin.top).attr('height', bottom - margin.top);
    clip.append('rect').attr('class', 'clipped above').attr('x', x(levels[levels.length - 1])).attr('width', Math.max(0, x(hi) - x(levels[levels.length - 1]))).attr('y', margin.top).attr('height', bottom - margin.top);
  }
  const bar = (key: 'dense' | 'quantized', count: (b: HistogramBin) => number) =>
    svg
      .append('g')
      .attr('class', `bins ${key}`)
      .attr('fill', STYLE[key].fill)
      .attr('fill-opacity', STYLE[key].opacity)
      .selectAll('rect')
      .data(bins.filter((b) => count(b) > 0))
      .join('rect')
      .attr('x', (b) => x(b.x0) + 0.5)
      .attr('width', (b) => Math.max(0.5, x(b.x1) - x(b.x0) - 1))
      .attr('y', (b) => y(count(b)))
      .attr('height', (b) => bottom - y(count(b)))
      .attr('data-count', count);
  bar('dense', (b) => b.dense);
  if (data.quantized) bar('quantized', (b) => b.quantized);
  if (levels.length) {
    svg
      .append('g')
      .attr('class', 'levels')
      .attr('stroke', STYLE.level.fill)
      .attr('stroke-opacity', levels.length > DENSE_GRID ? 0.25 : STYLE.level.opacity)
      .attr('stroke-dasharray', levels.length > DENSE_GRID ? null : '3 2')
      .selectAll('line')
      .data(levels)
      .join('line')
      .attr('class', 'level')
      .attr('x1', (v) => x(v))
      .attr('x2', (v) => x(v))
      .attr('y1', margin.top)
      .attr('y2', bottom)
      .attr('data-value', (v) => v);
  }
  svg.append('g').attr('transform', `translate(0,${bottom})`).call(d3.axisBottom(x).ticks(Math.max(2, Math.floor(dims.width / 90))));
  svg.append('g').attr('transform', `translate(${margin.left},0)`).call(d3.axisLeft(y).ticks(4));
  svg.append('text').attr('x', dims.width - margin.right).attr('y', dims.height - 2).attr('text-anchor', 'end').attr('font-size', 10).text('weight value');
  const legend: { key: keyof typeof STYLE; label: string }[] = [
    { key: 'dense', label: 'dense weights' },
    ...(data.quantized ? [{ key: 'quantized' as const, label: 'stored (dequantized)' }] : []),
    ...(levels.length ? [{ key: 'level' as const, label: 'grid level' }, { key: 'clipped' as const, label: 'clipped range' }] : []),
  ];
  const entries = svg.append('g').attr('class', 'legend').attr('font-size', 10);
  let at = margin.left;
  for (const { key, label } of legend) {
    const entry = entries.append('g').attr('transform', `translate(${at},8)`);
    const swatch = entry.append('rect').attr('class', `swatch ${key}`).attr('fill', STYLE[key].fill).attr('fill-opacity', key === 'clipped' ? 0.4 : STYLE[key].opacity);
    if (key === 'level') swatch.attr('width', 2).attr('height', 10).attr('x', 5);
    else swatch.attr('width', 12).attr('height', 10);
    entry.append('text').attr('x', 16).attr('y', 9).text(label);
    at += 16 + label.length * 6.2 + 14;
  }
  return svg.node()!;
}

const fmt = (v: number) => d3.format('.3~g')(v);
export const formatWeight = fmt;
