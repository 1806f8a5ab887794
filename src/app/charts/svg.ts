// The root every chart starts from: an <svg> of the given size, created in the document passed in
// (the browser's, or jsdom's in tests), with an accessible label.
import * as d3 from 'd3';

export interface ChartDims {
  width: number;
  height: number;
}

export type SvgRoot = d3.Selection<SVGSVGElement, unknown, null, undefined>;

export function chartRoot(document: Document, dims: ChartDims, label: string): SvgRoot {
  return d3
    .select(document.createElementNS('http://www.w3.org/2000/svg', 'svg'))
    .attr('width', dims.width)
    .attr('height', dims.height)
    .attr('viewBox', `0 0 ${dims.width} ${dims.height}`)
    .attr('role', 'img')
    .attr('aria-label', label);
}
