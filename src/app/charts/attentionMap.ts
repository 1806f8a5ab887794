// Post-softmax attention maps of one head (queries × keys, capture.ts): a small thumbnail for the
// grid of heads, and the full map with token labels, sink columns marked, and hover read-outs —
// hover a cell or a query label to see where that query attends, a key label to see who attends
// to that key (bertviz's and Transformer Explainer's two questions). One colour scale for both,
// fixed to [0, 1] so that heads and layers compare; √ so the small weights off the sinks show.
// The ACT comparison puts the same head after ACT (act.ts's actEditHead, the formula the exported
// graph computes) and the change beside it, on a diverging scale symmetric around 0, with one
// hover shared by the panels and a read-out of all three values.
import * as d3 from 'd3';
import { actEditHead, findSinks, sinkScores, thresholdValue, type ActParams } from '../../core/attention/act';
import { cellBitmap } from './cellBitmap';
import { chartRoot, type ChartDims, type SvgRoot } from './svg';

export interface HeadMap {
  /** T: queries = keys. */
  tokens: number;
  /** (T, T) row-major [query][key], starting at `offset`. */
  probabilities: Float32Array | Float64Array;
  offset: number;
  /** Keys j > i are masked for query i (the LM's causal mask). */
  causal: boolean;
}

export interface AttentionMapView extends HeadMap {
  /** One label per token: the character (LM), or the patch position (ViT: "CLS", "r0c0" …, core/attention/patches.ts). */
  labels: string[];
  /** Sink keys of this head (stats.ts), ascending. */
  sinks: number[];
  /** The sink threshold τ the sinks were found with. */
  threshold: number;
  title: string;
  /** Told the hovered query and key whenever they change (null: none), so a view beside the map can follow. */
  onHover?: (hover: MapHover) => void;
}

export interface MapHover {
  query: number | null;
  key: number | null;
}

const fontSize = 10;
const ink = '#1d2430';
export const sinkColor = '#d9480f';
/** Darker than the palest attention colour, so a masked cell never reads as a near-zero weight. */
const maskedColor = '#d5d9df';
/** Most cells per side of a thumbnail: longer inputs are averaged over blocks of tokens. */
const thumbnailCells = 32;

export const attentionColor = (a: number) => d3.interpolateBlues(Math.sqrt(Math.max(0, Math.min(1, a))));

const at = (map: HeadMap, query: number, key: number) => map.probabilities[map.offset + query * map.tokens + key];

/** A head's map in at most `thumbnailCells`² squares (block means, one image), with its sink columns underlined. */
export function headThumbnail(map: HeadMap, sinks: readonly number[], dims: ChartDims, document: Document): SVGSVGElement {
  const svg = chartRoot(document, dims, '').attr('aria-hidden', 'true').attr('class', 'attention-thumbnail');
  svg.attr('role', null).attr('aria-label', null);
  const cells = Math.min(map.tokens, thumbnailCells);
  const per = map.tokens / cells;
  const side = Math.min(dims.width, dims.height - 3);
  const size = side / cells;
  const blockColor = (r: number, c: number) => {
    const [q0, q1, k0, k1] = [Math.floor(r * per), Math.floor((r + 1) * per), Math.floor(c * per), Math.floor((c + 1) * per)];
    if (map.causal && k0 > q1 - 1) return maskedColor;
    let sum = 0;
    for (let q = q0; q < q1; q++) for (let k = k0; k < k1; k++) sum += at(map, q, k);
    return attentionColor(sum / (q1 - q0));
  };
  svg
    .append('image')
    .attr('class', 'cells')
    .attr('data-cells', cells * cells)
    .attr('width', side)
    .attr('height', side)
    .attr('preserveAspectRatio', 'none')
    .attr('style', 'image-rendering: pixelated')
    .attr('href', cellBitmap(cells, cells, blockColor));
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

/** Signed √ on RdBu around 0, symmetric over [−extent, extent]: red where ACT took attention away. */
export function changeColor(extent: number): (change: number) => string {
  return (v) => d3.interpolateRdBu(extent > 0 ? 0.5 + 0.5 * Math.sign(v) * Math.sqrt(Math.min(1, Math.abs(v) / extent)) : 0.5);
}

type Group = d3.Selection<SVGGElement, unknown, null, undefined>;

/** The probability scale with its ends labelled, the sink mark and the masked cell. */
function probabilityLegend(g: Group, causal: boolean, threshold: number): void {
  const gradient = g.append('defs').append('linearGradient').attr('id', 'attention-scale');
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

/** The change scale: −extent … 0 … +extent, the same √ as the cells. */
function changeLegend(g: Group, extent: number): void {
  const color = changeColor(extent);
  const gradient = g.append('defs').append('linearGradient').attr('id', 'attention-change-scale');
  for (const t of d3.range(-1, 1.01, 0.1)) gradient.append('stop').attr('offset', (t + 1) / 2).attr('stop-color', color(Math.sign(t) * t * t * extent));
  g.append('text').attr('y', 10).text('change, after ACT − original (signed √ scale): red = ACT took attention away, blue = ACT gave it');
  g.append('rect').attr('y', 14).attr('width', 240).attr('height', 10).attr('fill', 'url(#attention-change-scale)').attr('stroke', '#9aa6b8');
  // No change at all (ACT leaves the head alone): one tick, not five zeros on top of each other.
  const ticks: [number, string][] = extent > 0 ? [[-extent, 'start'], [-extent / 4, 'middle'], [0, 'middle'], [extent / 4, 'middle'], [extent, 'end']] : [[0, 'middle']];
  for (const [v, anchor] of ticks) {
    const x = 120 + 120 * Math.sign(v) * Math.sqrt(extent > 0 ? Math.abs(v) / extent : 0);
    g.append('text').attr('class', 'change-tick').attr('x', x).attr('y', 35).attr('text-anchor', anchor).text(v === 0 ? '0' : `${v > 0 ? '+' : '−'}${Math.abs(v).toFixed(3)}`);
  }
}

const legendHeight = 44;
const titleRoom = 14;
const axisRoom = 40;
const panelGap = 16;
const readoutHeight = 18;

/** One map of a chart: what its cells show and in which colours. */
interface Panel {
  kind: ComparePanel;
  title: string;
  values: HeadMap;
  color: (value: number) => string;
}

interface MapsLayout {
  tokens: number;
  cell: number;
  /** Distance from one panel's left edge to the next one's. */
  pitch: number;
  top: number;
}

function mapsLayout(tokens: number, width: number, panels: number, legends: number): MapsLayout {
  const between = axisRoom + panelGap; // each further panel has its own query labels
  const cell = Math.min(28, (width - axisRoom - 8 - (panels - 1) * between) / (panels * tokens));
  const top = legends * legendHeight + (panels > 1 ? titleRoom : 0) + axisRoom;
  return { tokens, cell, pitch: tokens * cell + between, top };
}

const mapsHeight = (layout: MapsLayout) => layout.top + layout.cell * layout.tokens + readoutHeight + 16;

/** Width and height the full map needs for `tokens` tokens at `width` pixels. */
export function attentionMapHeight(tokens: number, width: number): number {
  return mapsHeight(mapsLayout(tokens, width, 1, 1));
}

const labelText = (label: string) => (label === ' ' ? '␣' : label === '\n' ? '⏎' : label);
/** A panel's cells as one image, its token labels, axis titles and sink columns; returns its hover update. */
function drawPanel(plot: Group, panel: Panel, layout: MapsLayout, labels: readonly string[], sinks: readonly number[], title: string | null): (query: number | null, key: number | null) => void {
  const { tokens: T, cell } = layout;
  const map = panel.values;
  const side = T * cell;
  plot
    .append('image')
    .attr('class', 'cells')
    .attr('data-panel', panel.kind)
    .attr('data-cells', T * T)
    .attr('width', side)
    .attr('height', side)
    .attr('preserveAspectRatio', 'none')
    .attr('style', 'image-rendering: pixelated')
    .attr('href', cellBitmap(T, T, (i, j) => (map.causal && j > i ? maskedColor : panel.color(at(map, i, j)))));
  const showLabel = (k: number) => cell >= 7 || k % Math.ceil(7 / cell) === 0;
  const keys = plot.append('g').attr('class', 'key-labels').attr('font-size', fontSize).attr('fill', ink);
  const queries = plot.append('g').attr('class', 'query-labels').attr('font-size', fontSize).attr('fill', ink);
  for (let k = 0; k < T; k++) {
    if (!showLabel(k)) continue;
    keys.append('text').attr('data-key', k).attr('x', k * cell + cell / 2).attr('y', -4).attr('text-anchor', 'middle').text(labelText(labels[k]));
    queries.append('text').attr('data-query', k).attr('x', -4).attr('y', k * cell + cell / 2 + 3).attr('text-anchor', 'end').text(labelText(labels[k]));
  }
  if (title !== null) plot.append('text').attr('class', 'panel-title').attr('y', -40).attr('font-size', 12).attr('font-weight', 600).attr('fill', ink).text(title);
  plot.append('text').attr('x', side / 2).attr('y', -28).attr('text-anchor', 'middle').attr('font-size', fontSize).attr('fill', ink).text('keys (attended to) →');
  plot.append('text').attr('transform', `translate(-30,${side / 2}) rotate(-90)`).attr('text-anchor', 'middle').attr('font-size', fontSize).attr('fill', ink).text('queries →');
  for (const j of sinks) {
    plot.append('rect').attr('class', 'sink-column').attr('x', j * cell).attr('y', 0).attr('width', cell).attr('height', side).attr('fill', 'none').attr('stroke', sinkColor).attr('stroke-width', 2);
    plot.append('text').attr('class', 'sink-mark').attr('x', j * cell + cell / 2).attr('y', -16).attr('text-anchor', 'middle').attr('font-size', 11).attr('fill', sinkColor).text('▼');
  }
  return hoverMarks(plot, T, cell);
}

/**
 * Hover: outlines of the hovered query row, key column and cell, made once and only moved. Not
 * veils dimming the rest: a veil over most of the map makes the browser repaint all of it on every
 * move (50 ms frames on a 128-token map in headless Chromium); a thin band repaints a thin band.
 */
function hoverMarks(plot: Group, T: number, cell: number): (query: number | null, key: number | null) => void {
  const layer = plot.append('g').attr('class', 'hover').attr('pointer-events', 'none').attr('fill', 'none');
  const band = () => layer.append('rect').attr('stroke', ink).attr('stroke-width', 1.5).attr('visibility', 'hidden');
  const [row, column] = [band(), band()];
  const target = layer.append('rect').attr('stroke', '#fff').attr('stroke-width', 1).attr('visibility', 'hidden');
  const place = (mark: typeof row, x: number, y: number, width: number, height: number) => mark.attr('x', x).attr('y', y).attr('width', width).attr('height', height).attr('visibility', 'visible');
  return (query, key) => {
    if (query !== null) place(row, 0, query * cell, T * cell, cell);
    else row.attr('visibility', 'hidden');
    if (key !== null) place(column, key * cell, 0, cell, T * cell);
    else column.attr('visibility', 'hidden');
    if (query !== null && key !== null) place(target, key * cell, query * cell, cell, cell);
    else target.attr('visibility', 'hidden');
  };
}

/** What the read-out says for a hovered cell (both set), query row or key column, or nothing. */
type Readout = (query: number | null, key: number | null) => string;

function hoverText(labels: readonly string[], sinks: readonly number[], cellText: (query: number, key: number) => string): Readout {
  return (query, key) => {
    const q = query !== null ? `query ${query} “${labelText(labels[query])}”` : '';
    const k = key !== null ? `key ${key} “${labelText(labels[key])}”` : '';
    if (query !== null && key !== null) return `${q} → ${k}: ${cellText(query, key)}`;
    if (query !== null) return `${q}: where it attends (its row)`;
    if (key !== null) return `${k}: who attends to it (its column)${sinks.includes(key) ? ' — a sink' : ''}`;
    return 'Hover a cell, a query (left) or a key (top).';
  };
}

/** Panels side by side under their legends, one shared hover and read-out. */
function mapsChart(svg: SvgRoot, panels: Panel[], layout: MapsLayout, labels: readonly string[], sinks: readonly number[], readout: Readout, onHover?: (hover: MapHover) => void): void {
  const plots = svg.append('g').attr('class', 'plots').attr('transform', `translate(${axisRoom},${layout.top})`);
  const updates = panels.map((panel, k) => {
    const plot = plots.append('g').attr('class', `panel panel-${panel.kind}`).attr('transform', `translate(${k * layout.pitch},0)`);
    return drawPanel(plot, panel, layout, labels, sinks, panels.length > 1 ? panel.title : null);
  });
  const { tokens: T, cell } = layout;
  const text = svg.append('text').attr('class', 'readout').attr('x', axisRoom).attr('y', layout.top + T * cell + readoutHeight).attr('font-size', 11).attr('fill', ink);
  let hovered: MapHover = { query: null, key: null };
  const show = (query: number | null, key: number | null) => {
    // Reported only when the hovered query or key changes (the ViT's patch overlay follows it).
    if (query !== hovered.query || key !== hovered.key) onHover?.((hovered = { query, key }));
    for (const update of updates) update(query, key);
    text.text(readout(query, key));
  };
  show(null, null);
  const inside = (v: number) => v >= 0 && v < T;
  const pick = (event: MouseEvent) => {
    const [px, y] = d3.pointer(event, plots.node());
    // The panel under the pointer, its query labels (left of it) included.
    const k = Math.max(0, Math.min(panels.length - 1, Math.floor((px + axisRoom) / layout.pitch)));
    const x = px - k * layout.pitch;
    const col = Math.floor(x / cell);
    const row = Math.floor(y / cell);
    if (inside(row) && inside(col)) show(row, col);
    else if (inside(row) && x < 0) show(row, null);
    else if (inside(col) && y < 0) show(null, col);
    else show(null, null);
  };
  svg.on('mousemove', pick).on('mouseleave', () => show(null, null));
}

/** The full map of one head: rows are queries, columns keys, sinks outlined and marked "sink". */
export function attentionMapChart(view: AttentionMapView, dims: ChartDims, document: Document): SVGSVGElement {
  const T = view.tokens;
  const svg = chartRoot(document, dims, `${view.title}: ${T} × ${T} attention map, rows are queries, columns keys; ${view.sinks.length} sink key(s)`).attr('class', 'attention-map').attr('data-tokens', T);
  probabilityLegend(svg.append('g').attr('class', 'legend').attr('font-size', fontSize).attr('fill', ink), view.causal, view.threshold);
  const layout = mapsLayout(T, dims.width, 1, 1);
  const panel: Panel = { kind: 'before', title: 'original', values: view, color: attentionColor };
  const cellText = (query: number, key: number) => (view.causal && key > query ? 'masked' : at(view, query, key).toFixed(3));
  mapsChart(svg, [panel], layout, view.labels, view.sinks, hoverText(view.labels, view.sinks, cellText), view.onHover);
  return svg.node()!;
}

// ---- the ACT comparison --------------------------------------------------------------------

export type ComparePanel = 'before' | 'after' | 'change';

export interface ActComparison {
  params: ActParams;
  /** The τ the sinks were found with (α/T resolved). */
  threshold: number;
  /** Sinks under that τ, and the ones ACT edits: all but the first. */
  sinks: number[];
  edited: number[];
  after: HeadMap;
  change: HeadMap;
  /** max |after − before| over the visible cells: the change scale's half-width. */
  extent: number;
}

/** The head after ACT, computed here with act.ts on the captured map, and the change. */
export function actComparison(map: HeadMap, params: ActParams): ActComparison {
  const T = map.tokens;
  const head = map.probabilities.subarray(map.offset, map.offset + T * T);
  const { sinks, edited } = findSinks(sinkScores(head, T, map.causal), thresholdValue(params.threshold, T));
  const after = actEditHead(head, T, map.causal, params);
  const change = after.map((a, k) => a - head[k]);
  let extent = 0;
  for (let i = 0; i < T; i++) for (let j = 0; j <= (map.causal ? i : T - 1); j++) extent = Math.max(extent, Math.abs(change[i * T + j]));
  const asMap = (probabilities: Float64Array): HeadMap => ({ tokens: T, probabilities, offset: 0, causal: map.causal });
  return { params, threshold: thresholdValue(params.threshold, T), sinks, edited, after: asMap(after), change: asMap(change), extent };
}

export interface ActCompareView {
  original: HeadMap;
  act: ActComparison;
  labels: string[];
  title: string;
  panels: ComparePanel[];
  onHover?: (hover: MapHover) => void;
}

const signed = (v: number) => `${v > 0 ? '+' : v < 0 ? '−' : '±'}${Math.abs(v).toFixed(3)}`;

/** Width and height the comparison needs for `tokens` tokens and `panels` maps at `width` pixels. */
export function actCompareHeight(tokens: number, width: number, panels: readonly ComparePanel[]): number {
  return mapsHeight(mapsLayout(tokens, width, panels.length, panels.includes('change') ? 2 : 1));
}

/** The chosen panels (original, after ACT, change) of one head, one hover, a read-out of all three. */
export function actCompareChart(view: ActCompareView, dims: ChartDims, document: Document): SVGSVGElement {
  const { original, act, labels } = view;
  const T = original.tokens;
  const label = `${view.title}: ${view.panels.join(', ')} maps (${T} × ${T}) for ACT with β = ${act.params.beta}, τ = ${act.threshold}; largest change ${act.extent.toFixed(3)}`;
  const svg = chartRoot(document, dims, label).attr('class', 'attention-map attention-compare').attr('data-tokens', T);
  const legends = svg.append('g').attr('class', 'legend').attr('font-size', fontSize).attr('fill', ink);
  probabilityLegend(legends.append('g'), original.causal, act.threshold);
  if (view.panels.includes('change')) changeLegend(legends.append('g').attr('transform', `translate(0,${legendHeight})`), act.extent);
  const all: Record<ComparePanel, Panel> = {
    before: { kind: 'before', title: 'original (captured)', values: original, color: attentionColor },
    after: { kind: 'after', title: `after ACT (β ${act.params.beta}, τ ${act.threshold})`, values: act.after, color: attentionColor },
    change: { kind: 'change', title: 'change (after − original)', values: act.change, color: changeColor(act.extent) },
  };
  const panels = view.panels.map((kind) => all[kind]);
  const layout = mapsLayout(T, dims.width, panels.length, view.panels.includes('change') ? 2 : 1);
  const cellText = (query: number, key: number) =>
    original.causal && key > query ? 'masked' : `original ${at(original, query, key).toFixed(3)}, after ACT ${at(act.after, query, key).toFixed(3)}, change ${signed(at(act.change, query, key))}`;
  mapsChart(svg, panels, layout, labels, act.sinks, hoverText(labels, act.sinks, cellText), view.onHover);
  return svg.node()!;
}
