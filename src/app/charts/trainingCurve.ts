// The model card's training curve: held-out and training loss against step. A chart is a function
// of data, dimensions and a document, so it renders in Node for snapshot tests as well.
import * as d3 from 'd3';
import type { TrainingCurvePoint } from '../../core/catalog/modelCard';
import { chartRoot, type ChartDims } from './svg';

export type { ChartDims } from './svg';

const margin = { top: 10, right: 12, bottom: 28, left: 44 };

export function trainingCurveChart(curve: TrainingCurvePoint[], dims: ChartDims, document: Document): SVGSVGElement {
  const svg = chartRoot(document, dims, 'Training curve: loss against step');
  const series = (['trainLoss', 'valLoss'] as const).map((key) => ({
    key,
    points: curve.filter((p) => Number.isFinite(p[key])).map((p) => [p.step, p[key] as number] as [number, number]),
  }));
  const all = series.flatMap((s) => s.points);
  if (all.length === 0) return svg.node()!;
  const x = d3.scaleLinear().domain(d3.extent(all, (p) => p[0]) as [number, number]).range([margin.left, dims.width - margin.right]);
  const y = d3.scaleLinear().domain(d3.extent(all, (p) => p[1]) as [number, number]).nice().range([dims.height - margin.bottom, margin.top]);
  svg.append('g').attr('transform', `translate(0,${dims.height - margin.bottom})`).call(d3.axisBottom(x).ticks(5));
  svg.append('g').attr('transform', `translate(${margin.left},0)`).call(d3.axisLeft(y).ticks(4));
  svg.append('text').attr('x', dims.width - margin.right).attr('y', dims.height - 2).attr('text-anchor', 'end').attr('font-size', 10).text('step');
  const line = d3.line<[number, number]>().x((p) => x(p[0])).y((p) => y(p[1]));
  for (const s of series) {
    svg.append('path').attr('class', `curve ${s.key}`).attr('fill', 'none').attr('stroke-width', 1.5).attr('d', line(s.points) ?? '');
  }
  const legend = svg.append('g').attr('font-size', 10).attr('transform', `translate(${dims.width - margin.right - 90},${margin.top + 4})`);
  series.forEach((s, i) => {
    legend.append('line').attr('class', `curve ${s.key}`).attr('x1', 0).attr('x2', 14).attr('y1', i * 13).attr('y2', i * 13);
    legend.append('text').attr('x', 18).attr('y', i * 13 + 3).text(s.key === 'valLoss' ? 'held-out loss' : 'training loss');
  });
  return svg.node()!;
}
