// Charts render in Node with a DOM passed in; snapshot on seeded data.
import { JSDOM } from 'jsdom';
import { describe, expect, test } from 'vitest';
import { trainingCurveChart } from './trainingCurve';

function seededCurve(seed: number, n: number) {
  let s = seed;
  const rand = () => ((s = (s * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  return Array.from({ length: n }, (_, i) => ({ step: i * 100, trainLoss: 3 / (1 + i) + 0.1 * rand(), valLoss: 3.2 / (1 + i) + 0.1 * rand() }));
}

describe('trainingCurveChart', () => {
  const { document } = new JSDOM('').window;

  test('draws a path per series with one vertex per point', () => {
    const svg = trainingCurveChart(seededCurve(1, 12), { width: 400, height: 160 }, document);
    const paths = svg.querySelectorAll('path.curve');
    expect(paths.length).toBe(2);
    for (const p of paths) expect((p.getAttribute('d') ?? '').match(/[ML]/g)?.length).toBe(12);
  });

  test('matches the snapshot on seeded data', () => {
    expect(trainingCurveChart(seededCurve(7, 6), { width: 300, height: 120 }, document).outerHTML).toMatchSnapshot();
  });

  test('an empty curve gives an empty chart, not an error', () => {
    expect(trainingCurveChart([], { width: 300, height: 120 }, document).querySelectorAll('path').length).toBe(0);
  });
});
