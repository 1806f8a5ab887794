// Where a ViT's attention falls on its input: the digit with its patch grid drawn over it, each
// patch shaded by the attention weight of its token — where a hovered query attends (its row of
// the map), who attends to a hovered key (its column), or, with nothing hovered, the mean
// attention each token receives. The class token has no position in the image, so its weight is
// a separate swatch beside the grid. Same colour scale as the map (√, fixed to [0, 1]), so a
// patch and a map cell of one weight look alike.
import * as d3 from 'd3';
import type { PatchLayout } from '../../core/attention/patches';
import { patchToken } from '../../core/attention/patches';
import { attentionColor, sinkColor, type HeadMap, type MapHover } from './attentionMap';
import { digitImageSvg } from './digitImage';
import { chartRoot, type ChartDims } from './svg';

export interface PatchOverlayView {
  /** The input image's raw values in its set's layout, shape [..., height, width]. */
  image: readonly number[];
  shape: readonly number[];
  /** The raw value drawn as full ink. */
  maxValue: number;
  layout: PatchLayout;
  /** One label per token ("CLS", "r0c0", …). */
  labels: readonly string[];
  /** One weight in [0, 1] per token, as overlayWeights gives them for `hover`. */
  weights: ArrayLike<number>;
  /** What the map is hovered on; both null: the mean attention received. */
  hover: MapHover;
  /** Sink keys of the head, outlined. */
  sinks: readonly number[];
}

const ink = '#1d2430';
const fontSize = 10;
const titleHeight = 22;
const legendHeight = 44;
const swatchColumn = 84;

/** The size the overlay is drawn at: a grid of `side` pixels, the CLS swatch, title and legend. */
export function patchOverlayDims(side = 240): ChartDims {
  return { width: side + swatchColumn + 8, height: titleHeight + side + 12 + legendHeight };
}

/**
 * Per token, the weight to shade: the hovered query's row (where it attends), else the hovered
 * key's column (who attends to it), else each key's column mean over all queries (the mean
 * attention it receives; the ViT's map has no mask, so every query counts).
 */
export function overlayWeights(map: HeadMap, hover: MapHover): Float64Array {
  const T = map.tokens;
  const at = (i: number, j: number) => map.probabilities[map.offset + i * T + j];
  const weights = new Float64Array(T);
  for (let t = 0; t < T; t++) {
    if (hover.query !== null) weights[t] = at(hover.query, t);
    else if (hover.key !== null) weights[t] = at(t, hover.key);
    else {
      for (let i = 0; i < T; i++) weights[t] += at(i, t);
      weights[t] /= T;
    }
  }
  return weights;
}

/** One line that says what the shading is. */
export function overlayCaption(hover: MapHover, labels: readonly string[]): string {
  if (hover.query !== null) return `Where query ${labels[hover.query]} attends`;
  if (hover.key !== null) return `Who attends to key ${labels[hover.key]}`;
  return `Mean attention each token receives (over ${labels.length} queries)`;
}

/** The token whose row or column is shown, outlined dashed; null for the mean. */
const focusToken = (hover: MapHover) => hover.query ?? hover.key;

/** The digit with its patch grid shaded by `weights`, the class token's share beside it, and a legend. */
export function patchOverlayChart(view: PatchOverlayView, dims: ChartDims, document: Document): SVGSVGElement {
  const { layout, labels, weights, hover } = view;
  const side = Math.min(dims.width - swatchColumn - 8, dims.height - titleHeight - 12 - legendHeight);
  const svg = chartRoot(document, dims, overlayLabel(view)).attr('class', 'patch-overlay');
  svg.attr('data-mode', hover.query !== null ? 'query' : hover.key !== null ? 'key' : 'mean');
  svg.attr('data-query', hover.query).attr('data-key', hover.key);
  svg.append('text').attr('class', 'overlay-title').attr('y', 14).attr('font-size', 12).attr('fill', ink).text(overlayCaption(hover, labels));

  const grid = svg.append('g').attr('transform', `translate(0,${titleHeight})`);
  const cellWidth = side / layout.gridCols;
  const cellHeight = side / layout.gridRows;
  const heat = grid.append('g').attr('class', 'patch-heat');
  for (let row = 0; row < layout.gridRows; row++) {
    for (let col = 0; col < layout.gridCols; col++) {
      const token = patchToken(layout, row, col);
      heat
        .append('rect')
        .attr('class', 'patch')
        .attr('data-token', token)
        .attr('data-weight', weights[token].toFixed(4))
        .attr('x', col * cellWidth)
        .attr('y', row * cellHeight)
        .attr('width', cellWidth)
        .attr('height', cellHeight)
        .attr('fill', attentionColor(weights[token]))
        .append('title')
        .text(`${labels[token]}: ${weights[token].toFixed(3)}`);
    }
  }
  // The ink on top, half transparent: the digit's strokes stay readable and the heat shows through.
  const digit = digitImageSvg(view.image, view.shape, { maxValue: view.maxValue, size: side, label: '', background: false }, document);
  d3.select(digit).attr('class', 'overlay-digit').attr('role', null).attr('aria-label', null).attr('opacity', 0.3).attr('pointer-events', 'none');
  grid.node()!.appendChild(digit);
  drawPatchMarks(grid, view, cellWidth, cellHeight);

  if (layout.clsToken) drawClsSwatch(svg.append('g').attr('transform', `translate(${side + 16},${titleHeight})`), view);
  drawLegend(svg.append('g').attr('transform', `translate(0,${titleHeight + side + 12})`));
  return svg.node()!;
}

/** Grid lines, each patch's label and weight, sinks outlined in the map's orange, the focus token dashed. */
function drawPatchMarks(grid: d3.Selection<SVGGElement, unknown, null, undefined>, view: PatchOverlayView, cellWidth: number, cellHeight: number): void {
  const { layout, labels, weights } = view;
  const marks = grid.append('g').attr('class', 'patch-marks').attr('pointer-events', 'none').attr('font-size', fontSize).attr('fill', ink);
  // A white halo under the text keeps it readable over dark heat and ink alike.
  const halo = (text: d3.Selection<SVGTextElement, unknown, null, undefined>) => text.attr('stroke', '#fff').attr('stroke-width', 3).attr('paint-order', 'stroke');
  for (let row = 0; row < layout.gridRows; row++) {
    for (let col = 0; col < layout.gridCols; col++) {
      const token = patchToken(layout, row, col);
      const [x, y] = [col * cellWidth, row * cellHeight];
      marks.append('rect').attr('class', 'patch-line').attr('x', x).attr('y', y).attr('width', cellWidth).attr('height', cellHeight).attr('fill', 'none').attr('stroke', '#9aa6b8');
      halo(marks.append('text').attr('class', 'patch-label').attr('x', x + 3).attr('y', y + 11).text(labels[token]));
      halo(marks.append('text').attr('class', 'patch-weight').attr('x', x + cellWidth / 2).attr('y', y + cellHeight / 2 + 8).attr('text-anchor', 'middle').attr('font-size', 12).text(weights[token].toFixed(2)));
    }
  }
  const outline = (token: number, cls: string, stroke: string, dash?: string) => {
    const p = token - (layout.clsToken ? 1 : 0);
    const [row, col] = [Math.floor(p / layout.gridCols), p % layout.gridCols];
    marks.append('rect').attr('class', cls).attr('data-token', token).attr('x', col * cellWidth + 2).attr('y', row * cellHeight + 2).attr('width', cellWidth - 4).attr('height', cellHeight - 4).attr('fill', 'none').attr('stroke', stroke).attr('stroke-width', 3).attr('stroke-dasharray', dash ?? null);
  };
  const isPatch = (token: number) => !layout.clsToken || token > 0;
  for (const j of view.sinks) if (isPatch(j)) outline(j, 'patch-sink', sinkColor);
  const focus = focusToken(view.hover);
  if (focus !== null && isPatch(focus)) outline(focus, 'patch-focus', ink, '5 3');
}

/** The class token's weight: a swatch of the same scale, since it has no place in the image. */
function drawClsSwatch(g: d3.Selection<SVGGElement, unknown, null, undefined>, view: PatchOverlayView): void {
  const weight = view.weights[0];
  const size = 48;
  g.append('rect')
    .attr('class', 'cls-swatch')
    .attr('data-weight', weight.toFixed(4))
    .attr('width', size)
    .attr('height', size)
    .attr('fill', attentionColor(weight))
    .attr('stroke', view.sinks.includes(0) ? sinkColor : focusToken(view.hover) === 0 ? ink : '#9aa6b8')
    .attr('stroke-width', view.sinks.includes(0) || focusToken(view.hover) === 0 ? 3 : 1)
    .attr('stroke-dasharray', focusToken(view.hover) === 0 && !view.sinks.includes(0) ? '5 3' : null);
  const text = g.append('g').attr('font-size', fontSize).attr('fill', ink);
  text.append('text').attr('class', 'cls-share').attr('y', size + 14).attr('font-size', 12).text(`${view.labels[0]} ${weight.toFixed(2)}`);
  text.append('text').attr('y', size + 28).text('class token:');
  text.append('text').attr('y', size + 40).text('no place in');
  text.append('text').attr('y', size + 52).text('the image');
}

/** The colour scale (the map's), the sink outline and the dashed focus outline. */
function drawLegend(g: d3.Selection<SVGGElement, unknown, null, undefined>): void {
  g.attr('class', 'legend').attr('font-size', fontSize).attr('fill', ink);
  const gradient = g.append('defs').append('linearGradient').attr('id', 'patch-overlay-scale');
  for (const t of d3.range(0, 1.01, 0.1)) gradient.append('stop').attr('offset', t).attr('stop-color', attentionColor(t * t));
  g.append('text').attr('y', 10).text('attention (√ scale)');
  g.append('rect').attr('y', 14).attr('width', 100).attr('height', 10).attr('fill', 'url(#patch-overlay-scale)').attr('stroke', '#9aa6b8');
  for (const a of [0, 0.1, 0.5, 1]) {
    g.append('text').attr('x', Math.sqrt(a) * 100).attr('y', 35).attr('text-anchor', a === 0 ? 'start' : a === 1 ? 'end' : 'middle').text(String(a));
  }
  const keys = g.append('g').attr('transform', 'translate(118,0)');
  keys.append('rect').attr('y', 4).attr('width', 14).attr('height', 10).attr('fill', 'none').attr('stroke', sinkColor).attr('stroke-width', 2);
  keys.append('text').attr('x', 18).attr('y', 13).text('sink key');
  keys.append('rect').attr('y', 22).attr('width', 14).attr('height', 10).attr('fill', 'none').attr('stroke', ink).attr('stroke-width', 2).attr('stroke-dasharray', '4 2');
  keys.append('text').attr('x', 18).attr('y', 31).text('query or key shown');
}

/** The accessible name: what is shaded, the three largest weights, the class token's share, the sinks. */
function overlayLabel(view: PatchOverlayView): string {
  const { labels, weights } = view;
  const top = Array.from(weights, (w, t) => ({ w, t }))
    .filter(({ t }) => !view.layout.clsToken || t > 0)
    .sort((a, b) => b.w - a.w)
    .slice(0, 3)
    .map(({ w, t }) => `${labels[t]} ${w.toFixed(2)}`);
  const cls = view.layout.clsToken ? `; class token ${weights[0].toFixed(2)}` : '';
  const sinks = view.sinks.length > 0 ? `; sinks ${view.sinks.map((j) => labels[j]).join(', ')}` : '';
  return `Input digit with its ${view.layout.gridRows} × ${view.layout.gridCols} patch grid. ${overlayCaption(view.hover, labels)}: highest ${top.join(', ')}${cls}${sinks}.`;
}
