import { JSDOM } from 'jsdom';
import { describe, expect, test } from 'vitest';
import { searchReport } from './headSearch.fixture';
import { headChartRows, headSearchChart, headSearchChartHeight, headStatus } from './headSearchChart';

const { document } = new JSDOM('<!doctype html><body></body>').window;

describe('headSearchChart', () => {
  const data = searchReport(3);
  const width = 720;
  const render = () => headSearchChart(data, { width, height: headSearchChartHeight(data) }, document);

  test('rows are grouped by layer, in order, with one row per skipped layer', () => {
    const rows = headChartRows(data);
    expect(rows.map((r) => (r.kind === 'skipped' ? `${r.layer}:skipped` : `${r.layer}.${r.row.head}`))).toEqual(['0:skipped', '1:skipped', '2.0', '2.1', '2.2', '2.3', '3.0', '3.1', '3.2', '3.3', '4:skipped']);
    const svg = render();
    expect([...svg.querySelectorAll('text.layer-label')].map((t) => t.textContent)).toEqual(['layer 0', 'layer 1', 'layer 2', 'layer 3', 'layer 4']);
    expect([...svg.querySelectorAll('text.skipped')].map((t) => t.getAttribute('data-layer'))).toEqual(['0', '1', '4']);
  });

  test('what became of each head is a marker shape and a word, not colour alone', () => {
    const svg = render();
    const row = (layer: number, head: number) => svg.querySelector(`g.head-row[data-layer="${layer}"][data-head="${head}"]`)!;
    expect(row(2, 1).getAttribute('data-status')).toBe('selected');
    expect(row(2, 1).querySelector('text.status')!.textContent).toMatch(/★ selected$/);
    expect(row(3, 0).getAttribute('data-status')).toBe('not-selected');
    expect(row(3, 0).querySelector('text.status')!.textContent).toMatch(/◆ improved alone, not selected$/);
    expect(row(3, 2).querySelector('text.status')!.textContent).toMatch(/○ worse \(interval above 0\)$/);
    const shapes = new Set(['selected', 'not-selected', 'worse'].map((s) => svg.querySelector(`g.head-row[data-status="${s}"] path.marker`)!.getAttribute('d')));
    expect(shapes.size).toBe(3);
    expect(row(2, 1).getAttribute('aria-label')).toBe('layer 2 head 1: change −0.0040, 95 % interval [−0.0070, −0.0010], selected');
  });

  test('points and whiskers sit on one scale with the zero line; the axis says what and which way is better', () => {
    const svg = render();
    const zero = Number(svg.querySelector('line.zero')!.getAttribute('x1'));
    for (const g of svg.querySelectorAll('g.head-row')) {
      const c = data.candidates.find((c) => c.layer === Number(g.getAttribute('data-layer')) && c.head === Number(g.getAttribute('data-head')))!;
      const whisker = g.querySelector('line.whisker')!;
      const [x1, x2] = [Number(whisker.getAttribute('x1')), Number(whisker.getAttribute('x2'))];
      const point = Number(/translate\(([-\d.]+),/.exec(g.querySelector('path.marker')!.getAttribute('transform')!)![1]);
      expect(x1).toBeLessThanOrEqual(point);
      expect(point).toBeLessThanOrEqual(x2);
      // Which side of zero the whisker ends fall on follows the interval's signs.
      expect(Math.sign(x1 - zero)).toBe(Math.sign(c.interval!.low));
      expect(Math.sign(x2 - zero)).toBe(Math.sign(c.interval!.high));
    }
    expect(svg.querySelector('text.axis-label')!.textContent).toBe('change in calibration NLL (lower is better)');
    expect([...svg.querySelectorAll('g.legend text')].map((t) => t.textContent)).toEqual(['selected', 'improved alone, not selected', 'not an improvement', '95 % paired bootstrap interval over 8 calibration samples; a head counts when the interval lies below 0']);
  });

  test('the strict rule: a selected head whose own interval contains 0 says it is within noise', () => {
    const strict = { ...data, guard: 'none' as const, selected: [{ layer: 2, head: 0 }] };
    const head = { ...data.candidates[0], delta: -0.001, interval: { low: -0.003, high: 0.001 }, improves: true };
    expect(headStatus(head, strict.selected)).toBe('selected');
    const svg = headSearchChart({ ...strict, candidates: [head] }, { width, height: 200 }, document);
    expect(svg.querySelector('g.head-row text.status')!.textContent).toBe('−0.0010  ★ selected, alone within noise');
  });

  test('a narrow container: drawn wide enough for the labels and a plot, scaled down by the viewBox', () => {
    const svg = headSearchChart(data, { width: 360, height: headSearchChartHeight(data) }, document);
    const width = Number(svg.getAttribute('width'));
    expect(width).toBeGreaterThan(360);
    expect(svg.getAttribute('viewBox')).toBe(`0 0 ${width} ${headSearchChartHeight(data)}`);
    const ticks = [...svg.querySelectorAll('g.x-axis g.tick')].map((t) => Number(/translate\(([-\d.]+),/.exec(t.getAttribute('transform')!)![1]));
    expect(Math.max(...ticks) - Math.min(...ticks)).toBeGreaterThan(100);
  });

  test('no candidates: an empty chart', () => {
    expect(headSearchChart({ ...data, candidates: [], skippedLayers: [] }, { width, height: 100 }, document).querySelectorAll('g.head-row').length).toBe(0);
  });

  test('matches the snapshot on seeded data', () => {
    expect(render().outerHTML).toMatchSnapshot();
  });
});
