// One weight matrix (W is C_out × C_in) after pruning. Two panels: an overview of the share of
// kept weights per cell of an exact, group-aligned grid (maskOverview.ts) with the detail window's
// outline, and the window itself, one square per weight: kept weights coloured by |w|, pruned ones
// hatched, with guides every M columns (N:M groups) and every V rows (V:N:M tiles).
// Dragging on the overview, or the arrow keys on the focused overview, move the window; the chart
// redraws its own window and reports the new origin through onWindowChange, so a parent need not
// re-render it (re-rendering mid-drag would end the drag and drop keyboard focus).
import * as d3 from 'd3';
import { maskOverview, overviewCell, overviewNote } from './maskOverview';
import { chartRoot, type ChartDims, type SvgRoot } from './svg';

export interface MaskWindow {
  row: number;
  col: number;
  rows: number;
  cols: number;
}

export interface MaskChartData {
  rows: number;
  cols: number;
  /** Row-major, 1 = kept. */
  keep: Uint8Array;
  /** Row-major |w|; without it every kept weight has one colour. */
  magnitude?: Float32Array;
  /** Top-left and size of the detail window, in weights; clamped to the matrix. */
  window: MaskWindow;
  /** Pattern group sizes to draw as guides: M of N:M, V of V:N:M. */
  groupCols?: number;
  groupRows?: number;
}

export interface MaskChartOptions {
  /** Called with the window's new top-left (clamped, snapped to the groups) after a drag step or key press. */
  onWindowChange?: (row: number, col: number) => void;
  /** Prefix of the ids of the chart's gradients and hatch pattern; one per chart on a page. */
  idPrefix?: string;
}

type G = d3.Selection<SVGGElement, unknown, null, undefined>;

const gap = 28;
const legendRow = 40;
const captionLines = 4;
const captionHeight = captionLines * 13 + 4;
/** Estimated width of a character of the 10 px font (jsdom has no text metrics; over-estimate). */
const charWidth = 5.8;
/** Smallest overview cell on screen, in px; sets how many cells the overview grid may have. */
const minOverviewCellPx = 4;
const fontSize = 10;
const prunedFill = (id: string) => `url(#${id}-pruned)`;
const densityColor = (share: number) => d3.interpolatePurples(share);
/** Blues from 0.35 up: the weakest kept weight stays clearly apart from the pale hatched pruned cells. */
const magnitudeColor = (t: number) => d3.interpolateBlues(0.35 + 0.65 * t);
const flatKeptColor = magnitudeColor(0.75);
/** Two significant digits without exponent or trailing zeros: 0.0021, 0.24, 100. */
const formatMagnitude = d3.format('.2~r');

export interface MagnitudeDomain {
  lo: number;
  hi: number;
  /** Some kept |w| lie above hi and share its colour. */
  clipped: boolean;
}

/** Kept weights sampled for the percentile: every one up to this many, else an even stride. */
const percentileSample = 65536;

/**
 * The |w| colour scale's domain: the smallest kept |w| up to the 99th percentile of kept |w|. A few
 * outlier weights (common in transformer layers) would otherwise push every other cell to the
 * palest colour; above the percentile the darkest colour is used, and the legend says "≥".
 */
export function magnitudeDomain(keep: Uint8Array, magnitude: Float32Array): MagnitudeDomain {
  let kept = 0;
  let lo = Infinity;
  let max = -Infinity;
  for (let i = 0; i < keep.length; i++)
    if (keep[i]) {
      kept += 1;
      lo = Math.min(lo, magnitude[i]);
      max = Math.max(max, magnitude[i]);
    }
  if (kept === 0) return { lo: 0, hi: 1, clipped: false };
  const stride = Math.max(1, Math.floor(kept / percentileSample));
  const sample: number[] = [];
  for (let i = 0, k = 0; i < keep.length; i++) if (keep[i] && k++ % stride === 0) sample.push(magnitude[i]);
  sample.sort((a, b) => a - b);
  const hi = sample[Math.min(sample.length - 1, Math.ceil(0.99 * sample.length) - 1)];
  return { lo, hi, clipped: hi < max };
}

export function clampWindow(view: Pick<MaskChartData, 'rows' | 'cols'>, w: MaskWindow): MaskWindow {
  const rows = Math.max(1, Math.min(w.rows, view.rows));
  const cols = Math.max(1, Math.min(w.cols, view.cols));
  const clamp = (v: number, max: number) => Math.max(0, Math.min(max, Math.round(v)));
  return { row: clamp(w.row, view.rows - rows), col: clamp(w.col, view.cols - cols), rows, cols };
}

export function maskChart(view: MaskChartData, dims: ChartDims, document: Document, options: MaskChartOptions = {}): SVGSVGElement {
  const id = options.idPrefix ?? 'mask-chart';
  const svg = chartRoot(document, dims, `Keep mask of a ${view.rows} × ${view.cols} weight matrix`).attr('role', 'group').attr('class', 'mask-chart');
  const magnitude = view.magnitude;
  const domain = magnitude && magnitudeDomain(view.keep, magnitude);
  const colorOf = (i: number) => {
    if (!view.keep[i]) return prunedFill(id);
    if (!magnitude || !domain) return flatKeptColor;
    return magnitudeColor(domain.hi > domain.lo ? Math.min(1, Math.max(0, (magnitude[i] - domain.lo) / (domain.hi - domain.lo))) : 1);
  };
  const legendHeight = drawLegend(svg, id, domain, dims.width);
  const half = (dims.width - gap) / 2;
  const panelHeight = dims.height - legendHeight - captionHeight;
  let win = clampWindow(view, view.window);
  const overview = drawOverview(svg.append('g').attr('class', 'overview').attr('transform', `translate(0,${legendHeight})`), view, half, panelHeight);
  const detail = svg.append('g').attr('class', 'window').attr('transform', `translate(${half + gap},${legendHeight})`);
  const redraw = () => {
    overview.showWindow(win);
    drawWindow(detail, view, win, half, panelHeight, colorOf);
  };
  redraw();

  const moveTo = (row: number, col: number) => {
    const snap = (v: number, step = 1) => Math.round(v / step) * step;
    const next = clampWindow(view, { ...win, row: snap(row, view.groupRows), col: snap(col, view.groupCols) });
    if (next.row === win.row && next.col === win.col) return;
    win = next;
    redraw();
    options.onWindowChange?.(win.row, win.col);
  };
  attachWindowMoves(overview.node, overview.scale, () => win, moveTo, view);
  return svg.node()!;
}

/** Gradients, hatch and the legend (wrapped into rows that fit `width`); returns the legend's height. */
function drawLegend(svg: SvgRoot, id: string, domain: MagnitudeDomain | undefined, width: number): number {
  const defs = svg.append('defs');
  const hatch = defs.append('pattern').attr('id', `${id}-pruned`).attr('width', 4).attr('height', 4).attr('patternUnits', 'userSpaceOnUse').attr('patternTransform', 'rotate(45)');
  hatch.append('rect').attr('width', 4).attr('height', 4).attr('fill', '#f7f8fa');
  hatch.append('line').attr('x1', 0).attr('y1', 0).attr('x2', 0).attr('y2', 4).attr('stroke', '#9aa6b8').attr('stroke-width', 1.5);
  const gradient = (suffix: string, color: (t: number) => string) => {
    const g = defs.append('linearGradient').attr('id', `${id}-${suffix}`);
    for (const t of [0, 0.25, 0.5, 0.75, 1]) g.append('stop').attr('offset', t).attr('stop-color', color(t));
    return `url(#${id}-${suffix})`;
  };
  const legend = svg.append('g').attr('class', 'legend').attr('font-size', fontSize).attr('fill', '#1d2430');
  let x = 0;
  let y = 0;
  const place = (w: number) => {
    if (x > 0 && x + w > width) [x, y] = [0, y + legendRow];
    const at = `translate(${x},${y})`;
    x += w;
    return legend.append('g').attr('transform', at);
  };
  const ramp = (title: string, fill: string, lo: string, hi: string) => {
    const item = place(Math.max(100, title.length * charWidth + 16));
    item.append('text').attr('y', 10).text(title);
    item.append('rect').attr('y', 14).attr('width', 80).attr('height', 10).attr('fill', fill).attr('stroke', '#9aa6b8');
    item.append('text').attr('y', 35).text(lo);
    item.append('text').attr('x', 80).attr('y', 35).attr('text-anchor', 'end').text(hi);
  };
  const swatch = (title: string, fill: string) => {
    const item = place(title.length * charWidth + 34);
    item.append('rect').attr('y', 14).attr('width', 14).attr('height', 10).attr('fill', fill).attr('stroke', '#9aa6b8');
    item.append('text').attr('x', 18).attr('y', 23).text(title);
  };
  ramp('overview: share kept', gradient('density', densityColor), '0 %', '100 %');
  if (domain) ramp('window: |w| of kept weights', gradient('magnitude', magnitudeColor), formatMagnitude(domain.lo), `${domain.clipped ? '≥ ' : ''}${formatMagnitude(domain.hi)}`);
  else swatch('kept', flatKeptColor);
  swatch('pruned (w = 0)', prunedFill(id));
  return y + legendRow;
}

/** Caption lines under a panel, each wrapped to the panel's width (jsdom has no text metrics: estimated). */
function caption(g: G, lines: string[], width: number, y0: number): void {
  const perLine = Math.max(8, Math.floor(width / charWidth));
  const wrapped = lines.flatMap((line) => {
    const out = [''];
    for (const word of line.split(' ')) {
      const last = out[out.length - 1];
      if (last && last.length + 1 + word.length > perLine) out.push(word);
      else out[out.length - 1] = last ? `${last} ${word}` : word;
    }
    return out;
  });
  const text = g.append('text').attr('class', 'caption').attr('font-size', fontSize).attr('fill', '#1d2430');
  wrapped.slice(0, captionLines).forEach((line, i) => text.append('tspan').attr('x', 0).attr('y', y0 + 12 + i * 13).text(line));
}

interface OverviewPanel {
  node: SVGGElement;
  /** Pixels per row and per column. */
  scale: { y: number; x: number };
  showWindow(w: MaskWindow): void;
}

function drawOverview(g: G, view: MaskChartData, width: number, height: number): OverviewPanel {
  // Aspect-correct (square weights) unless a side would shrink below a quarter of the panel; then
  // that side is stretched and the note says so.
  const s = Math.min(width / view.cols, height / view.rows);
  const drawW = Math.max(view.cols * s, width / 4);
  const drawH = Math.max(view.rows * s, height / 4);
  const scale = { x: drawW / view.cols, y: drawH / view.rows };
  const o = maskOverview(view.keep, view.rows, view.cols, Math.floor(drawH / minOverviewCellPx), Math.floor(drawW / minOverviewCellPx), view.groupRows, view.groupCols);
  g.attr('tabindex', 0).style('cursor', 'move').style('touch-action', 'none');
  g.append('rect').attr('class', 'frame').attr('width', drawW).attr('height', drawH).attr('fill', '#ffffff').attr('stroke', '#9aa6b8');
  const cells = g.append('g').attr('class', 'cells').attr('shape-rendering', 'crispEdges');
  for (let gr = 0; gr < o.gridRows; gr++)
    for (let gc = 0; gc < o.gridCols; gc++) {
      const c = overviewCell(o, gr, gc);
      cells
        .append('rect')
        .attr('x', +(c.col0 * scale.x).toFixed(2))
        .attr('y', +(c.row0 * scale.y).toFixed(2))
        .attr('width', +(c.cols * scale.x).toFixed(2))
        .attr('height', +(c.rows * scale.y).toFixed(2))
        .attr('data-kept', o.kept[gr * o.gridCols + gc])
        .attr('data-weights', c.rows * c.cols)
        .style('fill', densityColor(c.density));
    }
  const outline = (cls: string, stroke: string, w: number) => g.append('rect').attr('class', cls).attr('fill', 'none').attr('stroke', stroke).attr('stroke-width', w).attr('pointer-events', 'none');
  const halo = outline('window-outline-halo', '#ffffff', 4);
  const line = outline('window-outline', '#d9480f', 2);
  const stretched = Math.abs(scale.x - scale.y) > 1e-9 * Math.max(scale.x, scale.y) ? ' · not to scale' : '';
  caption(g, [`whole matrix, ${view.rows} × ${view.cols}${stretched}`, overviewNote(o)], width, drawH);
  return {
    node: g.node()!,
    scale,
    showWindow(w) {
      // At least 3 px, so a small window on a large matrix stays visible.
      for (const r of [halo, line])
        r.attr('x', +(w.col * scale.x).toFixed(2))
          .attr('y', +(w.row * scale.y).toFixed(2))
          .attr('width', +Math.max(3, w.cols * scale.x).toFixed(2))
          .attr('height', +Math.max(3, w.rows * scale.y).toFixed(2));
      g.attr('aria-label', `Overview of the whole ${view.rows} × ${view.cols} matrix; the window shows rows ${w.row}–${w.row + w.rows - 1}, columns ${w.col}–${w.col + w.cols - 1}. Arrow keys move it, Shift with an arrow by a whole window.`);
    },
  };
}

function drawWindow(g: G, view: MaskChartData, w: MaskWindow, width: number, height: number, colorOf: (i: number) => string): void {
  g.selectAll('*').remove();
  const cell = Math.min(width / w.cols, height / w.rows);
  const px = (v: number) => +(v * cell).toFixed(2);
  const cells = g.append('g').attr('class', 'cells').attr('shape-rendering', 'crispEdges');
  for (let r = 0; r < w.rows; r++)
    for (let c = 0; c < w.cols; c++) {
      const i = (w.row + r) * view.cols + w.col + c;
      cells.append('rect').attr('class', view.keep[i] ? 'kept' : 'pruned').attr('x', px(c)).attr('y', px(r)).attr('width', px(1)).attr('height', px(1)).style('fill', colorOf(i));
    }
  // A guide at every group boundary inside the window, in orange: apart from the blue |w| ramp and
  // the grey hatch for every colour vision (blue–orange is the axis all dichromats keep).
  const guide = (cls: string, x1: number, y1: number, x2: number, y2: number) =>
    g.append('line').attr('class', cls).attr('x1', x1).attr('y1', y1).attr('x2', x2).attr('y2', y2).attr('stroke', '#d9480f').attr('stroke-width', 1.5);
  const m = view.groupCols;
  const v = view.groupRows;
  if (m) for (let c = 1; c < w.cols; c++) if ((w.col + c) % m === 0) guide('nm-guide', px(c), 0, px(c), px(w.rows));
  if (v) for (let r = 1; r < w.rows; r++) if ((w.row + r) % v === 0) guide('v-guide', 0, px(r), px(w.cols), px(r));
  const guides = [m && `guides every ${m} columns (N:M groups)`, v && `every ${v} rows (V:N:M tiles)`].filter(Boolean).join(', ');
  caption(g, [`rows ${w.row}–${w.row + w.rows - 1}, columns ${w.col}–${w.col + w.cols - 1}: one square per weight`, guides].filter(Boolean), width, px(w.rows));
}

/** Drag on the overview (d3.drag: mouse and touch) and arrow keys on the focused overview. */
function attachWindowMoves(node: SVGGElement, scale: { x: number; y: number }, current: () => MaskWindow, moveTo: (row: number, col: number) => void, view: MaskChartData): void {
  // The grab offset inside the window, in weights: a drag that starts on the window keeps it under
  // the pointer; one that starts elsewhere centres the window on the pointer.
  let grab = { row: 0, col: 0 };
  const at = (e: { x: number; y: number }) => ({ row: e.y / scale.y, col: e.x / scale.x });
  const drag = d3
    .drag<SVGGElement, unknown>()
    .container(function () {
      return this;
    })
    // d3-drag's default test reads the global `navigator`, which Node 20 lacks; ask the element's window.
    .touchable(function () {
      return (this.ownerDocument.defaultView?.navigator.maxTouchPoints ?? 0) > 0 || 'ontouchstart' in this;
    })
    .on('start', (e: d3.D3DragEvent<SVGGElement, unknown, unknown>) => {
      const p = at(e);
      const w = current();
      const inside = p.row >= w.row && p.row < w.row + w.rows && p.col >= w.col && p.col < w.col + w.cols;
      grab = inside ? { row: p.row - w.row, col: p.col - w.col } : { row: w.rows / 2, col: w.cols / 2 };
      if (!inside) moveTo(p.row - grab.row, p.col - grab.col);
      node.focus();
    })
    .on('drag', (e: d3.D3DragEvent<SVGGElement, unknown, unknown>) => {
      const p = at(e);
      moveTo(p.row - grab.row, p.col - grab.col);
    });
  d3.select(node)
    .call(drag)
    .on('keydown', (event: KeyboardEvent) => {
      const w = current();
      // A quarter window per press (at least one group), a whole window with Shift.
      const stepRows = event.shiftKey ? w.rows : Math.max(view.groupRows ?? 1, Math.round(w.rows / 4));
      const stepCols = event.shiftKey ? w.cols : Math.max(view.groupCols ?? 1, Math.round(w.cols / 4));
      const moves: Record<string, [number, number]> = {
        ArrowUp: [w.row - stepRows, w.col],
        ArrowDown: [w.row + stepRows, w.col],
        ArrowLeft: [w.row, w.col - stepCols],
        ArrowRight: [w.row, w.col + stepCols],
        PageUp: [w.row - w.rows, w.col],
        PageDown: [w.row + w.rows, w.col],
        Home: [w.row, 0],
        End: [w.row, view.cols],
      };
      const move = moves[event.key];
      if (!move) return;
      event.preventDefault();
      moveTo(...move);
    });
}
