// The keep mask of one weight matrix (W is C_out × C_in). Two panels: an overview of kept density
// per cell of a coarse grid over the whole matrix, and a one-cell-per-weight window (rows r0…,
// columns c0…) where N:M groups and V:N:M tiles are visible. Gridlines every M columns / V rows.
import * as d3 from 'd3';
import { chartRoot, type ChartDims } from './svg';

export interface MaskView {
  rows: number;
  cols: number;
  /** Row-major, 1 = kept. */
  keep: Uint8Array;
  /** Top-left of the detail window. */
  window: { row: number; col: number; rows: number; cols: number };
  /** Pattern group sizes to draw as guides. */
  groupCols?: number;
  groupRows?: number;
}

const gap = 24;

export function maskChart(view: MaskView, dims: ChartDims, document: Document): SVGSVGElement {
  const svg = chartRoot(document, dims, `Keep mask of a ${view.rows} × ${view.cols} weight matrix`);
  const half = (dims.width - gap) / 2;
  drawOverview(svg.append('g').attr('class', 'overview'), view, half, dims.height - 16);
  drawWindow(svg.append('g').attr('class', 'window').attr('transform', `translate(${half + gap},0)`), view, half, dims.height - 16);
  return svg.node()!;
}

function drawOverview(g: d3.Selection<SVGGElement, unknown, null, undefined>, view: MaskView, width: number, height: number): void {
  const gridRows = Math.min(view.rows, 48);
  const gridCols = Math.min(view.cols, 96);
  const cw = width / gridCols;
  const ch = height / gridRows;
  const color = d3.scaleSequential(d3.interpolateBlues).domain([0, 1]);
  for (let gr = 0; gr < gridRows; gr++) {
    const r0 = Math.floor((gr * view.rows) / gridRows);
    const r1 = Math.floor(((gr + 1) * view.rows) / gridRows);
    for (let gc = 0; gc < gridCols; gc++) {
      const c0 = Math.floor((gc * view.cols) / gridCols);
      const c1 = Math.floor(((gc + 1) * view.cols) / gridCols);
      let kept = 0;
      for (let r = r0; r < r1; r++) for (let c = c0; c < c1; c++) kept += view.keep[r * view.cols + c];
      const density = kept / ((r1 - r0) * (c1 - c0));
      g.append('rect').attr('x', gc * cw).attr('y', gr * ch).attr('width', cw).attr('height', ch).attr('fill', color(density));
    }
  }
  const w = view.window;
  g.append('rect')
    .attr('class', 'window-outline')
    .attr('x', (w.col / view.cols) * width)
    .attr('y', (w.row / view.rows) * height)
    .attr('width', Math.max(2, (w.cols / view.cols) * width))
    .attr('height', Math.max(2, (w.rows / view.rows) * height))
    .attr('fill', 'none')
    .attr('stroke', '#d9480f');
  g.append('text').attr('y', height + 12).attr('font-size', 10).text(`density, whole ${view.rows} × ${view.cols}`);
}

function drawWindow(g: d3.Selection<SVGGElement, unknown, null, undefined>, view: MaskView, width: number, height: number): void {
  const w = view.window;
  const rows = Math.min(w.rows, view.rows - w.row);
  const cols = Math.min(w.cols, view.cols - w.col);
  const cell = Math.min(width / cols, height / rows);
  for (let r = 0; r < rows; r++)
    for (let c = 0; c < cols; c++) {
      const kept = view.keep[(w.row + r) * view.cols + w.col + c] === 1;
      g.append('rect').attr('class', kept ? 'kept' : 'pruned').attr('x', c * cell).attr('y', r * cell).attr('width', cell).attr('height', cell);
    }
  const guide = (x1: number, y1: number, x2: number, y2: number) => g.append('line').attr('class', 'group-guide').attr('x1', x1).attr('y1', y1).attr('x2', x2).attr('y2', y2);
  if (view.groupCols) for (let c = view.groupCols - ((w.col % view.groupCols) || view.groupCols); c < cols; c += view.groupCols) if (c > 0) guide(c * cell, 0, c * cell, rows * cell);
  if (view.groupRows) for (let r = view.groupRows - ((w.row % view.groupRows) || view.groupRows); r < rows; r += view.groupRows) if (r > 0) guide(0, r * cell, cols * cell, r * cell);
  g.append('text').attr('y', height + 12).attr('font-size', 10).text(`rows ${w.row}–${w.row + rows - 1}, columns ${w.col}–${w.col + cols - 1} (one cell per weight)`);
}
