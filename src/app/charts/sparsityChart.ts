// Per-layer sparsity: one group of bars per block, target (outline) and achieved (filled) per
// layer, with a <title> on each bar for hover. A function of data, dims and document.
import * as d3 from 'd3';
import { chartRoot, type ChartDims } from './svg';

export interface LayerSparsity {
  id: string;
  name: string;
  block: number | null;
  role: string;
  target: number;
  achieved: number;
}

const margin = { top: 12, right: 12, bottom: 36, left: 44 };

export function sparsityChart(layers: LayerSparsity[], dims: ChartDims, document: Document): SVGSVGElement {
  const svg = chartRoot(document, dims, 'Sparsity per layer, grouped by block: target and achieved');
  if (layers.length === 0) return svg.node()!;
  const blockKey = (l: LayerSparsity) => (l.block === null ? 'other' : `block ${l.block}`);
  const blocks = [...new Set(layers.map(blockKey))];
  const outer = d3.scaleBand().domain(blocks).range([margin.left, dims.width - margin.right]).paddingInner(0.12);
  const y = d3.scaleLinear().domain([0, 1]).range([dims.height - margin.bottom, margin.top]);
  svg.append('g').attr('transform', `translate(0,${dims.height - margin.bottom})`).call(d3.axisBottom(outer));
  svg.append('g').attr('transform', `translate(${margin.left},0)`).call(d3.axisLeft(y).ticks(5, '%'));
  for (const block of blocks) {
    const members = layers.filter((l) => blockKey(l) === block);
    const inner = d3.scaleBand().domain(members.map((l) => l.id)).range([outer(block)!, outer(block)! + outer.bandwidth()]).padding(0.15);
    const g = svg.append('g').attr('class', 'block').attr('data-block', block);
    for (const l of members) {
      const bar = g.append('g').attr('class', 'layer').attr('data-layer', l.id);
      const title = `${l.name} (${l.role})\ntarget ${(l.target * 100).toFixed(2)} %\nachieved ${(l.achieved * 100).toFixed(2)} %`;
      bar.append('rect').attr('class', 'achieved').attr('x', inner(l.id)!).attr('width', inner.bandwidth()).attr('y', y(l.achieved)).attr('height', y(0) - y(l.achieved)).append('title').text(title);
      bar.append('rect').attr('class', 'target').attr('x', inner(l.id)!).attr('width', inner.bandwidth()).attr('y', y(l.target)).attr('height', y(0) - y(l.target)).attr('fill', 'none').append('title').text(title);
    }
  }
  return svg.node()!;
}
