// @vitest-environment jsdom
// The weight-histogram view on data the core reads from a written MatMulNBits file: it asks for
// the picked layer and group, draws the group's levels and clipped range, lists scale and zero
// point, hides the stored values on request, and offers the bins as a table in a focusable region.
import { act, createElement } from 'react';
import { createRoot, type Root } from 'react-dom/client';
import { afterEach, beforeEach, describe, expect, test, vi } from 'vitest';
import { inspectLayerQuant, readStoredLayer, type QuantScope } from '../../core/compress';
import { analyzeModel } from '../../core/model/analyze';
import { writeMatMulNBits } from '../../core/quant/export/matMulNBits';
import { oneLayerModel, seededWeight, tinyRtn } from '../../core/quant/export/testing/exportFixtures';
import { QuantHistogramView, type QuantLayerChoice } from './QuantHistogramView';

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

const dense = seededWeight(8, 64, 13);
const q = tinyRtn(dense, 4, 32, false);
// The grid was fitted to a shrunk copy, so the dense weights beyond it are clipped.
for (let i = 0; i < q.scales.length; i++) q.scales[i] *= 0.5;
const source = oneLayerModel(dense, new Float32Array(8), 'matmul');
const layer = analyzeModel(source).linears[0];
const stored = readStoredLayer(writeMatMulNBits(source, [{ layer, weight: q }]).model, layer);
const choice: QuantLayerChoice = { id: layer.id, name: 'fc', shape: [8, 64], method: 'rtn', export: 'packed' };

describe('QuantHistogramView', () => {
  test('draws the picked group against its grid, says what was clipped, hides stored values, and has a table', async () => {
    const fetchLayer = vi.fn(async (_: QuantLayerChoice, scope: QuantScope) => inspectLayerQuant({ layer, dense, stored, method: 'rtn', scope }));
    await act(async () => root.render(createElement(QuantHistogramView, { runId: 'run', layers: [choice], fetchLayer })));
    expect(fetchLayer).toHaveBeenLastCalledWith(choice, { kind: 'group', row: 0, group: 0 });
    await act(async () => {
      const rowField = host.querySelector<HTMLInputElement>('input[aria-label="Histogram row"]')!;
      const setter = Object.getOwnPropertyDescriptor(HTMLInputElement.prototype, 'value')!.set!;
      setter.call(rowField, '3');
      rowField.dispatchEvent(new Event('input', { bubbles: true }));
    });
    expect(fetchLayer).toHaveBeenLastCalledWith(choice, { kind: 'group', row: 3, group: 0 });
    const svg = host.querySelector('svg.weight-histogram')!;
    expect(svg.querySelectorAll('line.level')).toHaveLength(16);
    expect(svg.querySelectorAll('g.clipped rect')).toHaveLength(2);
    const caption = host.querySelector('[data-testid=quant-histogram-caption]')!.textContent!;
    expect(caption).toContain(`zero point ${q.zeroPoints[3 * 2]}`);
    expect(caption).toMatch(/Clipped: [1-9]\d* of 32 dense weights/);
    expect(caption).toContain('MatMulNBits node');
    await act(async () => [...host.querySelectorAll<HTMLInputElement>('input[type=checkbox]')].find((c) => c.parentElement!.textContent!.includes('Show stored'))!.click());
    expect(host.querySelectorAll('svg.weight-histogram g.bins.quantized')).toHaveLength(0);
    await act(async () => [...host.querySelectorAll<HTMLInputElement>('input[type=checkbox]')].find((c) => c.parentElement!.textContent!.includes('Show as table'))!.click());
    const table = host.querySelector('[data-testid=quant-histogram-table]')!;
    const counts = [...table.querySelectorAll('tbody tr')].reduce((n, tr) => n + Number(tr.children[2].textContent), 0);
    expect(counts).toBe(32);
    expect(table.closest('[role=region]')!.getAttribute('tabindex')).toBe('0');
  });
});
