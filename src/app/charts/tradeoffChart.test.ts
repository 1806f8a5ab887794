import { JSDOM } from 'jsdom';
import { describe, expect, test } from 'vitest';
import { tradeoffChart, type TradeoffRun } from './tradeoffChart';

const { document } = new JSDOM('<!doctype html><body></body>').window;

const runs: TradeoffRun[] = [
  { id: 'r1', label: 'run 1: magnitude 50 %', x: 3_300_000, y: 4.9, method: 'magnitude', stages: 'prune', details: [] },
  { id: 'r2', label: 'run 2: Wanda 50 %', x: 3_300_000, y: 3.5, method: 'wanda', stages: 'prune', details: [] },
  { id: 'r3', label: 'run 3: GPTQ 4-bit', x: 1_030_000, y: 3.51, method: 'gptq', stages: 'quantize', details: ['packed'] },
  { id: 'r4', label: 'run 4: RTN 3-bit', x: 2_850_000, y: 3.9, method: 'rtn', stages: 'quantize', details: [] },
];

describe('tradeoffChart', () => {
  test('one focusable point per run, coloured by method and shaped by stages; the frontier runs through the undominated', () => {
    const picked: string[] = [];
    const svg = tradeoffChart(runs, { axis: 'bytes', metricLabel: 'perplexity', better: 'lower', logX: false, dense: { x: 3_300_000, y: 3.49 }, onPick: (id) => picked.push(id) }, { width: 640, height: 320 }, document);
    const points = [...svg.querySelectorAll('g.run')];
    expect(points.map((p) => p.getAttribute('data-run'))).toEqual(['r1', 'r2', 'r3', 'r4']);
    expect(points.every((p) => p.getAttribute('tabindex') === '0' && p.getAttribute('role') === 'button')).toBe(true);
    expect(points.filter((p) => p.getAttribute('data-frontier')).map((p) => p.getAttribute('data-run'))).toEqual(['r2', 'r3']);
    const fill = (id: string) => svg.querySelector(`g.run[data-run=${id}] path`)!.getAttribute('fill');
    expect(new Set(runs.map((r) => fill(r.id))).size).toBe(4);
    const shape = (id: string) => svg.querySelector(`g.run[data-run=${id}] path`)!.getAttribute('d');
    expect(shape('r1')).toBe(shape('r2'));
    expect(shape('r3')).not.toBe(shape('r1'));
    expect(svg.querySelector('g.dense text')!.textContent).toBe('dense');
    expect(svg.querySelector('path.frontier')).not.toBeNull();
    expect([...svg.querySelectorAll('text.axis-label')].map((t) => t.textContent)).toEqual(['file size (measured bytes) →', 'perplexity (lower is better)']);
    points[2].dispatchEvent(new document.defaultView!.MouseEvent('click', { bubbles: true }));
    points[0].dispatchEvent(new document.defaultView!.KeyboardEvent('keydown', { key: 'Enter', bubbles: true }));
    expect(picked).toEqual(['r3', 'r1']);
  });

  test('hover or focus shows the run’s numbers; the smaller point sits left on a log scale', () => {
    const svg = tradeoffChart(runs, { axis: 'bytes', metricLabel: 'perplexity', better: 'lower', logX: true }, { width: 640, height: 320 }, document);
    const point = svg.querySelector('g.run[data-run=r3]')!;
    point.dispatchEvent(new document.defaultView!.FocusEvent('focus'));
    const tip = svg.querySelector('g.chart-tooltip')!;
    expect(tip.getAttribute('display')).toBeNull();
    expect(tip.textContent).toContain('run 3: GPTQ 4-bit');
    expect(tip.textContent).toContain('on the Pareto frontier');
    const xOf = (id: string) => Number(/translate\(([-\d.]+)/.exec(svg.querySelector(`g.run[data-run=${id}]`)!.getAttribute('transform')!)![1]);
    expect(xOf('r3')).toBeLessThan(xOf('r4'));
    expect(svg.querySelector('text.axis-label')!.textContent).toMatch(/log scale/);
  });
});
