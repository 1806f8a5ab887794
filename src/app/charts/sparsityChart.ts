// Sparsity per layer: one bar per layer (achieved), grouped by block and coloured by role, with
// the target as a short thick tick drawn in front of its bar. Every bar is a focusable element
// (roving tabindex: ArrowLeft/ArrowRight/Home/End move between bars) whose in-SVG tooltip shows on
// focus and hover. A function of data, dimensions and document; the listeners are attached here,
// so the keyboard and hover behaviour runs in jsdom tests as it does in the page.
import * as d3 from 'd3';
import { roleClassOf, ROLE_CLASSES } from './rolePalette';
import { chartRoot, type ChartDims, type SvgRoot } from './svg';
import { svgTooltip } from './svgTooltip';

export interface LayerSparsity {
  id: string;
  name: string;
  block: number | null;
  role: string;
  /** Fractions in [0, 1]. */
  target: number;
  achieved: number;
}

/** One row of the data-table alternative to the chart, formatted as the tooltip formats it. */
export interface SparsityTableRow {
  id: string;
  layer: string;
  block: string;
  role: string;
  /** Percent with one decimal, without the unit: '50.0'. */
  target: string;
  achieved: string;
}

const pct1 = (v: number) => (v * 100).toFixed(1);
/** Coordinates to 0.01 px: no visible difference, and snapshots free of float noise. */
export const px = (v: number) => Math.round(v * 100) / 100;
/** The block a layer sits in, as its axis label: the index, or 'none' outside the blocks. */
export const blockLabel = (l: { block: number | null }) => (l.block === null ? 'none' : String(l.block));
const roleText = (l: LayerSparsity) => `${roleClassOf(l.role).label} (${l.role})`;

export function sparsityTableRows(layers: readonly LayerSparsity[]): SparsityTableRow[] {
  return layers.map((l) => ({ id: l.id, layer: l.name, block: blockLabel(l), role: roleText(l), target: pct1(l.target), achieved: pct1(l.achieved) }));
}

/** The tooltip's lines; the bar's aria-label is the same text on one line. */
export function sparsityTooltipLines(l: LayerSparsity): string[] {
  return [l.name, `role: ${roleText(l)}`, `target ${pct1(l.target)} %`, `achieved ${pct1(l.achieved)} %`];
}

export interface BlockGroup<L> {
  label: string;
  layers: L[];
  x0: number;
  x1: number;
}

export const marginLeft = 52;
export const marginRight = 12;
export const tickFont = 10;
/** Estimated width of a character of the 10 px axis font (jsdom has no text metrics; over-estimate). */
export const charWidth = 6.2;
/** Rotated labels (−45°) need this much horizontal distance between centres not to touch. */
const rotatedSpacing = 15;
/** Gap between blocks, in bar steps. */
const blockGap = 0.8;

/** Layers grouped by block in the order they first appear (the model's order), placed along x. */
export function layoutGroups<L extends { block: number | null }>(layers: readonly L[], x0: number, x1: number): { groups: BlockGroup<L>[]; step: number } {
  const byLabel = new Map<string, L[]>();
  for (const l of layers) byLabel.set(blockLabel(l), [...(byLabel.get(blockLabel(l)) ?? []), l]);
  const step = (x1 - x0) / (layers.length + blockGap * (byLabel.size - 1));
  let cursor = x0;
  const groups = [...byLabel].map(([label, members]) => {
    const g = { label, layers: members, x0: cursor, x1: cursor + members.length * step };
    cursor = g.x1 + blockGap * step;
    return g;
  });
  return { groups, step };
}

/**
 * Which block labels to draw and whether to rotate them: horizontal when every label fits beside
 * its neighbours; otherwise rotated −45° and thinned to every k-th block so none overlap. The
 * out-of-block group ('none') is always labelled.
 */
export function blockLabelPlan(groups: readonly { label: string; x0: number; x1: number }[]): { rotated: boolean; shown: boolean[] } {
  const centre = (g: { x0: number; x1: number }) => (g.x0 + g.x1) / 2;
  const width = (g: { label: string }) => g.label.length * charWidth;
  const fitsFlat = groups.every((g, i) => i === 0 || centre(g) - centre(groups[i - 1]) >= (width(g) + width(groups[i - 1])) / 2 + 4);
  if (fitsFlat) return { rotated: false, shown: groups.map(() => true) };
  const gaps = groups.slice(1).map((g, i) => centre(g) - centre(groups[i]));
  const stride = Math.max(1, Math.ceil(rotatedSpacing / Math.min(...gaps)));
  const shown = groups.map((g, i) => g.label === 'none' || i % stride === 0);
  const last = groups.length - 1;
  if (groups[last].label === 'none') {
    const prev = shown.lastIndexOf(true, last - 1);
    if (prev >= 0 && centre(groups[last]) - centre(groups[prev]) < rotatedSpacing) shown[prev] = false;
  }
  return { rotated: true, shown };
}

/** A legend entry: its label and a function drawing its 12 × 10 swatch into the entry's group. */
export interface LegendItem {
  label: string;
  swatch: (entry: d3.Selection<SVGGElement, unknown, null, undefined>) => void;
}

/** A filled 12 × 10 swatch. */
export const solidSwatch = (color: string) => (entry: d3.Selection<SVGGElement, unknown, null, undefined>) => {
  entry.append('rect').attr('width', 12).attr('height', 10).attr('fill', color);
};

/** Swatches of the role classes present among the layers, in palette order. */
export function roleLegendItems(layers: readonly { role: string }[]): LegendItem[] {
  const present = new Set(layers.map((l) => roleClassOf(l.role).key));
  return ROLE_CLASSES.filter((c) => present.has(c.key)).map((c) => ({ label: c.label, swatch: solidSwatch(c.color) }));
}

/** Legend items (role classes present, then the target tick), wrapped into rows; returns its height. */
function drawLegend(svg: SvgRoot, layers: readonly LayerSparsity[], width: number): number {
  const targetTick = (entry: d3.Selection<SVGGElement, unknown, null, undefined>) => {
    entry.append('line').attr('x1', 0).attr('x2', 12).attr('y1', 5).attr('y2', 5).attr('stroke', '#1d2430').attr('stroke-width', 3);
  };
  return drawLegendItems(svg, [...roleLegendItems(layers), { label: 'target', swatch: targetTick }], width);
}

/** A legend wrapped into rows from the left margin; returns its height. */
export function drawLegendItems(svg: SvgRoot, items: readonly LegendItem[], width: number): number {
  const g = svg.append('g').attr('class', 'legend').attr('font-size', tickFont).attr('fill', '#1d2430');
  let x = marginLeft;
  let row = 0;
  for (const item of items) {
    const w = 16 + item.label.length * charWidth + 14;
    if (x + w > width - marginRight && x > marginLeft) {
      x = marginLeft;
      row += 1;
    }
    const y = 6 + row * 16;
    const entry = g.append('g').attr('transform', `translate(${x.toFixed(1)},${y})`);
    item.swatch(entry);
    entry.append('text').attr('x', 16).attr('y', 9).text(item.label);
    x += w;
  }
  return 6 + (row + 1) * 16 + 6;
}

export function sparsityChart(layers: LayerSparsity[], dims: ChartDims, document: Document): SVGSVGElement {
  // A group, not an image: its bars are the focusable images.
  const svg = chartRoot(document, dims, `Sparsity per layer, grouped by block: ${layers.length} layers. Arrow keys move between bars.`).attr('role', 'group').attr('class', 'sparsity-chart');
  if (layers.length === 0) return svg.node()!;
  const top = drawLegend(svg, layers, dims.width);
  const x0 = marginLeft;
  const x1 = dims.width - marginRight;
  const { groups, step } = layoutGroups(layers, x0, x1);
  const plan = blockLabelPlan(groups);
  const bottom = blockAxisHeight(groups, plan);
  const yScale = d3.scaleLinear().domain([0, 1]).range([dims.height - bottom, top]);
  const y = (v: number) => px(yScale(v));

  const yAxis = svg.append('g').attr('class', 'y-axis').attr('font-size', tickFont).attr('fill', '#5b6577');
  for (const t of yScale.ticks(5)) {
    yAxis.append('line').attr('class', 'grid').attr('x1', x0).attr('x2', x1).attr('y1', y(t)).attr('y2', y(t)).attr('stroke', '#e5e8ee');
    yAxis.append('text').attr('x', x0 - 6).attr('y', y(t)).attr('dy', '0.32em').attr('text-anchor', 'end').text(Math.round(t * 100));
  }
  yAxis.append('text').attr('class', 'axis-title').attr('transform', `translate(12,${((y(0) + y(1)) / 2).toFixed(1)}) rotate(-90)`).attr('text-anchor', 'middle').text('sparsity (%)');

  drawBlockAxis(svg, groups, plan, { x0, x1, y0: y(0), height: dims.height });

  const barWidth = Math.max(1, step * 0.78);
  const tickOverhang = Math.min(2, (step - barWidth) / 2);
  const bars: SVGGElement[] = [];
  const anchors: { x: number; y: number }[] = [];
  const tooltip = svgTooltip(svg, dims);
  const plot = svg.insert('g', '.chart-tooltip').attr('class', 'bars');
  for (const g of groups) {
    const block = plot.append('g').attr('class', 'block').attr('data-block', g.label);
    g.layers.forEach((l, j) => {
      const bx = px(g.x0 + j * step + (step - barWidth) / 2);
      const bar = block
        .append('g')
        .attr('class', `layer role-${roleClassOf(l.role).key}`)
        .attr('data-layer', l.id)
        .attr('tabindex', bars.length === 0 ? 0 : -1)
        .attr('role', 'img')
        .attr('aria-label', sparsityTooltipLines(l).join(', '));
      // Full-height hit area, so a near-empty bar is still easy to point at.
      bar.append('rect').attr('class', 'hit').attr('x', px(g.x0 + j * step)).attr('width', px(step)).attr('y', y(1)).attr('height', y(0) - y(1)).attr('fill', 'transparent');
      bar.append('rect').attr('class', 'focus-ring').attr('x', px(bx - 2)).attr('width', px(barWidth + 4)).attr('y', y(1)).attr('height', y(0) - y(1)).attr('fill', 'none').attr('stroke', '#1d2430').attr('stroke-width', 1.5).attr('visibility', 'hidden');
      bar.append('rect').attr('class', 'achieved').attr('x', bx).attr('width', px(barWidth)).attr('y', y(l.achieved)).attr('height', y(0) - y(l.achieved)).style('fill', roleClassOf(l.role).color);
      // The target tick comes after the bar, so it is drawn in front; a white halo keeps it visible on dark bars.
      const tick = (cls: string, stroke: string, w: number) => bar.append('line').attr('class', cls).attr('x1', px(bx - tickOverhang)).attr('x2', px(bx + barWidth + tickOverhang)).attr('y1', y(l.target)).attr('y2', y(l.target)).attr('stroke', stroke).attr('stroke-width', w);
      tick('target-halo', '#ffffff', 5);
      tick('target', '#1d2430', 3);
      bars.push(bar.node()!);
      anchors.push({ x: px(bx + barWidth / 2), y: Math.min(y(l.achieved), y(l.target)) - 2 });
    });
  }
  const inOrder = groups.flatMap((g) => g.layers);
  attachBarBehaviour(bars, (i) => tooltip.show(sparsityTooltipLines(inOrder[i]), anchors[i]), () => tooltip.hide());
  return svg.node()!;
}

/**
 * Space below the plot that the block axis needs: rotated labels take their diagonal. Call
 * with the groups and plan from layoutGroups and blockLabelPlan.
 */
export function blockAxisHeight(groups: readonly { label: string }[], plan: { rotated: boolean }): number {
  const widest = Math.max(...groups.map((g) => g.label.length * charWidth));
  return plan.rotated ? 8 + widest * Math.SQRT1_2 + 8 + 16 : 8 + 14 + 16;
}

/** The x axis of a per-layer chart: the baseline, a bracket under each block and its label, and the title 'block'. */
export function drawBlockAxis(svg: SvgRoot, groups: readonly { label: string; x0: number; x1: number }[], plan: { rotated: boolean; shown: boolean[] }, at: { x0: number; x1: number; y0: number; height: number }): void {
  const { x0, x1, y0 } = at;
  const xAxis = svg.append('g').attr('class', 'x-axis').attr('font-size', tickFont).attr('fill', '#5b6577');
  xAxis.append('line').attr('x1', x0).attr('x2', x1).attr('y1', y0).attr('y2', y0).attr('stroke', '#5b6577');
  groups.forEach((g, i) => {
    xAxis.append('line').attr('class', 'block-bracket').attr('x1', px(g.x0)).attr('x2', px(g.x1)).attr('y1', y0 + 4).attr('y2', y0 + 4).attr('stroke', '#9aa6b8');
    if (!plan.shown[i]) return;
    const cx = (g.x0 + g.x1) / 2;
    const label = xAxis.append('text').attr('class', 'block-label').text(g.label);
    if (plan.rotated) label.attr('text-anchor', 'end').attr('transform', `translate(${cx.toFixed(1)},${y0 + 12}) rotate(-45)`);
    else label.attr('text-anchor', 'middle').attr('x', px(cx)).attr('y', y0 + 18);
  });
  xAxis.append('text').attr('class', 'axis-title').attr('x', px((x0 + x1) / 2)).attr('y', at.height - 4).attr('text-anchor', 'middle').text('block');
}

/** Roving tabindex, arrow/Home/End navigation, and the tooltip on focus and hover. */
export function attachBarBehaviour(bars: SVGGElement[], show: (i: number) => void, hide: () => void): void {
  const focused = () => bars.findIndex((b) => b.ownerDocument.activeElement === b);
  bars.forEach((node, i) => {
    d3.select(node)
      .on('focus', () => {
        for (const b of bars) b.setAttribute('tabindex', b === node ? '0' : '-1');
        show(i);
      })
      .on('blur', hide)
      .on('mouseenter', () => show(i))
      .on('mouseleave', () => (focused() >= 0 ? show(focused()) : hide()))
      .on('keydown', (event: KeyboardEvent) => {
        const next = { ArrowLeft: i - 1, ArrowRight: i + 1, Home: 0, End: bars.length - 1 }[event.key];
        if (event.key === 'Escape') hide();
        else if (next === undefined) return;
        else bars[Math.max(0, Math.min(bars.length - 1, next))].focus();
        event.preventDefault();
      });
  });
}
