// Bits per weight per layer: one bar per quantized layer, grouped by block and coloured by role as
// in the sparsity chart. The height is the format's ANALYTIC bits per weight (scales and zero points
// included). A layer the file stores packed (MatMulNBits) is a solid bar; a SIMULATED layer — stored
// as dequantized floats, so the file does not shrink — is hatched, and the legend says so. Keyboard
// and hover behaviour are the sparsity chart's (roving tabindex, in-SVG tooltip).
import * as d3 from 'd3';
import type { LayerQuantReport } from '../../core/compress/report';
import { roleClassOf } from './rolePalette';
import { attachBarBehaviour, blockAxisHeight, blockLabel, blockLabelPlan, drawBlockAxis, drawLegendItems, layoutGroups, marginLeft, marginRight, px, roleLegendItems, tickFont, type LegendItem } from './sparsityChart';
import { chartRoot, type ChartDims } from './svg';
import { svgTooltip } from './svgTooltip';

/** The fields of a report row the chart reads. */
export type LayerBits = Pick<LayerQuantReport, 'id' | 'name' | 'block' | 'role' | 'format' | 'bitsPerWeight' | 'export' | 'simulatedBecause'>;

/** One row of the data-table alternative, formatted as the tooltip formats it. */
export interface BitsTableRow {
  id: string;
  layer: string;
  block: string;
  role: string;
  format: string;
  /** Two decimals, without the unit: '4.50'. */
  bitsPerWeight: string;
  /** 'packed' or 'simulated: <why>'. */
  storage: string;
}

export const SIMULATED_LABEL = 'simulated (stored as floats)';

const roleText = (l: LayerBits) => `${roleClassOf(l.role).label} (${l.role})`;
const bits2 = (v: number) => v.toFixed(2);
const storageText = (l: LayerBits) => (l.export === 'packed' ? 'packed (MatMulNBits)' : `simulated: stored as floats${l.simulatedBecause ? ` (${l.simulatedBecause})` : ''}`);

export function bitsTableRows(layers: readonly LayerBits[]): BitsTableRow[] {
  return layers.map((l) => ({ id: l.id, layer: l.name, block: blockLabel(l), role: roleText(l), format: l.format, bitsPerWeight: bits2(l.bitsPerWeight), storage: l.export === 'packed' ? 'packed' : `simulated${l.simulatedBecause ? `: ${l.simulatedBecause}` : ''}` }));
}

/** The tooltip's lines; the bar's aria-label is the same text on one line. */
export function bitsTooltipLines(l: LayerBits): string[] {
  return [l.name, `role: ${roleText(l)}`, `format: ${l.format}`, `${bits2(l.bitsPerWeight)} bits/weight`, storageText(l)];
}

/**
 * 45° stripes inside a w × h box at (x, y), as plain line segments: no <pattern>, so no document-wide
 * id that two charts on one page would share. Lines u + v = c, c = spacing, 2·spacing, … < w + h.
 */
function hatchSegments(x: number, y: number, w: number, h: number, spacing = 4): [number, number, number, number][] {
  const out: [number, number, number, number][] = [];
  for (let c = spacing; c < w + h; c += spacing) {
    const u0 = Math.max(0, c - h);
    const u1 = Math.min(w, c);
    out.push([px(x + u0), px(y + c - u0), px(x + u1), px(y + c - u1)]);
  }
  return out;
}

type G = d3.Selection<SVGGElement, unknown, null, undefined>;

function drawHatched(parent: G, x: number, y: number, w: number, h: number, color: string, cls: string): void {
  parent.append('rect').attr('class', cls).attr('x', px(x)).attr('y', px(y)).attr('width', px(w)).attr('height', px(h)).attr('fill', '#ffffff').attr('stroke', color).attr('stroke-width', 1);
  const stripes = parent.append('g').attr('class', 'hatch').attr('stroke', color).attr('stroke-width', 1.2);
  for (const [ax, ay, bx, by] of hatchSegments(x, y, w, h)) stripes.append('line').attr('x1', ax).attr('y1', ay).attr('x2', bx).attr('y2', by);
}

export function bitsChart(layers: LayerBits[], dims: ChartDims, document: Document): SVGSVGElement {
  const simulated = layers.filter((l) => l.export === 'simulated').length;
  const svg = chartRoot(document, dims, `Bits per weight per layer (analytic), grouped by block: ${layers.length} layers, ${simulated} simulated. Arrow keys move between bars.`)
    .attr('role', 'group')
    .attr('class', 'bits-chart');
  if (layers.length === 0) return svg.node()!;
  const legend: LegendItem[] = [...roleLegendItems(layers), ...(simulated > 0 ? [{ label: SIMULATED_LABEL, swatch: (e: G) => drawHatched(e, 0, 0, 12, 10, '#5b6577', 'swatch') }] : [])];
  const top = drawLegendItems(svg, legend, dims.width);
  const x0 = marginLeft;
  const x1 = dims.width - marginRight;
  const { groups, step } = layoutGroups(layers, x0, x1);
  const plan = blockLabelPlan(groups);
  const yScale = d3
    .scaleLinear()
    .domain([0, d3.max(layers, (l) => l.bitsPerWeight)! || 1])
    .nice()
    .range([dims.height - blockAxisHeight(groups, plan), top]);
  const y = (v: number) => px(yScale(v));
  const yMax = yScale.domain()[1];

  const yAxis = svg.append('g').attr('class', 'y-axis').attr('font-size', tickFont).attr('fill', '#5b6577');
  for (const t of yScale.ticks(5)) {
    yAxis.append('line').attr('class', 'grid').attr('x1', x0).attr('x2', x1).attr('y1', y(t)).attr('y2', y(t)).attr('stroke', '#e5e8ee');
    yAxis.append('text').attr('x', x0 - 6).attr('y', y(t)).attr('dy', '0.32em').attr('text-anchor', 'end').text(t);
  }
  yAxis.append('text').attr('class', 'axis-title').attr('transform', `translate(12,${((y(0) + y(yMax)) / 2).toFixed(1)}) rotate(-90)`).attr('text-anchor', 'middle').text('bits per weight (analytic)');
  drawBlockAxis(svg, groups, plan, { x0, x1, y0: y(0), height: dims.height });

  const barWidth = Math.max(1, step * 0.78);
  const bars: SVGGElement[] = [];
  const anchors: { x: number; y: number }[] = [];
  const tooltip = svgTooltip(svg, dims);
  const plot = svg.insert('g', '.chart-tooltip').attr('class', 'bars');
  for (const g of groups) {
    const block = plot.append('g').attr('class', 'block').attr('data-block', g.label);
    g.layers.forEach((l, j) => {
      const bx = px(g.x0 + j * step + (step - barWidth) / 2);
      const color = roleClassOf(l.role).color;
      const bar = block
        .append('g')
        .attr('class', `layer role-${roleClassOf(l.role).key} ${l.export}`)
        .attr('data-layer', l.id)
        .attr('tabindex', bars.length === 0 ? 0 : -1)
        .attr('role', 'img')
        .attr('aria-label', bitsTooltipLines(l).join(', '));
      bar.append('rect').attr('class', 'hit').attr('x', px(g.x0 + j * step)).attr('width', px(step)).attr('y', y(yMax)).attr('height', px(y(0) - y(yMax))).attr('fill', 'transparent');
      bar.append('rect').attr('class', 'focus-ring').attr('x', px(bx - 2)).attr('width', px(barWidth + 4)).attr('y', y(yMax)).attr('height', px(y(0) - y(yMax))).attr('fill', 'none').attr('stroke', '#1d2430').attr('stroke-width', 1.5).attr('visibility', 'hidden');
      const height = px(y(0) - y(l.bitsPerWeight));
      if (l.export === 'packed') bar.append('rect').attr('class', 'bits').attr('x', bx).attr('width', px(barWidth)).attr('y', y(l.bitsPerWeight)).attr('height', height).style('fill', color);
      else drawHatched(bar, bx, y(l.bitsPerWeight), barWidth, height, color, 'bits');
      bars.push(bar.node()!);
      anchors.push({ x: px(bx + barWidth / 2), y: y(l.bitsPerWeight) - 2 });
    });
  }
  const inOrder = groups.flatMap((g) => g.layers);
  attachBarBehaviour(bars, (i) => tooltip.show(bitsTooltipLines(inOrder[i]), anchors[i]), () => tooltip.hide());
  return svg.node()!;
}
