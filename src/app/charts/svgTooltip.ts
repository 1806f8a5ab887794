// An in-SVG tooltip: a group drawn last (so in front), hidden until shown. Unlike a native <title>
// it appears on keyboard focus as well as hover, at once, and renders in Node for tests.
import type { ChartDims, SvgRoot } from './svg';

export interface SvgTooltip {
  /** Shows the lines centred above `anchor` (below it when there is no room), kept inside the chart. */
  show(lines: readonly string[], anchor: { x: number; y: number }): void;
  hide(): void;
}

const fontSize = 11;
const lineHeight = 14;
const pad = 6;
/** jsdom has no text metrics; 0.6 em per character is a little over a sans-serif's average width. */
const charWidth = fontSize * 0.6;

export function svgTooltip(svg: SvgRoot, dims: ChartDims): SvgTooltip {
  const g = svg.append('g').attr('class', 'chart-tooltip').attr('pointer-events', 'none').attr('display', 'none').attr('aria-hidden', 'true');
  const box = g.append('rect').attr('rx', 3).attr('fill', '#ffffff').attr('stroke', '#1d2430').attr('stroke-width', 1);
  const text = g.append('text').attr('font-size', fontSize).attr('fill', '#1d2430');
  return {
    show(lines, anchor) {
      text.selectAll('tspan').remove();
      lines.forEach((line, i) =>
        text
          .append('tspan')
          .attr('x', pad)
          .attr('y', pad + fontSize + i * lineHeight)
          .attr('font-weight', i === 0 ? 'bold' : null)
          .text(line),
      );
      const width = Math.ceil(Math.max(...lines.map((l) => l.length)) * charWidth + 2 * pad);
      const height = lines.length * lineHeight + 2 * pad - (lineHeight - fontSize);
      box.attr('width', width).attr('height', height);
      const x = Math.max(1, Math.min(dims.width - width - 1, anchor.x - width / 2));
      const above = anchor.y - height - 8;
      const y = above >= 1 ? above : Math.min(dims.height - height - 1, anchor.y + 8);
      g.attr('transform', `translate(${x.toFixed(1)},${y.toFixed(1)})`).attr('display', null).raise();
    },
    hide() {
      g.attr('display', 'none');
    },
  };
}
