import { JSDOM } from 'jsdom';
import { describe, expect, test } from 'vitest';
import { maskChart } from './maskChart';
import { sparsityChart, type LayerSparsity } from './sparsityChart';

const { document } = new JSDOM('').window;

function seeded(seed: number) {
  let s = seed;
  return () => (s = (s * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
}

describe('sparsityChart', () => {
  const rand = seeded(3);
  const layers: LayerSparsity[] = [0, 1].flatMap((block) =>
    ['q', 'k', 'fc1'].map((r) => ({ id: `b${block}.${r}`, name: `blocks.${block}.${r}`, block, role: r, target: 0.5, achieved: 0.45 + 0.1 * rand() })),
  );

  test('groups bars by block with target and achieved per layer and hover titles', () => {
    const svg = sparsityChart(layers, { width: 500, height: 200 }, document);
    expect(svg.querySelectorAll('g.block').length).toBe(2);
    expect(svg.querySelectorAll('rect.achieved').length).toBe(6);
    expect(svg.querySelectorAll('rect.target').length).toBe(6);
    expect(svg.querySelector('g.layer[data-layer="b1.fc1"] title')?.textContent).toMatch(/blocks\.1\.fc1 \(fc1\)\ntarget 50\.00 %/);
  });

  test('matches the snapshot on seeded data', () => {
    expect(sparsityChart(layers, { width: 400, height: 160 }, document).outerHTML).toMatchSnapshot();
  });
});

describe('maskChart', () => {
  test('draws one cell per weight in the window, with the 2:4 pattern visible', () => {
    const rows = 8;
    const cols = 16;
    const keep = new Uint8Array(rows * cols).map((_, i) => ((i % 4) < 2 ? 1 : 0));
    const svg = maskChart({ rows, cols, keep, window: { row: 0, col: 0, rows: 8, cols: 16 }, groupCols: 4 }, { width: 400, height: 120 }, document);
    expect(svg.querySelectorAll('g.window rect.kept').length).toBe(64);
    expect(svg.querySelectorAll('g.window rect.pruned').length).toBe(64);
    expect(svg.querySelectorAll('g.window line.group-guide').length).toBe(3);
    expect(svg.querySelectorAll('g.overview rect').length).toBe(8 * 16 + 1);
  });
});
