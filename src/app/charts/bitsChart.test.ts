// The bits chart renders in jsdom; keyboard behaviour is exercised by dispatching events.
import { JSDOM } from 'jsdom';
import { afterEach, describe, expect, test } from 'vitest';
import { bitsChart, bitsTableRows, SIMULATED_LABEL, type LayerBits } from './bitsChart';

const { window } = new JSDOM('<!doctype html><body></body>');
const { document } = window;

function seeded(seed: number) {
  let s = seed;
  return () => (s = (s * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
}

/** Blocks of GPT-2 roles plus an LM head; about one layer in four simulated. */
function modelLayers(blocks: number, seed: number): LayerBits[] {
  const rand = seeded(seed);
  const roles = ['attn.qkv', 'attn.out', 'mlp.up', 'mlp.down'] as const;
  const inBlocks = Array.from({ length: blocks }, (_, block) =>
    roles.map((role): LayerBits => {
      const simulated = rand() < 0.25;
      const bits = rand() < 0.5 ? 4 : 8;
      return { id: `b${block}.${role}`, name: `blocks.${block}.${role}`, block, role, format: `${bits}-bit asym, groups of 32`, bitsPerWeight: bits + 0.75, export: simulated ? 'simulated' : 'packed', simulatedBecause: simulated ? 'C_in not a multiple of 32' : undefined };
    }),
  ).flat();
  return [...inBlocks, { id: 'head', name: 'lm_head', block: null, role: 'head', format: 'MXFP4 (E2M1)', bitsPerWeight: 4.25, export: 'packed' }];
}

const key = (el: Element, k: string) => el.dispatchEvent(new window.KeyboardEvent('keydown', { key: k, bubbles: true, cancelable: true }));
const tooltipText = (svg: SVGSVGElement) => [...svg.querySelectorAll('g.chart-tooltip tspan')].map((t) => t.textContent);
const bars = (svg: SVGSVGElement) => [...svg.querySelectorAll<SVGGElement>('g.layer')];

afterEach(() => document.body.replaceChildren());

describe('bitsChart', () => {
  const layers = modelLayers(3, 11);
  const simulated = layers.filter((l) => l.export === 'simulated');

  test('simulated layers are hatched, packed ones solid; the legend names the hatching and the axis says analytic', () => {
    expect(simulated.length).toBeGreaterThan(0);
    const svg = bitsChart(layers, { width: 600, height: 240 }, document);
    expect(bars(svg).length).toBe(layers.length);
    const hatched = bars(svg).filter((b) => b.querySelector('g.hatch line'));
    expect(hatched.map((b) => b.getAttribute('data-layer'))).toEqual(simulated.map((l) => l.id));
    expect(bars(svg).filter((b) => b.classList.contains('packed')).every((b) => !b.querySelector('g.hatch'))).toBe(true);
    expect([...svg.querySelectorAll('g.legend text')].map((t) => t.textContent).at(-1)).toBe(SIMULATED_LABEL);
    expect([...svg.querySelectorAll('.axis-title')].map((t) => t.textContent)).toEqual(['bits per weight (analytic)', 'block']);
  });

  test('no simulated layer: no hatching and no simulated legend entry', () => {
    const svg = bitsChart(layers.map((l) => ({ ...l, export: 'packed' as const })), { width: 600, height: 240 }, document);
    expect(svg.querySelectorAll('g.hatch').length).toBe(0);
    expect(svg.querySelector('g.legend')!.textContent).not.toContain('simulated');
  });

  test('arrow keys, Home and End move focus and the tooltip says format, bits and storage', () => {
    const svg = bitsChart(layers, { width: 600, height: 240 }, document);
    document.body.append(svg);
    const all = bars(svg);
    all[0].focus();
    expect(tooltipText(svg)).toEqual(['blocks.0.attn.qkv', 'role: attention q/k/v (attn.qkv)', `format: ${layers[0].format}`, `${layers[0].bitsPerWeight.toFixed(2)} bits/weight`, layers[0].export === 'packed' ? 'packed (MatMulNBits)' : 'simulated: stored as floats (C_in not a multiple of 32)']);
    key(document.activeElement!, 'ArrowRight');
    expect(document.activeElement).toBe(all[1]);
    expect(all.map((b) => b.getAttribute('tabindex')).filter((t) => t === '0')).toEqual(['0']);
    key(document.activeElement!, 'End');
    expect(tooltipText(svg)[0]).toBe('lm_head');
    const sim = all.find((b) => b.classList.contains('simulated'))!;
    sim.focus();
    expect(tooltipText(svg).at(-1)).toBe('simulated: stored as floats (C_in not a multiple of 32)');
    key(document.activeElement!, 'Escape');
    expect(svg.querySelector('g.chart-tooltip')!.getAttribute('display')).toBe('none');
  });

  test('the table alternative has one row per layer', () => {
    const rows = bitsTableRows(layers);
    expect(rows.length).toBe(layers.length);
    expect(rows.at(-1)).toEqual({ id: 'head', layer: 'lm_head', block: 'none', role: 'head (head)', format: 'MXFP4 (E2M1)', bitsPerWeight: '4.25', storage: 'packed' });
    expect(rows.filter((r) => r.storage.startsWith('simulated')).length).toBe(simulated.length);
  });

  test('no layers: an empty chart', () => {
    expect(bitsChart([], { width: 300, height: 120 }, document).querySelectorAll('g.layer').length).toBe(0);
  });

  test('matches the snapshot on seeded data', () => {
    expect(bitsChart(modelLayers(2, 7), { width: 480, height: 220 }, document).outerHTML).toMatchSnapshot();
  });
});
