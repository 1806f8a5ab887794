// @vitest-environment jsdom
// The React wrappers of the charts: SparsityView's table toggle, and MaskView fetching a layer,
// drawing it, and following a drag in its fields without redrawing the chart.
import { act, createElement } from 'react';
import { createRoot, type Root } from 'react-dom/client';
import { afterEach, beforeEach, describe, expect, test, vi } from 'vitest';
import type { LayerWeights } from '../../../workers/protocol';
import type { CompressReport, LayerQuantReport } from '../../core/compress/report';
import { MaskView } from '../components/MaskView';
import { QuantView } from '../components/QuantView';
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
    // The table's scroll box takes keyboard focus and is named (axe: scrollable-region-focusable).
    const region = host.querySelector<HTMLElement>('[data-testid=sparsity-table]')!.closest<HTMLElement>('.table-scroll')!;
    expect([region.tabIndex, region.getAttribute('role'), region.getAttribute('aria-label')]).toEqual([0, 'region', 'Sparsity per layer (scrollable)']);
  });
});

describe('QuantView', () => {
  const row = (id: string, exported: 'packed' | 'simulated'): LayerQuantReport => ({
    id, name: id, block: 0, role: 'mlp.up', stage: 0, shape: [64, 256], method: 'rtn', format: '4-bit asym, groups of 32', bitsPerWeight: 4.75, export: exported, packedBytes: 9728,
    parts: { weights: 8192, scales: 1024, zeroPoints: 512, groupIndex: 0, floatColumns: 0 },
    relativeError: null, relativeErrorBasis: null, relativeErrorTokens: null, zerosKept: 0, rezeroed: 0, ms: 1, backend: { requested: 'cpu', ran: 'cpu' },
  });
  const report = (exported: 'packed' | 'simulated', measured: number) =>
    ({
      summary: 'RTN 4-bit',
      quantized: [row('a', exported), row('b', exported)],
      totals: {
        denseFileBytes: measured, analyticQuantizedFileBytes: 30_000, packedLayers: exported === 'packed' ? 2 : 0, simulatedLayers: exported === 'simulated' ? 2 : 0,
        analyticParts: { weights: 16_384, scales: 2_048, zeroPoints: 1_024, groupIndex: 0, floatColumns: 0, rest: 10_544 },
      },
    }) as unknown as CompressReport;

  test("the analytic bar stacks the report's parts; the measured difference is shown in %; the tables scroll with the keyboard", () => {
    act(() => root.render(createElement(QuantView, { report: report('packed', 30_300), denseBytes: 120_000 })));
    const segments = [...host.querySelectorAll('svg.size-chart g.bar.analytic rect.segment')].map((r) => [r.classList[1], Number(r.getAttribute('data-bytes'))]);
    expect(segments).toEqual([['weights', 16_384], ['scales', 2_048], ['zeros', 1_024], ['rest', 10_544]]);
    expect(host.querySelector('[data-testid=size-difference]')!.textContent).toContain('+1.00 %');
    act(() => host.querySelector<HTMLInputElement>('input[type=checkbox]')!.click());
    const regions = [...host.querySelectorAll<HTMLElement>('.table-scroll')];
    expect(regions.map((r) => [r.tabIndex, r.getAttribute('role'), r.getAttribute('aria-label')])).toEqual([
      [0, 'region', 'Bits per weight per layer (scrollable)'],
      [0, 'region', 'File size (scrollable)'],
    ]);
  });

  test('a simulated file says why it is larger than its analytic size', () => {
    act(() => root.render(createElement(QuantView, { report: report('simulated', 90_000), denseBytes: 120_000 })));
    expect(host.querySelector('[data-testid=size-difference]')!.textContent).toMatch(/\+200\.00 % — 2 SIMULATED layers/);
  });
});

describe('MaskView', () => {
  const rows = 64;
  const cols = 128;
  const weights = (): LayerWeights => {
    const magnitude = Float32Array.from({ length: rows * cols }, (_, i) => (i % 4 < 2 ? 1 + (i % 7) : 0));
    return { rows, cols, data: Uint8Array.from(magnitude, (m) => (m ? 1 : 0)), magnitude, storage: 'float' };
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
    expect(host.querySelector('[data-testid=mask-packed-note]')).toBeNull();
  });

  test('a packed layer draws its mask and says it comes from the codes', async () => {
    const fetchWeights = vi.fn(async (): Promise<LayerWeights> => ({ ...weights(), storage: 'packed' }));
    await act(async () => root.render(createElement(MaskView, { runId: 'run', layers: [{ id: 'a', name: 'blocks.0.mlp.up', shape: [rows, cols] }], pattern: { kind: 'nm', n: 2, m: 4 }, fetchWeights })));
    expect(host.querySelectorAll('svg.mask-chart g.window rect.kept').length).toBe(32 * 32);
    expect(host.querySelector('[data-testid=mask-packed-note]')!.textContent).toMatch(/code equals its block’s zero point/);
  });
});
