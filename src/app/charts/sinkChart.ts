// Sinks across the model for one input: a layer × head grid whose colour is the head's sink mass
// (the mean share of a query's attention that goes to sink keys, stats.ts) and whose number is
// its hidden sinks — the sinks after the head's first, the ones ACT recalibrates. Beside each row,
// the layer's total (LayerStats.hiddenSinks). Clicking a cell zooms that head, as a thumbnail does;
// the thumbnails stay the keyboard path (the chart re-renders on a pick, which would drop focus).
import * as d3 from 'd3';
import { headHiddenSinks, type LayerStats } from '../../core/attention/stats';
import { chartRoot, type ChartDims } from './svg';

export interface SinkChartData {
  layers: readonly LayerStats[];
  /** One name per layer, e.g. "block 2". */
  layerNames: readonly string[];
  picked: { site: number; head: number };
}

const fontSize = 10;
const ink = '#1d2430';
const legendHeight = 46;
const headerHeight = 30;
const rowLabelWidth = 70;
const totalWidth = 70;
const rowHeight = 22;

/** Sink mass on [0, 1], fixed so that inputs compare; the palest orange is still visible on white. */
export const sinkMassColor = (mass: number) => d3.interpolateOranges(0.05 + 0.95 * Math.max(0, Math.min(1, mass)));

export function sinkChartHeight(layers: number): number {
  return legendHeight + headerHeight + layers * rowHeight + 8;
}

function legend(svg: d3.Selection<SVGSVGElement, unknown, null, undefined>): void {
  const g = svg.append('g').attr('class', 'legend').attr('font-size', fontSize).attr('fill', ink);
  const gradient = g.append('defs').append('linearGradient').attr('id', 'sink-mass-scale');
  for (const t of d3.range(0, 1.01, 0.1)) gradient.append('stop').attr('offset', t).attr('stop-color', sinkMassColor(t));
  g.append('text').attr('y', 10).text('sink mass (mean share of attention on sink keys)');
  g.append('rect').attr('y', 14).attr('width', 120).attr('height', 10).attr('fill', 'url(#sink-mass-scale)').attr('stroke', '#9aa6b8');
  for (const [a, anchor] of [[0, 'start'], [0.5, 'middle'], [1, 'end']] as const) g.append('text').attr('x', a * 120).attr('y', 35).attr('text-anchor', anchor).text(String(a));
  g.append('text')
    .attr('x', 260)
    .attr('y', 23)
    .text('n in a cell: hidden sinks (sinks after the head’s first, the ones ACT edits); blank: none. Click a cell to zoom that head.');
}

/** One cell per layer × head; `onPick(site, head)` on click. */
export function sinkChart(data: SinkChartData, dims: ChartDims, document: Document, onPick: (site: number, head: number) => void): SVGSVGElement {
  const { layers, layerNames, picked } = data;
  const heads = Math.max(0, ...layers.map((l) => l.heads.length));
  const total = layers.reduce((n, l) => n + l.hiddenSinks, 0);
  const svg = chartRoot(document, dims, `Sink mass and hidden sinks per layer and head: ${layers.length} layers × ${heads} heads, ${total} hidden sink(s) in all`).attr('class', 'sink-chart');
  legend(svg);
  const cellWidth = Math.min(64, (dims.width - rowLabelWidth - totalWidth) / Math.max(1, heads));
  const plot = svg.append('g').attr('transform', `translate(${rowLabelWidth},${legendHeight + headerHeight})`).attr('font-size', fontSize).attr('fill', ink);
  plot.append('text').attr('x', (heads * cellWidth) / 2).attr('y', -20).attr('text-anchor', 'middle').text('heads →');
  for (let h = 0; h < heads; h++) plot.append('text').attr('class', 'head-label').attr('x', h * cellWidth + cellWidth / 2).attr('y', -6).attr('text-anchor', 'middle').text(h);
  plot.append('text').attr('x', heads * cellWidth + 8).attr('y', -6).text('Σ hidden');
  plot.append('text').attr('x', -rowLabelWidth).attr('y', -6).text('layers ↓');
  layers.forEach((layer, site) => {
    const y = site * rowHeight;
    plot.append('text').attr('class', 'layer-label').attr('x', -6).attr('y', y + rowHeight / 2 + 3).attr('text-anchor', 'end').text(layerNames[site]);
    layer.heads.forEach((head, h) => {
      const hidden = headHiddenSinks(head);
      const isPicked = site === picked.site && h === picked.head;
      const cell = plot
        .append('g')
        .attr('class', 'sink-cell')
        .attr('data-site', site)
        .attr('data-head', h)
        .attr('data-hidden', hidden)
        .attr('data-sink-mass', head.sinkMass)
        .attr('transform', `translate(${h * cellWidth},${y})`)
        .style('cursor', 'pointer')
        .on('click', () => onPick(site, h));
      cell.append('title').text(`${layerNames[site]} head ${h}: sink mass ${head.sinkMass.toFixed(3)}, sinks at ${head.sinks.length === 0 ? 'no key' : `keys ${head.sinks.join(', ')}`}, ${hidden} hidden`);
      cell
        .append('rect')
        .attr('width', cellWidth - 2)
        .attr('height', rowHeight - 2)
        .attr('fill', sinkMassColor(head.sinkMass))
        .attr('stroke', isPicked ? ink : 'none')
        .attr('stroke-width', 2);
      if (hidden > 0) {
        cell
          .append('text')
          .attr('x', (cellWidth - 2) / 2)
          .attr('y', rowHeight / 2 + 3)
          .attr('text-anchor', 'middle')
          .attr('font-weight', 600)
          .style('fill', head.sinkMass > 0.55 ? '#fff' : ink) // legible on the dark end; a style, as .chart text sets fill
          .text(hidden);
      }
    });
    plot.append('text').attr('class', 'layer-total').attr('x', heads * cellWidth + 8).attr('y', y + rowHeight / 2 + 3).text(layer.hiddenSinks);
  });
  return svg.node()!;
}
