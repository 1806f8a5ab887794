// Accuracy against size over every run of one model: the trade-off picture. Each run is a point —
// colour by method, shape by the stages it ran — the dense model is a labelled star, the Pareto
// frontier (pareto.ts) a line through the runs nothing beats. Points are focusable buttons: hover
// or focus shows the run's numbers, click or Enter opens it.
import * as d3 from 'd3';
import { paretoFront } from '../../core/experiments/pareto';
import { chartRoot, type ChartDims } from './svg';
import { svgTooltip } from './svgTooltip';

export type TradeoffAxis = 'bytes' | 'bits' | 'params' | 'msPerItem' | 'latency';

export const AXIS_LABELS: Record<TradeoffAxis, string> = {
  bytes: 'file size (measured bytes)',
  bits: 'bits per weight (analytic, compressed layers)',
  params: 'non-zero linear weights',
  msPerItem: 'inference time per token or image (ms, measured)',
  latency: 'latency per token (ms, measured, batch 1)',
};

export interface TradeoffRun {
  id: string;
  /** "run 3: Wanda 50 %" */
  label: string;
  x: number;
  y: number;
  /** The colour key: "wanda", "gptq", "wanda → gptq". */
  method: string;
  /** The shape key: which stage kinds ran ("prune", "quantize", "prune + quantize", …). */
  stages: string;
  /** Extra lines for the tooltip. */
  details: string[];
}

export interface TradeoffOptions {
  axis: TradeoffAxis;
  metricLabel: string;
  better: 'lower' | 'higher';
  logX: boolean;
  dense?: { x: number; y: number };
  selectedId?: string;
  onPick?: (id: string) => void;
}

const margin = { top: 16, right: 16, bottom: 46, left: 60 };
const SHAPES = [d3.symbolCircle, d3.symbolSquare, d3.symbolTriangle, d3.symbolDiamond, d3.symbolCross, d3.symbolWye];
const COLOURS = d3.schemeTableau10;
const ink = '#1d2430';

/** Distinct keys in first-seen order: the legend and the scales share it. */
const keysOf = (runs: readonly TradeoffRun[], key: 'method' | 'stages') => [...new Set(runs.map((r) => r[key]))];

export function tradeoffLegendHeight(runs: readonly TradeoffRun[]): number {
  return 16 * (keysOf(runs, 'method').length + keysOf(runs, 'stages').length) + 24;
}

export function tradeoffChart(runs: readonly TradeoffRun[], options: TradeoffOptions, dims: ChartDims, document: Document): SVGSVGElement {
  const svg = chartRoot(document, dims, `${options.metricLabel} against ${AXIS_LABELS[options.axis]} for ${runs.length} runs`).attr('class', 'tradeoff-chart');
  const legendWidth = 170;
  const plotW = Math.max(80, dims.width - margin.left - margin.right - legendWidth);
  const plotH = Math.max(80, dims.height - margin.top - margin.bottom);
  const plot = svg.append('g').attr('transform', `translate(${margin.left},${margin.top})`);

  const xs = runs.map((r) => r.x).concat(options.dense ? [options.dense.x] : []).filter((v) => Number.isFinite(v) && (!options.logX || v > 0));
  const ys = runs.map((r) => r.y).concat(options.dense ? [options.dense.y] : []).filter(Number.isFinite);
  const [x0, x1] = d3.extent(xs) as [number, number];
  const [y0, y1] = d3.extent(ys) as [number, number];
  const pad = (lo: number, hi: number) => (hi - lo || Math.abs(hi) || 1) * 0.08;
  const x = options.logX
    ? d3.scaleLog().domain([(x0 ?? 1) / 1.15, (x1 ?? 10) * 1.15]).range([0, plotW])
    : d3.scaleLinear().domain([(x0 ?? 0) - pad(x0 ?? 0, x1 ?? 1), (x1 ?? 1) + pad(x0 ?? 0, x1 ?? 1)]).range([0, plotW]);
  const y = d3.scaleLinear().domain([(y0 ?? 0) - pad(y0 ?? 0, y1 ?? 1), (y1 ?? 1) + pad(y0 ?? 0, y1 ?? 1)]).range([plotH, 0]).nice();

  const xAxis = options.axis === 'bytes' ? d3.axisBottom(x).ticks(5, '~s') : d3.axisBottom(x).ticks(5);
  plot.append('g').attr('class', 'x-axis').attr('transform', `translate(0,${plotH})`).call(xAxis);
  plot.append('g').attr('class', 'y-axis').call(d3.axisLeft(y).ticks(5));
  plot
    .append('text')
    .attr('class', 'axis-label')
    .attr('x', plotW / 2)
    .attr('y', plotH + 36)
    .attr('text-anchor', 'middle')
    .attr('font-size', 11)
    .attr('fill', ink)
    .text(`${AXIS_LABELS[options.axis]}${options.logX ? ', log scale' : ''} →`);
  plot
    .append('text')
    .attr('class', 'axis-label')
    .attr('transform', `translate(-44,${plotH / 2}) rotate(-90)`)
    .attr('text-anchor', 'middle')
    .attr('font-size', 11)
    .attr('fill', ink)
    .text(`${options.metricLabel} (${options.better} is better)`);

  const methods = keysOf(runs, 'method');
  const stageKinds = keysOf(runs, 'stages');
  const colour = (m: string) => COLOURS[methods.indexOf(m) % COLOURS.length];
  const shape = (s: string) => SHAPES[stageKinds.indexOf(s) % SHAPES.length];

  // The frontier first, under the points.
  const front = paretoFront(runs, options.better).map((i) => runs[i]);
  if (front.length > 1) {
    plot
      .append('path')
      .attr('class', 'frontier')
      .attr('fill', 'none')
      .attr('stroke', ink)
      .attr('stroke-dasharray', '4 3')
      .attr('d', d3.line<TradeoffRun>().x((r) => x(r.x)).y((r) => y(r.y)).curve(d3.curveStepAfter)(front));
  }
  const onFront = new Set(front.map((r) => r.id));

  if (options.dense && Number.isFinite(options.dense.x) && Number.isFinite(options.dense.y)) {
    const g = plot.append('g').attr('class', 'dense').attr('data-x', options.dense.x).attr('data-y', options.dense.y).attr('transform', `translate(${x(options.dense.x)},${y(options.dense.y)})`);
    g.append('path').attr('d', d3.symbol(d3.symbolStar, 140)()).attr('fill', '#ffffff').attr('stroke', ink).attr('stroke-width', 1.5);
    g.append('text').attr('x', 9).attr('y', -7).attr('font-size', 11).attr('fill', ink).text('dense');
  }

  const tooltip = svgTooltip(svg, dims);
  const points = plot
    .append('g')
    .attr('class', 'points')
    .selectAll('g.run')
    .data(runs.filter((r) => Number.isFinite(r.x) && Number.isFinite(r.y) && (!options.logX || r.x > 0)))
    .join('g')
    .attr('class', 'run')
    .attr('data-run', (r) => r.id)
    .attr('data-x', (r) => r.x)
    .attr('data-y', (r) => r.y)
    .attr('data-frontier', (r) => (onFront.has(r.id) ? 'true' : null))
    .attr('transform', (r) => `translate(${x(r.x)},${y(r.y)})`)
    .attr('tabindex', 0)
    .attr('role', 'button')
    .attr('aria-label', (r) => `${r.label}: ${options.metricLabel} ${r.y.toPrecision(4)}, ${AXIS_LABELS[options.axis]} ${r.x.toLocaleString('en-US')}${onFront.has(r.id) ? ', on the frontier' : ''}`)
    .attr('cursor', options.onPick ? 'pointer' : null);
  points
    .append('path')
    .attr('d', (r) => d3.symbol(shape(r.stages), r.id === options.selectedId ? 160 : 90)())
    .attr('fill', (r) => colour(r.method))
    .attr('fill-opacity', 0.85)
    .attr('stroke', (r) => (r.id === options.selectedId ? ink : '#ffffff'))
    .attr('stroke-width', (r) => (r.id === options.selectedId ? 2 : 1));
  const show = (event: Event, r: TradeoffRun) => {
    const [px, py] = [margin.left + x(r.x), margin.top + y(r.y)];
    tooltip.show([r.label, `${options.metricLabel} ${r.y.toPrecision(4)}`, `${AXIS_LABELS[options.axis]}: ${r.x.toLocaleString('en-US')}`, ...r.details, ...(onFront.has(r.id) ? ['on the Pareto frontier'] : [])], { x: px, y: py });
    event.stopPropagation();
  };
  points.on('mouseenter focus', show).on('mouseleave blur', () => tooltip.hide());
  if (options.onPick) {
    points.on('click', (_e, r) => options.onPick!(r.id));
    points.on('keydown', (e: KeyboardEvent, r) => {
      if (e.key === 'Enter' || e.key === ' ') {
        e.preventDefault();
        options.onPick!(r.id);
      }
    });
  }

  // Legend: colour = method, shape = stages, then the frontier and the dense star.
  const legend = svg.append('g').attr('class', 'legend').attr('transform', `translate(${margin.left + plotW + 20},${margin.top})`);
  let row = 0;
  const line = () => legend.append('g').attr('transform', `translate(0,${16 * row++})`);
  legend.append('text').attr('y', -4).attr('font-size', 11).attr('font-weight', 'bold').attr('fill', ink).text('colour: method');
  row = 0.5;
  for (const m of methods) {
    const g = line();
    g.append('rect').attr('x', 0).attr('y', 2).attr('width', 10).attr('height', 10).attr('fill', colour(m));
    g.append('text').attr('x', 16).attr('y', 11).attr('font-size', 11).attr('fill', ink).text(m);
  }
  row += 0.5;
  line().append('text').attr('y', 11).attr('font-size', 11).attr('font-weight', 'bold').attr('fill', ink).text('shape: stages');
  for (const s of stageKinds) {
    const g = line();
    g.append('path').attr('transform', 'translate(5,7)').attr('d', d3.symbol(shape(s), 60)()).attr('fill', '#8a94a6');
    g.append('text').attr('x', 16).attr('y', 11).attr('font-size', 11).attr('fill', ink).text(s);
  }
  const frontier = line();
  frontier.append('line').attr('x1', 0).attr('x2', 12).attr('y1', 7).attr('y2', 7).attr('stroke', ink).attr('stroke-dasharray', '4 3');
  frontier.append('text').attr('x', 16).attr('y', 11).attr('font-size', 11).attr('fill', ink).text('Pareto frontier');
  return svg.node()!;
}
