// What the shape-changing stages removed (src/core/compress/report.ts LayerShapeReport rows):
// a grid of blocks × attention heads with the removed heads greyed, one bar per block for the MLP
// neurons kept, and one bar per factorised layer for its rank (low rank) or kept steps (BitStack)
// against the full rank. Any stage's rows draw here: structured pruning's heads and neurons,
// SliceGPT's sliced dimensions (as a per-block bar, like neurons), low rank's and BitStack's ranks.
// A function of data, dimensions and document, as every chart here.
import * as d3 from 'd3';
import type { LayerShapeReport } from '../../core/compress/report';
import { chartRoot, type ChartDims } from './svg';

export interface HeadsRow {
  block: number;
  heads: number;
  removed: number[];
}

export interface KeptBar {
  /** 'block 2', or a layer's name. */
  label: string;
  kept: number;
  total: number;
  what: 'neurons' | 'dimensions' | 'rank' | 'steps';
}

export interface ShapeSummary {
  heads: HeadsRow[];
  /** Per block: MLP neurons kept (structured) or embedding dimensions kept (slice). */
  widths: KeptBar[];
  /** Per factorised layer: its rank (or BitStack's kept steps) against min(C_out, C_in). */
  ranks: KeptBar[];
}

/**
 * Reads the rows into what the chart draws. A block's head count comes from its query (or fused
 * QKV) row: C_out before over the width one head takes (the removed heads' share of what left).
 * `headsPerBlock` (the analysis's) wins where given.
 */
export function shapeSummary(rows: readonly LayerShapeReport[], headsPerBlock?: number): ShapeSummary {
  const heads = new Map<number, HeadsRow>();
  const widths = new Map<string, KeptBar>();
  const ranks: KeptBar[] = [];
  for (const row of rows) {
    const block = row.block ?? -1;
    if (row.change === 'heads' && row.block !== null) {
      const removed = [...new Set([...(heads.get(block)?.removed ?? []), ...(row.removed ?? [])])].sort((a, b) => a - b);
      const shrunk = row.before[0] - row.after[0];
      const fromRow = (row.role === 'attn.q' || row.role === 'attn.qkv') && shrunk > 0 && removed.length > 0 ? Math.round((removed.length * row.before[0]) / shrunk) : undefined;
      const count = headsPerBlock ?? fromRow ?? heads.get(block)?.heads ?? Math.max(0, ...removed) + 1;
      heads.set(block, { block, heads: Math.max(count, heads.get(block)?.heads ?? 0), removed });
    } else if (row.change === 'neurons' && row.role === 'mlp.up') {
      widths.set(`n${block}`, { label: `block ${block}`, kept: row.after[0], total: row.before[0], what: 'neurons' });
    } else if (row.change === 'neurons' && row.role === 'mlp.down' && !widths.has(`n${block}`)) {
      widths.set(`n${block}`, { label: `block ${block}`, kept: row.after[1], total: row.before[1], what: 'neurons' });
    } else if (row.change === 'slice' && !widths.has(`s${block}`)) {
      widths.set(`s${block}`, { label: row.block === null ? row.name : `block ${block}`, kept: Math.min(...row.after), total: Math.min(...row.before), what: 'dimensions' });
    } else if ((row.change === 'rank' || row.change === 'bitstack') && row.rank !== undefined) {
      ranks.push({ label: row.name, kept: row.rank, total: Math.min(...row.before), what: row.change === 'rank' ? 'rank' : 'steps' });
    }
  }
  // Blocks whose heads all stayed have no 'heads' rows: drawn whole, so the grid shows every block the rows name.
  if (heads.size > 0) {
    const most = Math.max(...[...heads.values()].map((h) => h.heads));
    for (const row of rows) if (row.block !== null && !heads.has(row.block)) heads.set(row.block, { block: row.block, heads: headsPerBlock ?? most, removed: [] });
  }
  return { heads: [...heads.values()].sort((a, b) => a.block - b.block), widths: [...widths.values()], ranks };
}

const ROW = 18;
const GAP = 26;
const LEFT = 150;

/** Height the chart needs for `summary` (the page sizes its host with it). */
export function shapeChartHeight(summary: ShapeSummary): number {
  const section = (n: number) => (n === 0 ? 0 : GAP + n * ROW);
  return 10 + section(summary.heads.length) + section(summary.widths.length) + section(summary.ranks.length);
}

export function shapeChart(summary: ShapeSummary, dims: ChartDims, document: Document): SVGSVGElement {
  const svg = chartRoot(document, dims, 'What the shape-changing stages removed: heads per block, MLP width per block, ranks per layer');
  svg.attr('class', 'shape-chart');
  let y = 10;
  const title = (text: string) => {
    svg.append('text').attr('x', 0).attr('y', y + 14).attr('font-size', 12).attr('font-weight', 'bold').text(text);
    y += GAP;
  };
  if (summary.heads.length > 0) {
    title('Attention heads (grey: removed)');
    const most = d3.max(summary.heads, (h) => h.heads) ?? 1;
    const cell = Math.max(6, Math.min(ROW - 2, (dims.width - LEFT) / most - 2));
    for (const row of summary.heads) {
      const g = svg.append('g').attr('class', 'heads-row').attr('data-block', row.block).attr('data-removed', row.removed.join(','));
      g.append('text').attr('x', 0).attr('y', y + 12).attr('font-size', 11).text(`block ${row.block}: ${row.heads - row.removed.length} of ${row.heads}`);
      for (let h = 0; h < row.heads; h++) {
        const removed = row.removed.includes(h);
        g.append('rect')
          .attr('class', removed ? 'head removed' : 'head kept')
          .attr('x', LEFT + h * (cell + 2))
          .attr('y', y + 1)
          .attr('width', cell)
          .attr('height', ROW - 4)
          .attr('fill', removed ? '#d0d4da' : '#3b6fb6')
          .append('title')
          .text(`block ${row.block}, head ${h}: ${removed ? 'removed' : 'kept'}`);
      }
      y += ROW;
    }
  }
  const bars = (items: readonly KeptBar[], heading: string, cls: string) => {
    if (items.length === 0) return;
    title(heading);
    const x = d3.scaleLinear().domain([0, 1]).range([0, Math.max(10, dims.width - LEFT - 130)]);
    for (const bar of items) {
      const g = svg.append('g').attr('class', cls).attr('data-kept', bar.kept).attr('data-total', bar.total);
      g.append('text').attr('x', 0).attr('y', y + 12).attr('font-size', 11).text(bar.label.length > 22 ? `…${bar.label.slice(-21)}` : bar.label);
      g.append('rect').attr('x', LEFT).attr('y', y + 2).attr('width', x(1)).attr('height', ROW - 6).attr('fill', '#e6e9ee');
      g.append('rect').attr('x', LEFT).attr('y', y + 2).attr('width', x(bar.kept / bar.total)).attr('height', ROW - 6).attr('fill', '#3b6fb6');
      g.append('text').attr('x', LEFT + x(1) + 6).attr('y', y + 12).attr('font-size', 11).text(`${bar.kept} / ${bar.total} ${bar.what}`);
      y += ROW;
    }
  };
  bars(summary.widths, 'Width kept per block', 'width-bar');
  bars(summary.ranks, 'Rank kept per layer', 'rank-bar');
  return svg.node()!;
}
