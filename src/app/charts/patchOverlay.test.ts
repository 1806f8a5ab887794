// The patch overlay renders in jsdom: one shaded cell per patch of the bundled ViT's layout, the
// shading following the weights it is given, the class token's share as its own swatch, sinks and
// the hovered token outlined; overlayWeights picks a row, a column or the column means; and the
// map reports hover changes to the overlay through its onHover option.
import { JSDOM } from 'jsdom';
import { describe, expect, test } from 'vitest';
import { patchLayout, patchTokenLabels } from '../../core/attention/patches';
import { attentionColor, attentionMapChart, type MapHover } from './attentionMap';
import { overlayWeights, patchOverlayChart, patchOverlayDims } from './patchOverlay';

const { window } = new JSDOM('<!doctype html><body></body>');
const { document } = window;

const layout = patchLayout([1, 8, 8], 17, { patchSize: [2, 2], clsToken: true })!;
const labels = patchTokenLabels(layout);
const T = 17;

/** A seeded non-causal 17 × 17 map whose rows sum to 1. */
function seededMap(seed: number): Float32Array {
  let s = seed;
  const next = () => ((s = (s * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  const map = new Float32Array(T * T);
  for (let i = 0; i < T; i++) {
    const row = Array.from({ length: T }, next);
    const sum = row.reduce((a, b) => a + b, 0);
    row.forEach((v, j) => (map[i * T + j] = v / sum));
  }
  return map;
}

const digit = Array.from({ length: 64 }, (_, k) => (k % 8 === 3 || k % 8 === 4 ? 16 : 0)); // a vertical bar: a "1"

function render(weights: ArrayLike<number>, hover: MapHover = { query: null, key: null }, sinks: number[] = []) {
  return patchOverlayChart({ image: digit, shape: [1, 8, 8], maxValue: 16, layout, labels, weights, hover, sinks }, patchOverlayDims(), document);
}

describe('patchOverlayChart', () => {
  test('16 patch cells, labelled by position, shaded by the given weights', () => {
    const weights = Array.from({ length: T }, (_, t) => t / 16); // CLS 0, r0c0 1/16, …, r3c3 1
    const svg = render(weights);
    const cells = [...svg.querySelectorAll('rect.patch')];
    expect(cells).toHaveLength(16);
    expect(cells.map((c) => Number(c.getAttribute('data-token')))).toEqual(Array.from({ length: 16 }, (_, k) => k + 1));
    cells.forEach((cell, k) => expect(cell.getAttribute('fill')).toBe(attentionColor(weights[k + 1])));
    // Row-major: r1c2 is the 7th patch, at x = 2 cells, y = 1 cell.
    const width = Number(cells[0].getAttribute('width'));
    expect([Number(cells[6].getAttribute('x')), Number(cells[6].getAttribute('y'))]).toEqual([2 * width, width]);
    expect([...svg.querySelectorAll('text.patch-label')].map((t) => t.textContent)).toEqual(labels.slice(1));
    expect(svg.querySelectorAll('text.patch-weight')[15].textContent).toBe('1.00');
    // The digit is drawn over the heat: its inked pixels, and no white background hiding it.
    expect(svg.querySelectorAll('.overlay-digit rect.pixel')).toHaveLength(16);
    expect(svg.querySelectorAll('.overlay-digit rect:not(.pixel)')).toHaveLength(0);
  });

  test('shading follows the weights: more weight, a darker cell', () => {
    const low = render(Array(T).fill(0.02)).querySelector('rect.patch[data-token="5"]')!;
    const high = render(Array.from({ length: T }, (_, t) => (t === 5 ? 0.8 : 0.01))).querySelector('rect.patch[data-token="5"]')!;
    expect(low.getAttribute('fill')).not.toBe(high.getAttribute('fill'));
    expect(lightness(high.getAttribute('fill')!)).toBeLessThan(lightness(low.getAttribute('fill')!));
  });

  test("the class token's share is its own swatch and number", () => {
    const weights = Array(T).fill(0.75 / 16);
    weights[0] = 0.25;
    const svg = render(weights, { query: 3, key: null });
    const swatch = svg.querySelector('rect.cls-swatch')!;
    expect(swatch.getAttribute('data-weight')).toBe('0.2500');
    expect(swatch.getAttribute('fill')).toBe(attentionColor(0.25));
    expect(svg.querySelector('text.cls-share')!.textContent).toBe('CLS 0.25');
    expect(svg.getAttribute('aria-label')).toMatch(/Where query r0c2 attends: highest .*; class token 0\.25\./);
  });

  test('what is shown is named: the mode, the hovered query or key, sinks and the focus outlined', () => {
    const mean = render(Array(T).fill(1 / T), { query: null, key: null }, [0, 16]);
    expect(mean.getAttribute('data-mode')).toBe('mean');
    expect(mean.hasAttribute('data-query')).toBe(false);
    expect(mean.querySelector('.overlay-title')!.textContent).toBe('Mean attention each token receives (over 17 queries)');
    expect([...mean.querySelectorAll('rect.patch-sink')].map((r) => r.getAttribute('data-token'))).toEqual(['16']);
    expect(mean.querySelector('rect.cls-swatch')!.getAttribute('stroke-width')).toBe('3'); // CLS is a sink
    expect(mean.querySelector('rect.patch-focus')).toBeNull();

    const key = render(Array(T).fill(1 / T), { query: null, key: 6 });
    expect([key.getAttribute('data-mode'), key.getAttribute('data-key')]).toEqual(['key', '6']);
    expect(key.querySelector('.overlay-title')!.textContent).toBe('Who attends to key r1c1');
    expect(key.querySelector('rect.patch-focus')!.getAttribute('data-token')).toBe('6');
  });

  test('matches the snapshot on a seeded map, hovering a query', () => {
    const map = { tokens: T, probabilities: seededMap(11), offset: 0, causal: false };
    const hover = { query: 6, key: null };
    expect(render(overlayWeights(map, hover), hover, [0, 9]).outerHTML).toMatchSnapshot();
  });
});

describe('overlayWeights', () => {
  const probabilities = seededMap(7);
  const map = { tokens: T, probabilities, offset: 0, causal: false };

  test("a query's row, a key's column, else the column means", () => {
    const row = overlayWeights(map, { query: 4, key: null });
    expect(Array.from(row)).toEqual(Array.from(probabilities.subarray(4 * T, 5 * T)));
    expect(Array.from(overlayWeights(map, { query: 4, key: 9 }))).toEqual(Array.from(row)); // a cell: the query's row
    const column = overlayWeights(map, { query: null, key: 9 });
    expect(Array.from(column)).toEqual(Array.from({ length: T }, (_, i) => probabilities[i * T + 9]));
    const mean = overlayWeights(map, { query: null, key: null });
    let sum = 0;
    for (let i = 0; i < T; i++) sum += probabilities[i * T + 2];
    expect(mean[2]).toBe(sum / T);
  });

  test('reads the head at its offset', () => {
    const twoHeads = new Float32Array(2 * T * T);
    twoHeads.set(probabilities, T * T);
    expect(Array.from(overlayWeights({ ...map, probabilities: twoHeads, offset: T * T }, { query: 1, key: null }))).toEqual(Array.from(probabilities.subarray(T, 2 * T)));
  });
});

describe('attentionMapChart onHover', () => {
  test('reports the hovered query and key once per change, and null on leaving', () => {
    const seen: MapHover[] = [];
    const view = { tokens: T, probabilities: seededMap(1), offset: 0, causal: false, labels, sinks: [], threshold: 0.1, title: 'block 0 head 0', onHover: (h: MapHover) => seen.push(h) };
    const svg = attentionMapChart(view, { width: 500, height: 560 }, document);
    document.body.replaceChildren(svg);
    const cell = Number(svg.querySelector('image.cells')!.getAttribute('width')) / T;
    // jsdom has no layout: d3.pointer gives plot coordinates (as in attentionMap.test.ts).
    const move = (x: number, y: number) => svg.dispatchEvent(new window.MouseEvent('mousemove', { clientX: x, clientY: y, bubbles: true }));
    move(cell * 2.5, cell * 5.5);
    move(cell * 2.6, cell * 5.4); // same cell: no second report
    move(-5, cell * 3.5);
    svg.dispatchEvent(new window.MouseEvent('mouseleave'));
    expect(seen).toEqual([
      { query: 5, key: 2 },
      { query: 3, key: null },
      { query: null, key: null },
    ]);
  });
});

/** HSL lightness of an "rgb(r, g, b)" colour, 0 (black) to 1 (white). */
function lightness(fill: string): number {
  const [r, g, b] = fill.match(/\d+/g)!.map(Number);
  return (Math.max(r, g, b) + Math.min(r, g, b)) / 2 / 255;
}
