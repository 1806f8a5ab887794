// The weight histogram renders in jsdom: bins count every value once, the grid's levels are lines
// at their values, the clipped range is shaded beyond the end levels, the stored values'
// histogram can be hidden; snapshot on seeded data.
import { JSDOM } from 'jsdom';
import { describe, expect, test } from 'vitest';
import { histogramBins, weightHistogram, type WeightHistogramData } from './weightHistogram';

const { document } = new JSDOM('<!doctype html><body></body>').window;

function seeded(seed: number) {
  let s = seed;
  return () => (s = (s * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
}

/** 32 weights of a group, a 3-bit grid (scale 0.05, zero point 4) narrower than their range, and the stored values. */
function group(seed: number): WeightHistogramData {
  const rand = seeded(seed);
  const dense = Float32Array.from({ length: 32 }, () => (rand() + rand() + rand() - 1.5) * 0.2);
  const levels = Float64Array.from({ length: 8 }, (_, q) => (q - 4) * 0.05);
  const quantized = dense.map((v) => Math.min(0.15, Math.max(-0.2, Math.round(v / 0.05) * 0.05)));
  return { dense, quantized, levels };
}

describe('weightHistogram', () => {
  const data = group(3);
  const render = (d: WeightHistogramData = data) => weightHistogram(d, { width: 480, height: 220 }, document);

  test('bins hold every dense and every stored value once', () => {
    const bins = histogramBins(data, 20);
    expect(bins.reduce((n, b) => n + b.dense, 0)).toBe(32);
    expect(bins.reduce((n, b) => n + b.quantized, 0)).toBe(32);
    const svg = render();
    const counted = (cls: string) => [...svg.querySelectorAll(`g.bins.${cls} rect`)].reduce((n, r) => n + Number(r.getAttribute('data-count')), 0);
    expect([counted('dense'), counted('quantized')]).toEqual([32, 32]);
  });

  test('a line per level at its value; the clipped range is shaded from the end levels outwards', () => {
    const svg = render();
    const lines = [...svg.querySelectorAll('g.levels line.level')];
    expect(lines.map((l) => Number(l.getAttribute('data-value')))).toEqual(Array.from(data.levels!));
    const x = (i: number) => Number(lines[i].getAttribute('x1'));
    const below = svg.querySelector('rect.clipped.below')!;
    const above = svg.querySelector('rect.clipped.above')!;
    expect(Number(below.getAttribute('x')) + Number(below.getAttribute('width'))).toBeCloseTo(x(0), 6);
    expect(Number(above.getAttribute('x'))).toBeCloseTo(x(7), 6);
    expect(svg.getAttribute('aria-label')).toMatch(/8 grid levels from [−-]0\.2 to 0\.15/);
  });

  test('without a grid or stored values: bars only, a legend of one', () => {
    const svg = render({ dense: data.dense, quantized: null, levels: null });
    expect(svg.querySelectorAll('line.level, rect.clipped, g.bins.quantized').length).toBe(0);
    expect([...svg.querySelectorAll('g.legend text')].map((t) => t.textContent)).toEqual(['dense weights']);
  });

  test('matches the snapshot on seeded data', () => {
    expect(render().outerHTML).toMatchSnapshot();
  });
});
