// Post-softmax attention maps of one head (queries × keys, capture.ts): a small thumbnail for the
// grid of heads, and the full map with token labels, sink columns marked, and hover read-outs —
// hover a cell or a query label to see where that query attends, a key label to see who attends
// to that key (bertviz's and Transformer Explainer's two questions). One colour scale for both,
// fixed to [0, 1] so that heads and layers compare; √ so the small weights off the sinks show.
import * as d3 from 'd3';
import { chartRoot, type ChartDims } from './svg';

export interface HeadMap {
  /** T: queries = keys. */
  tokens: number;
  /** (T, T) row-major [query][key], starting at `offset`. */
  probabilities: Float32Array;
  offset: number;
  /** Keys j > i are masked for query i (the LM's causal mask). */
  causal: boolean;
}

export interface AttentionMapView extends HeadMap {
  /** One label per token: the character (LM) or the patch index (ViT). */
  labels: string[];
  /** Sink keys of this head (stats.ts), ascending. */
  sinks: number[];
  /** The sink threshold τ the sinks were found with. */
  threshold: number;
  title: string;
}

const fontSize = 10;
const ink = '#1d2430';
const sinkColor = '#d9480f';
/** Darker than the palest attention colour, so a masked cell never reads as a near-zero weight. */
const maskedColor = '#d5d9df';
/** Most cells per side of a thumbnail: longer inputs are averaged over blocks of tokens. */
const thumbnailCells = 32;

export const attentionColor = (a: number) => d3.interpolateBlues(Math.sqrt(Math.max(0, Math.min(1, a))));

const at = (map: HeadMap, query: number, key: number) => map.probabilities[map.offset + query * map.tokens + key];

/** A head's map in at most `thumbnailCells`² squares (block means), with its sink columns underlined. */
export function headThumbnail(map: HeadMap, sinks: readonly number[], dims: ChartDims, document: Document): SVGSVGElement {
  const svg = chartRoot(document, dims, '').attr('aria-hidden', 'true').attr('class', 'attention-thumbnail');
  svg.attr('role', null).attr('aria-label', null);
  const cells = Math.min(map.tokens, thumbnailCells);
  const per = map.tokens / cells;
  const side = Math.min(dims.width, dims.height - 3);
  const size = side / cells;
  for (let r = 0; r < cells; r++) {
    for (let c = 0; c < cells; c++) {
      const [q0, q1, k0, k1] = [Math.floor(r * per), Math.floor((r + 1) * per), Math.floor(c * per), Math.floor((c + 1) * per)];
      let sum = 0;
      for (let q = q0; q < q1; q++) for (let k = k0; k < k1; k++) sum += at(map, q, k);
      const masked = map.causal && k0 > q1 - 1;
      svg
        .append('rect')
        .attr('x', c * size)
        .attr('y', r * size)
        .attr('width', size + 0.05)
        .attr('height', size + 0.05)
        .attr('fill', masked ? maskedColor : attentionColor(sum / (q1 - q0)));
    }
  }
  for (const j of sinks) {
    svg
      .append('rect')
      .attr('class', 'sink-mark')
      .attr('x', Math.floor(j / per) * size)
      .attr('y', side)
      .attr('width', Math.max(size, 2))
      .attr('height', 3)
      .attr('fill', sinkColor);
  }
  return svg.node()!;
}

/** The legend row: the colour scale with its ends labelled, the sink mark and the masked cell. */
function legend(svg: d3.Selection<SVGSVGElement, unknown, null, undefined>, causal: boolean, threshold: number): void {
  const g = svg.append('g').attr('class', 'legend').attr('font-size', fontSize).attr('fill', ink);
  const gradient = svg.append('defs').append('linearGradient').attr('id', 'attention-scale');
  for (const t of d3.range(0, 1.01, 0.1)) gradient.append('stop').attr('offset', t).attr('stop-color', attentionColor(t * t));
  g.append('text').attr('y', 10).text('attention probability (√ scale)');
  g.append('rect').attr('y', 14).attr('width', 120).attr('height', 10).attr('fill', 'url(#attention-scale)').attr('stroke', '#9aa6b8');
  for (const a of [0, 0.1, 0.5, 1]) {
    const x = Math.sqrt(a) * 120;
    g.append('text').attr('x', x).attr('y', 35).attr('text-anchor', a === 0 ? 'start' : a === 1 ? 'end' : 'middle').text(String(a));
  }
  const sink = g.append('g').attr('transform', 'translate(150,0)');
  sink.append('rect').attr('y', 14).attr('width', 14).attr('height', 10).attr('fill', 'none').attr('stroke', sinkColor).attr('stroke-width', 2);
  sink.append('text').attr('x', 18).attr('y', 23).text(`▼ sink key: mean attention it receives > τ = ${threshold}`);
  if (causal) {
    const masked = g.append('g').attr('transform', 'translate(420,0)');
    masked.append('rect').attr('y', 14).attr('width', 14).attr('height', 10).attr('fill', maskedColor).attr('stroke', '#9aa6b8');
    masked.append('text').attr('x', 18).attr('y', 23).text('masked (a query sees no later key)');
  }
}

const legendHeight = 44;
const axisRoom = 40;
const readoutHeight = 18;

/** Width and height the full map needs for `tokens` tokens at `width` pixels. */
export function attentionMapHeight(tokens: number, width: number): number {
  const cell = Math.min(28, (width - axisRoom - 8) / tokens);
  return legendHeight + axisRoom + cell * tokens + readoutHeight + 16;
}

/** The full map of one head: rows are queries, columns keys, sinks outlined and marked "sink". */
export function attentionMapChart(view: AttentionMapView, dims: ChartDims, document: Document): SVGSVGElement {
  const T = view.tokens;
  const svg = chartRoot(document, dims, `${view.title}: ${T} × ${T} attention map, rows are queries, columns keys; ${view.sinks.length} sink key(s)`).attr('class', 'attention-map').attr('data-tokens', T);
  legend(svg, view.causal, view.threshold);
  const cell = Math.min(28, (dims.width - axisRoom - 8) / T);
  const plot = svg.append('g').attr('transform', `translate(${axisRoom},${legendHeight + axisRoom})`);
  const cells = plot.append('g').attr('class', 'cells');
  for (let i = 0; i < T; i++) {
    for (let j = 0; j < T; j++) {
      const masked = view.causal && j > i;
      cells
        .append('rect')
        .attr('x', j * cell)
        .attr('y', i * cell)
        .attr('width', cell + 0.05)
        .attr('height', cell + 0.05)
        .attr('fill', masked ? maskedColor : attentionColor(at(view, i, j)));
    }
  }
  const showLabel = (k: number) => cell >= 7 || k % Math.ceil(7 / cell) === 0;
  const labelText = (k: number) => (view.labels[k] === ' ' ? '␣' : view.labels[k] === '\n' ? '⏎' : view.labels[k]);
  const keys = plot.append('g').attr('class', 'key-labels').attr('font-size', fontSize).attr('fill', ink);
  const queries = plot.append('g').attr('class', 'query-labels').attr('font-size', fontSize).attr('fill', ink);
  for (let k = 0; k < T; k++) {
    if (!showLabel(k)) continue;
    keys.append('text').attr('data-key', k).attr('x', k * cell + cell / 2).attr('y', -4).attr('text-anchor', 'middle').text(labelText(k));
    queries.append('text').attr('data-query', k).attr('x', -4).attr('y', k * cell + cell / 2 + 3).attr('text-anchor', 'end').text(labelText(k));
  }
  plot.append('text').attr('x', (T * cell) / 2).attr('y', -28).attr('text-anchor', 'middle').attr('font-size', fontSize).attr('fill', ink).text('keys (attended to) →');
  plot.append('text').attr('transform', `translate(-30,${(T * cell) / 2}) rotate(-90)`).attr('text-anchor', 'middle').attr('font-size', fontSize).attr('fill', ink).text('queries →');
  for (const j of view.sinks) {
    plot.append('rect').attr('class', 'sink-column').attr('x', j * cell).attr('y', 0).attr('width', cell).attr('height', T * cell).attr('fill', 'none').attr('stroke', sinkColor).attr('stroke-width', 2);
    plot.append('text').attr('class', 'sink-mark').attr('x', j * cell + cell / 2).attr('y', -16).attr('text-anchor', 'middle').attr('font-size', 11).attr('fill', sinkColor).text('▼');
  }

  // Hover: dim everything but the hovered query row and key column; the read-out names the cell.
  const dim = plot.append('g').attr('class', 'hover').attr('pointer-events', 'none');
  const readout = svg.append('text').attr('class', 'readout').attr('x', axisRoom).attr('y', legendHeight + axisRoom + T * cell + readoutHeight).attr('font-size', 11).attr('fill', ink);
  const show = (query: number | null, key: number | null) => {
    dim.selectAll('*').remove();
    const veil = (x: number, y: number, w: number, h: number) => w > 0 && h > 0 && dim.append('rect').attr('x', x).attr('y', y).attr('width', w).attr('height', h).attr('fill', '#fff').attr('opacity', 0.7);
    if (query !== null) {
      veil(0, 0, T * cell, query * cell);
      veil(0, (query + 1) * cell, T * cell, (T - query - 1) * cell);
    }
    if (key !== null) {
      veil(0, query === null ? 0 : query * cell, key * cell, query === null ? T * cell : cell);
      veil((key + 1) * cell, query === null ? 0 : query * cell, (T - key - 1) * cell, query === null ? T * cell : cell);
    }
    const q = query !== null ? `query ${query} “${labelText(query)}”` : '';
    const k = key !== null ? `key ${key} “${labelText(key)}”` : '';
    if (query !== null && key !== null) readout.text(`${q} → ${k}: ${view.causal && key > query ? 'masked' : at(view, query, key).toFixed(3)}`);
    else if (query !== null) readout.text(`${q}: where it attends (its row)`);
    else if (key !== null) readout.text(`${k}: who attends to it (its column)${view.sinks.includes(key) ? ' — a sink' : ''}`);
    else readout.text('Hover a cell, a query (left) or a key (top).');
  };
  show(null, null);
  const pick = (event: MouseEvent) => {
    const [x, y] = d3.pointer(event, plot.node());
    const col = Math.floor(x / cell);
    const row = Math.floor(y / cell);
    const inside = (v: number) => v >= 0 && v < T;
    if (inside(row) && inside(col)) show(row, col);
    else if (inside(row) && x < 0) show(row, null);
    else if (inside(col) && y < 0) show(null, col);
    else show(null, null);
  };
  svg.on('mousemove', pick).on('mouseleave', () => show(null, null));
  return svg.node()!;
}
