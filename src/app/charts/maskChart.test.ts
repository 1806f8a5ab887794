// The mask chart renders in jsdom: exact overview aggregation, square window cells coloured by |w|,
// and window moves by drag (d3.drag, driven by mouse events) and keys.
import { JSDOM } from 'jsdom';
import { afterEach, describe, expect, test, vi } from 'vitest';
import { magnitudeDomain, maskChart, type MaskChartData } from './maskChart';
import { maskOverview, overviewCell, overviewCellSize, overviewNote } from './maskOverview';

const { window } = new JSDOM('<!doctype html><body></body>');
const { document } = window;

function seeded(seed: number) {
  let s = seed;
  return () => (s = (s * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
}

/** Magnitude-pruned 2:4 weights: in every group of 4 columns the 2 largest |w| are kept. */
function prunedTwoFour(rows: number, cols: number, seed: number): Pick<MaskChartData, 'rows' | 'cols' | 'keep' | 'magnitude'> {
  const rand = seeded(seed);
  const magnitude = Float32Array.from({ length: rows * cols }, () => rand());
  const keep = new Uint8Array(rows * cols);
  for (let g = 0; g < rows * cols; g += 4) {
    const order = [0, 1, 2, 3].sort((a, b) => magnitude[g + b] - magnitude[g + a]);
    keep[g + order[0]] = keep[g + order[1]] = 1;
    magnitude[g + order[2]] = magnitude[g + order[3]] = 0;
  }
  return { rows, cols, keep, magnitude };
}

const bits = (text: string) => Uint8Array.from(text.replace(/\s/g, ''), (ch) => (ch === '1' ? 1 : 0));

afterEach(() => document.body.replaceChildren());

describe('maskOverview', () => {
  test('whole cells: kept counts equal the hand-computed ones', () => {
    // 4 × 8, cells of 2 × 4
    const keep = bits(`
      1111 0000
      1100 0001
      0000 1111
      0000 1111`);
    const o = maskOverview(keep, 4, 8, 2, 2);
    expect([o.cellRows, o.cellCols, o.gridRows, o.gridCols]).toEqual([2, 4, 2, 2]);
    expect([...o.kept]).toEqual([6, 1, 0, 8]);
    expect([0, 1].flatMap((gr) => [0, 1].map((gc) => overviewCell(o, gr, gc).density))).toEqual([6 / 8, 1 / 8, 0, 1]);
    expect(overviewNote(o)).toBe('each cell = 2×4 weights');
  });

  test('edge cells hold the exact remainder, and the note says so', () => {
    // 7 × 11 (both prime) in at most 3 × 3 cells: 3-row, 4-column cells; the edge cells are 1 row and 3 columns.
    const keep = bits(`
      1000 1100 111
      0000 0000 010
      0001 0000 000
      1111 1111 101
      0000 0011 100
      0100 0000 001
      1010 0110 011`);
    const o = maskOverview(keep, 7, 11, 3, 3);
    expect([o.cellRows, o.cellCols, o.gridRows, o.gridCols]).toEqual([3, 4, 3, 3]);
    expect([...o.kept]).toEqual([2, 2, 4, 5, 6, 4, 2, 2, 2]);
    expect(overviewCell(o, 2, 2)).toEqual({ row0: 6, col0: 8, rows: 1, cols: 3, density: 2 / 3 });
    expect(overviewNote(o)).toBe('each cell = 3×4 weights (bottom row of cells 1 row, last column of cells 3 columns)');
  });

  test('a cell side that divides the matrix is preferred, so edge cells are rare (768 rows: 32, not 29)', () => {
    expect(overviewCellSize(768, 29, 1)).toBe(32);
    expect(overviewCellSize(3072, 29, 4)).toBe(32);
    expect(overviewCellSize(50257, 1048, 1)).toBe(1733); // GPT-2's vocabulary, 29 × 1733: 29 whole cells
    expect(overviewCellSize(50261, 1048, 1)).toBe(1048); // a prime: no divisor, so a short edge cell
    expect(overviewCellSize(12, 3, 4)).toBe(4); // 3 columns would cut 4-column groups
    expect(overviewCellSize(24, 1, 4)).toBe(1);
  });

  test('cells are whole N:M groups, so a 2:4 mask reads 50 % in every cell (no 3-column stripes)', () => {
    const { keep } = prunedTwoFour(6, 24, 1);
    const o = maskOverview(keep, 6, 24, 6, 8, 1, 4); // 24 / 8 = 3 columns would alternate 2/3 and 1/3
    expect(o.cellCols).toBe(4);
    for (let gr = 0; gr < o.gridRows; gr++) for (let gc = 0; gc < o.gridCols; gc++) expect(overviewCell(o, gr, gc).density).toBe(0.5);
  });
});

describe('maskChart', () => {
  const view: MaskChartData = { ...prunedTwoFour(8, 16, 2), window: { row: 0, col: 0, rows: 8, cols: 16 }, groupCols: 4 };

  test('the window draws one square per weight: kept by |w|, pruned hatched, guides every M columns', () => {
    const svg = maskChart(view, { width: 400, height: 200 }, document);
    const kept = [...svg.querySelectorAll<SVGRectElement>('g.window rect.kept')];
    const pruned = [...svg.querySelectorAll<SVGRectElement>('g.window rect.pruned')];
    expect([kept.length, pruned.length]).toEqual([64, 64]);
    for (const r of [...kept, ...pruned]) expect(r.getAttribute('width')).toBe(r.getAttribute('height'));
    for (const r of pruned) expect(r.style.fill).toBe('url("#mask-chart-pruned")');
    // Kept cells: more than a handful of distinct colours, the largest |w| the darkest.
    expect(new Set(kept.map((r) => r.style.fill)).size).toBeGreaterThan(20);
    const brightness = (fill: string) => fill.match(/\d+/g)!.map(Number).reduce((a, b) => a + b);
    const byMagnitude = [...svg.querySelectorAll<SVGRectElement>('g.window rect')].map((r, i) => ({ m: view.magnitude![i], b: brightness(r.style.fill.startsWith('url') ? 'rgb(999,999,999)' : r.style.fill) }));
    const keptSorted = byMagnitude.filter((c) => c.m > 0).sort((a, b) => a.m - b.m);
    expect(keptSorted[keptSorted.length - 1].b).toBeLessThan(keptSorted[0].b);
    expect(svg.querySelectorAll('g.window line.nm-guide').length).toBe(3);
    expect(svg.querySelector('#mask-chart-pruned')).not.toBeNull();
  });

  test('V rows get row guides, and the legend shows the |w| scale and the pruned swatch', () => {
    const svg = maskChart({ ...view, groupRows: 2 }, { width: 400, height: 200 }, document);
    expect(svg.querySelectorAll('g.window line.v-guide').length).toBe(3);
    const legend = [...svg.querySelectorAll('g.legend text')].map((t) => t.textContent);
    expect(legend).toContain('window: |w| of kept weights');
    expect(legend).toContain('pruned (w = 0)');
    expect(legend).toContain('overview: share kept');
  });

  test('the overview matches the exact aggregation and outlines the window', () => {
    const big: MaskChartData = { ...prunedTwoFour(64, 96, 3), window: { row: 10, col: 20, rows: 16, cols: 32 }, groupCols: 4 };
    const svg = maskChart(big, { width: 400, height: 200 }, document);
    const rects = [...svg.querySelectorAll('g.overview g.cells rect')];
    const total = rects.reduce((s, r) => s + Number(r.getAttribute('data-weights')), 0);
    const kept = rects.reduce((s, r) => s + Number(r.getAttribute('data-kept')), 0);
    expect([total, kept]).toEqual([64 * 96, (64 * 96) / 2]);
    const note = svg.querySelector('g.overview text.caption')!.textContent!;
    const [, a, b] = /each cell = (\d+)×(\d+) weights/.exec(note)!;
    expect(Number(b) % 4).toBe(0);
    expect(rects.length).toBe(Math.ceil(64 / Number(a)) * Math.ceil(96 / Number(b)));
    // Square weights in the overview: the same px per weight on both axes.
    const frame = svg.querySelector('g.overview rect.frame')!;
    const s = Number(frame.getAttribute('width')) / 96;
    expect(Number(frame.getAttribute('height')) / 64).toBeCloseTo(s, 9);
    const outline = svg.querySelector('g.overview rect.window-outline')!;
    expect(['x', 'y', 'width', 'height'].map((k) => Number(outline.getAttribute(k)))).toEqual([20, 10, 32, 16].map((v) => +(v * s).toFixed(2)));
  });

  test('dragging the overview moves the window and reports clamped, group-aligned origins', () => {
    const onWindowChange = vi.fn();
    const big: MaskChartData = { ...prunedTwoFour(64, 96, 3), window: { row: 0, col: 0, rows: 16, cols: 32 }, groupCols: 4 };
    const svg = maskChart(big, { width: 400, height: 200 }, document, { onWindowChange });
    document.body.append(svg);
    const frame = svg.querySelector('g.overview rect.frame')!;
    const s = Number(frame.getAttribute('width')) / 96; // px per weight (square)
    const mouse = (type: string, target: EventTarget, x: number, y: number) => target.dispatchEvent(new window.MouseEvent(type, { clientX: x, clientY: y, view: window as unknown as Window, bubbles: true, cancelable: true }));
    // Press outside the window: it centres there (row 40 − 8, column 60 − 16).
    mouse('mousedown', frame, 60 * s, 40 * s);
    expect(onWindowChange).toHaveBeenLastCalledWith(32, 44);
    expect(document.activeElement).toBe(svg.querySelector('g.overview'));
    // Drag far past the bottom-right corner: clamped to rows 64 − 16, columns 96 − 32.
    mouse('mousemove', window, 500, 500);
    expect(onWindowChange).toHaveBeenLastCalledWith(48, 64);
    // And past the top-left.
    mouse('mousemove', window, -50, -50);
    expect(onWindowChange).toHaveBeenLastCalledWith(0, 0);
    mouse('mousemove', window, 61 * s, 21 * s);
    expect(onWindowChange).toHaveBeenLastCalledWith(13, 44); // column 61 − 16 = 45 snaps to the 4-column group at 44
    mouse('mouseup', window, 61 * s, 21 * s);
    const calls = onWindowChange.mock.calls.length;
    mouse('mousemove', window, 0, 0);
    expect(onWindowChange.mock.calls.length).toBe(calls);
    // The chart redrew its own window and outline.
    const caption = [...svg.querySelectorAll('g.window text.caption tspan')].map((t) => t.textContent).join(' ');
    expect(caption).toMatch(/^rows 13–28, columns 44–75: one square per weight/);
    expect(Number(svg.querySelector('g.overview rect.window-outline')!.getAttribute('x'))).toBeCloseTo(44 * s, 2);
  });

  test('arrow keys on the focused overview move the window by a quarter, Shift by a whole window, End to the last column', () => {
    const onWindowChange = vi.fn();
    const big: MaskChartData = { ...prunedTwoFour(64, 96, 3), window: { row: 0, col: 0, rows: 16, cols: 32 }, groupCols: 4 };
    const svg = maskChart(big, { width: 400, height: 200 }, document, { onWindowChange });
    document.body.append(svg);
    const overview = svg.querySelector<SVGGElement>('g.overview')!;
    expect(overview.getAttribute('tabindex')).toBe('0');
    overview.focus();
    const key = (k: string, shiftKey = false) => overview.dispatchEvent(new window.KeyboardEvent('keydown', { key: k, shiftKey, bubbles: true, cancelable: true }));
    key('ArrowRight');
    expect(onWindowChange).toHaveBeenLastCalledWith(0, 8);
    key('ArrowDown', true);
    expect(onWindowChange).toHaveBeenLastCalledWith(16, 8);
    key('End');
    expect(onWindowChange).toHaveBeenLastCalledWith(16, 64);
    key('ArrowRight');
    expect(onWindowChange).toHaveBeenCalledTimes(3); // already at the edge: no change, no call
    expect(overview.getAttribute('aria-label')).toMatch(/rows 16–31, columns 64–95/);
  });

  test('the |w| scale runs from the smallest kept |w| to the 99th percentile; an outlier does not wash out the rest', () => {
    const magnitude = Float32Array.from({ length: 200 }, (_, i) => (i === 7 ? 1000 : i % 2 ? 0 : 1 + i / 2));
    const keep = Uint8Array.from(magnitude, (m) => (m ? 1 : 0));
    expect(magnitudeDomain(keep, magnitude)).toEqual({ lo: 1, hi: 100, clipped: true }); // nearest rank: the 100th of 101 kept
    const svg = maskChart({ rows: 10, cols: 20, keep, magnitude, window: { row: 0, col: 0, rows: 10, cols: 20 } }, { width: 600, height: 200 }, document);
    expect([...svg.querySelectorAll('g.legend text')].map((t) => t.textContent)).toContain('≥ 100');
  });

  test('without magnitudes every kept weight has one colour', () => {
    const { magnitude: _, ...keepOnly } = view;
    const svg = maskChart(keepOnly, { width: 400, height: 200 }, document);
    expect(new Set([...svg.querySelectorAll<SVGRectElement>('g.window rect.kept')].map((r) => r.style.fill)).size).toBe(1);
    expect([...svg.querySelectorAll('g.legend text')].map((t) => t.textContent)).toContain('kept');
  });

  test('matches the snapshot on seeded data', () => {
    const small: MaskChartData = { ...prunedTwoFour(8, 12, 9), window: { row: 2, col: 4, rows: 4, cols: 8 }, groupCols: 4, groupRows: 2 };
    expect(maskChart(small, { width: 480, height: 220 }, document).outerHTML).toMatchSnapshot();
  });
});
