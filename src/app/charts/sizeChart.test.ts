import { JSDOM } from 'jsdom';
import { describe, expect, test } from 'vitest';
import { sizeChart, sizeChartHeight, sizeSegments, sizeTableRows, type ModelSize } from './sizeChart';

const { document } = new JSDOM('<!doctype html><body></body>').window;

function seeded(seed: number) {
  let s = seed;
  return () => (s = (s * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
}

function models(seed: number): ModelSize[] {
  const rand = seeded(seed);
  const dense = Math.round(400_000 + 200_000 * rand());
  const weightBytes = Math.round(dense * 0.12);
  return [
    { label: 'gpt2-tiny, 4-bit g32', denseFileBytes: dense, compressedFileBytes: Math.round(dense * 0.3), analytic: { weightBytes, scaleBytes: Math.round(weightBytes / 16), zeroPointBytes: Math.round(weightBytes / 64), restBytes: Math.round(dense * 0.1) } },
    { label: 'bert-tiny, simulated', compressedFileBytes: Math.round(dense * 0.9), analytic: { weightBytes, scaleBytes: null, zeroPointBytes: null, restBytes: Math.round(dense * 0.2) } },
  ];
}

describe('sizeChart', () => {
  const data = models(5);
  const render = () => sizeChart(data, { width: 560, height: sizeChartHeight(data, 560) }, document);

  test('the analytic segments add up to the bar total and its KiB label; widths are on one scale', () => {
    const svg = render();
    const packed = svg.querySelector('g.model[data-model="gpt2-tiny, 4-bit g32"] g.bar.analytic')!;
    const segs = [...packed.querySelectorAll('rect.segment')];
    expect(segs.map((s) => s.classList[1])).toEqual(['weights', 'scales', 'zeros', 'rest']);
    const a = data[0].analytic!;
    const total = a.weightBytes + a.scaleBytes! + a.zeroPointBytes! + a.restBytes;
    expect(segs.reduce((s, r) => s + Number(r.getAttribute('data-bytes')), 0)).toBe(total);
    expect(packed.querySelector('text.total')!.textContent).toBe(`${(total / 1024).toFixed(1)} KiB`);
    // Each segment starts where the previous ends.
    for (let i = 1; i < segs.length; i++) expect(Number(segs[i].getAttribute('x'))).toBeCloseTo(Number(segs[i - 1].getAttribute('x')) + Number(segs[i - 1].getAttribute('width')), 1);
    const width = (sel: string) => Number(svg.querySelector(`g.model[data-model="gpt2-tiny, 4-bit g32"] ${sel}`)!.getAttribute('width'));
    expect(width('rect.segment.dense') / width('rect.segment.compressed')).toBeCloseTo(data[0].denseFileBytes! / data[0].compressedFileBytes, 2);
  });

  test('the legend names measured and analytic; a model without dense size or split draws fewer bars and segments', () => {
    const svg = render();
    const legend = [...svg.querySelectorAll('g.legend text')].map((t) => t.textContent);
    expect(legend).toEqual(['dense file (measured)', 'compressed file (measured)', 'weights (analytic)', 'quantized layers (analytic)', 'scales (analytic)', 'zero points (analytic)', 'unquantized rest (analytic)']);
    const second = svg.querySelector('g.model[data-model="bert-tiny, simulated"]')!;
    expect([...second.querySelectorAll('g.bar')].map((b) => b.getAttribute('data-bar'))).toEqual(['compressed', 'analytic']);
    expect([...second.querySelectorAll('g.bar.analytic rect')].map((r) => r.classList[1])).toEqual(['quantized', 'rest']);
  });

  test('the table has every segment and the analytic total', () => {
    const rows = sizeTableRows(data);
    expect(rows.length).toBe(sizeSegments(data[0]).length + 1 + sizeSegments(data[1]).length + 1);
    const a = data[0].analytic!;
    expect(rows.find((r) => r.id === '0.analytic-total')!.kib).toBe(((a.weightBytes + a.scaleBytes! + a.zeroPointBytes! + a.restBytes) / 1024).toFixed(1));
  });

  test('no models: an empty chart', () => {
    expect(sizeChart([], { width: 300, height: 100 }, document).querySelectorAll('g.bar').length).toBe(0);
  });

  test('matches the snapshot on seeded data', () => {
    expect(render().outerHTML).toMatchSnapshot();
  });
});
