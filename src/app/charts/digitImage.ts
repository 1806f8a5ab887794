// One small image of an image-classification set as an SVG of square pixels, dark ink on white
// (the digits set is 8×8 with 0..16 ink levels). A chart function like the others: data, size and
// the document in, an element out, so it renders and is tested in Node.
import { chartRoot } from './svg';

export interface DigitImageOptions {
  /** The raw value drawn as full ink (the set's largest raw value). */
  maxValue: number;
  /** Side of the square drawing in CSS pixels. */
  size: number;
  label: string;
  /** Draw the white background (default); without it only the inked pixels are drawn, e.g. over a heat map. */
  background?: boolean;
}

/**
 * `image` holds raw values in the set's layout, `shape` = [..., height, width] with any leading
 * axes (channels) averaged: a grey level per pixel is all a thumbnail needs.
 */
export function digitImageSvg(image: readonly number[], shape: readonly number[], options: DigitImageOptions, document: Document): SVGSVGElement {
  const height = shape[shape.length - 2] ?? 1;
  const width = shape[shape.length - 1] ?? image.length;
  const planes = Math.max(1, Math.floor(image.length / (height * width)));
  const svg = chartRoot(document, { width: options.size, height: options.size }, options.label)
    .attr('viewBox', `0 0 ${width} ${height}`)
    .attr('shape-rendering', 'crispEdges');
  if (options.background !== false) svg.append('rect').attr('width', width).attr('height', height).attr('fill', '#fff');
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      let sum = 0;
      for (let c = 0; c < planes; c++) sum += image[c * height * width + y * width + x];
      const ink = Math.min(1, Math.max(0, sum / planes / options.maxValue));
      if (ink === 0) continue; // the white background shows through
      const level = Math.round(255 * (1 - ink));
      svg.append('rect').attr('class', 'pixel').attr('x', x).attr('y', y).attr('width', 1).attr('height', 1).attr('fill', `rgb(${level},${level},${level})`);
    }
  }
  return svg.node()!;
}
