// @vitest-environment jsdom
// The React wrappers of the charts: SparsityView's table toggle, and MaskView fetching a layer,
// drawing it, and following a drag in its fields without redrawing the chart.
import { act, createElement } from 'react';
import { createRoot, type Root } from 'react-dom/client';
import { afterEach, beforeEach, describe, expect, test, vi } from 'vitest';
import type { LayerWeights } from '../../../workers/protocol';
import { MaskView } from '../components/MaskView';
import { SparsityView } from '../components/SparsityView';
import type { LayerSparsity } from './sparsityChart';

(globalThis as { IS_REACT_ACT_ENVIRONMENT?: boolean }).IS_REACT_ACT_ENVIRONMENT = true;

let host: HTMLDivElement;
let root: Root;
beforeEach(() => {
  host = document.body.appendChild(document.createElement('div'));
  root = createRoot(host);
});
afterEach(() => {
  act(() => root.unmount());
  host.remove();
});

describe('SparsityView', () => {
  const layers: LayerSparsity[] = [
    { id: 'q', name: 'blocks.0.attn.q', block: 0, role: 'attn.q', target: 0.5, achieved: 0.4987 },
    { id: 'head', name: 'lm_head', block: null, role: 'head', target: 0.25, achieved: 0.25 },
  ];

  test('draws the chart, and the toggle swaps it for a table with one row per layer', () => {
    act(() => root.render(createElement(SparsityView, { layers })));
    expect(host.querySelectorAll('svg.sparsity-chart g.layer').length).toBe(2);
    act(() => host.querySelector<HTMLInputElement>('input[type=checkbox]')!.click());
    expect(host.querySelector('svg')).toBeNull();
    const rows = [...host.querySelectorAll('[data-testid=sparsity-table] tbody tr')].map((tr) => [...tr.children].map((c) => c.textContent));
    expect(rows).toEqual([
      ['blocks.0.attn.q', '0', 'attention q/k/v (attn.q)', '50.0', '49.9'],
      ['lm_head', 'none', 'head (head)', '25.0', '25.0'],
    ]);
  });
});

describe('MaskView', () => {
  const rows = 64;
  const cols = 128;
  const weights = (): LayerWeights => {
    const magnitude = Float32Array.from({ length: rows * cols }, (_, i) => (i % 4 < 2 ? 1 + (i % 7) : 0));
    return { rows, cols, data: Uint8Array.from(magnitude, (m) => (m ? 1 : 0)), magnitude };
  };

  test('fetches the picked layer, draws it, and a window move on the overview updates the fields without a redraw', async () => {
    const fetchWeights = vi.fn(async () => weights());
    const layers = [
      { id: 'a', name: 'blocks.0.mlp.up', shape: [rows, cols] as [number, number] },
      { id: 'b', name: 'blocks.0.mlp.down', shape: [rows, cols] as [number, number] },
    ];
    await act(async () => root.render(createElement(MaskView, { runId: 'run', layers, pattern: { kind: 'nm', n: 2, m: 4 }, fetchWeights })));
    expect(fetchWeights).toHaveBeenCalledWith('a');
    const svg = host.querySelector('svg.mask-chart')!;
    expect(svg.querySelectorAll('g.window rect.kept').length).toBe(32 * 32);
    const overview = svg.querySelector<SVGGElement>('g.overview')!;
    overview.focus();
    act(() => void overview.dispatchEvent(new KeyboardEvent('keydown', { key: 'End', bubbles: true })));
    const [rowField, colField] = [...host.querySelectorAll<HTMLInputElement>('input[type=number]')];
    expect([rowField.value, colField.value]).toEqual(['0', String(cols - 64)]);
    expect(host.querySelector('svg.mask-chart')).toBe(svg);
    expect(document.activeElement).toBe(overview);
    await act(async () => {
      const select = host.querySelector('select')!;
      select.value = 'b';
      select.dispatchEvent(new Event('change', { bubbles: true }));
    });
    expect(fetchWeights).toHaveBeenLastCalledWith('b');
    expect(colField.value).toBe('0');
  });
});
