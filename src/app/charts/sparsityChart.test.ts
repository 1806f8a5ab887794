// The sparsity chart renders in jsdom; its keyboard and hover behaviour is exercised by dispatching events.
import { JSDOM } from 'jsdom';
import { afterEach, describe, expect, test } from 'vitest';
import { blockLabelPlan, sparsityChart, sparsityTableRows, type LayerSparsity } from './sparsityChart';

const { window } = new JSDOM('<!doctype html><body></body>');
const { document } = window;

function seeded(seed: number) {
  let s = seed;
  return () => (s = (s * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
}

/** Blocks of the given roles plus an LM head, achieved a little off a 50 % target. */
function modelLayers(blocks: number, roles: string[], seed: number): LayerSparsity[] {
  const rand = seeded(seed);
  const inBlocks = Array.from({ length: blocks }, (_, block) =>
    roles.map((role) => ({ id: `b${block}.${role}`, name: `blocks.${block}.${role}`, block, role, target: 0.5, achieved: 0.45 + 0.1 * rand() })),
  ).flat();
  return [...inBlocks, { id: 'head', name: 'lm_head', block: null, role: 'head', target: 0.3, achieved: 0.3 }];
}

const bertRoles = ['attn.q', 'attn.k', 'attn.v', 'attn.out', 'mlp.up', 'mlp.down'];
const gpt2Roles = ['attn.qkv', 'attn.out', 'mlp.up', 'mlp.down'];

function mounted(layers: LayerSparsity[], width = 600, height = 240): SVGSVGElement {
  const svg = sparsityChart(layers, { width, height }, document);
  document.body.append(svg);
  return svg;
}
const key = (el: Element, k: string) => el.dispatchEvent(new window.KeyboardEvent('keydown', { key: k, bubbles: true, cancelable: true }));
const tooltip = (svg: SVGSVGElement) => svg.querySelector('g.chart-tooltip')!;
const tooltipText = (svg: SVGSVGElement) => [...tooltip(svg).querySelectorAll('tspan')].map((t) => t.textContent);
const bars = (svg: SVGSVGElement) => [...svg.querySelectorAll<SVGGElement>('g.layer')];

afterEach(() => document.body.replaceChildren());

describe('sparsityChart', () => {
  const layers = modelLayers(2, bertRoles, 3);

  test('one bar per layer grouped by block, coloured by role class, the target tick drawn after (in front of) the bar', () => {
    const svg = sparsityChart(layers, { width: 600, height: 240 }, document);
    expect([...svg.querySelectorAll('g.block')].map((g) => g.getAttribute('data-block'))).toEqual(['0', '1', 'none']);
    expect(bars(svg).length).toBe(layers.length);
    for (const bar of bars(svg)) {
      const achieved = bar.querySelector('rect.achieved')!;
      const target = bar.querySelector('line.target')!;
      expect(achieved.compareDocumentPosition(target) & window.Node.DOCUMENT_POSITION_FOLLOWING).toBeTruthy();
      expect(Number(target.getAttribute('stroke-width'))).toBeGreaterThanOrEqual(3);
    }
    const fill = (id: string) => (svg.querySelector(`g.layer[data-layer="${id}"] rect.achieved`) as SVGElement).style.fill;
    expect(fill('b0.attn.q')).toBe(fill('b1.attn.k'));
    expect(new Set(['b0.attn.q', 'b0.attn.out', 'b0.mlp.up', 'b0.mlp.down', 'head'].map(fill)).size).toBe(5);
  });

  test('labelled axes and a legend of the roles present plus the target', () => {
    const svg = sparsityChart(layers, { width: 600, height: 240 }, document);
    expect([...svg.querySelectorAll('.axis-title')].map((t) => t.textContent)).toEqual(['sparsity (%)', 'block']);
    expect([...svg.querySelectorAll('g.legend text')].map((t) => t.textContent)).toEqual(['attention q/k/v', 'attention out', 'MLP up/gate', 'MLP down', 'head', 'target']);
    expect(svg.querySelector('title')).toBeNull();
  });

  test('roving tabindex: one bar in the tab order, each an img labelled with its values', () => {
    const svg = sparsityChart(layers, { width: 600, height: 240 }, document);
    expect(bars(svg).map((b) => b.getAttribute('tabindex')).filter((t) => t === '0').length).toBe(1);
    expect(bars(svg)[0].getAttribute('tabindex')).toBe('0');
    const head = svg.querySelector('g.layer[data-layer="head"]')!;
    expect(head.getAttribute('role')).toBe('img');
    expect(head.getAttribute('aria-label')).toBe('lm_head, role: head (head), target 30.0 %, achieved 30.0 %');
  });

  test('arrow keys, Home and End move focus between bars and the tooltip follows; Escape and blur hide it', () => {
    const svg = mounted(layers);
    const all = bars(svg);
    expect(tooltip(svg).getAttribute('display')).toBe('none');
    all[0].focus();
    expect(tooltip(svg).getAttribute('display')).toBeNull();
    expect(tooltipText(svg)).toEqual(['blocks.0.attn.q', 'role: attention q/k/v (attn.q)', `target 50.0 %`, `achieved ${(layers[0].achieved * 100).toFixed(1)} %`]);
    key(document.activeElement!, 'ArrowRight');
    expect(document.activeElement).toBe(all[1]);
    expect(all.map((b) => b.getAttribute('tabindex'))).toEqual(all.map((_, i) => (i === 1 ? '0' : '-1')));
    expect(tooltipText(svg)[0]).toBe('blocks.0.attn.k');
    key(document.activeElement!, 'End');
    expect(document.activeElement).toBe(all[all.length - 1]);
    expect(tooltipText(svg)[0]).toBe('lm_head');
    key(document.activeElement!, 'ArrowRight');
    expect(document.activeElement).toBe(all[all.length - 1]);
    key(document.activeElement!, 'Home');
    key(document.activeElement!, 'ArrowLeft');
    expect(document.activeElement).toBe(all[0]);
    key(document.activeElement!, 'Escape');
    expect(tooltip(svg).getAttribute('display')).toBe('none');
    key(document.activeElement!, 'ArrowRight');
    expect(tooltip(svg).getAttribute('display')).toBeNull();
    all[1].blur();
    expect(tooltip(svg).getAttribute('display')).toBe('none');
  });

  test('hover shows the tooltip of the bar under the pointer, inside the chart', () => {
    const svg = mounted(layers);
    const last = bars(svg)[bars(svg).length - 1];
    last.dispatchEvent(new window.MouseEvent('mouseenter'));
    expect(tooltipText(svg)[0]).toBe('lm_head');
    const [, x] = /translate\(([\d.]+),/.exec(tooltip(svg).getAttribute('transform')!)!;
    expect(Number(x) + Number(tooltip(svg).querySelector('rect')!.getAttribute('width'))).toBeLessThanOrEqual(600);
    last.dispatchEvent(new window.MouseEvent('mouseleave'));
    expect(tooltip(svg).getAttribute('display')).toBe('none');
  });

  test.each([
    ['GPT-2 small, 49 layers', 12],
    ['48 blocks, 193 layers', 48],
  ])('%s at 800 px: bars and block labels do not overlap', (_, blocks) => {
    const svg = sparsityChart(modelLayers(blocks, gpt2Roles, 5), { width: 800, height: 260 }, document);
    const xs = bars(svg).map((b) => b.querySelector('rect.achieved')!).map((r) => [Number(r.getAttribute('x')), Number(r.getAttribute('width'))]);
    for (let i = 1; i < xs.length; i++) expect(xs[i][0]).toBeGreaterThanOrEqual(xs[i - 1][0] + xs[i - 1][1]);
    expect(xs[xs.length - 1][0] + xs[xs.length - 1][1]).toBeLessThanOrEqual(800);
    const labels = [...svg.querySelectorAll('text.block-label')];
    expect(labels[labels.length - 1].textContent).toBe('none');
    const centres = labels.map((l) => Number(l.getAttribute('x') ?? /translate\(([\d.]+)/.exec(l.getAttribute('transform')!)![1]));
    const rotated = labels[0].hasAttribute('transform');
    for (let i = 1; i < labels.length; i++) {
      const needed = rotated ? 15 : ((labels[i].textContent!.length + labels[i - 1].textContent!.length) * 6.2) / 2;
      expect(centres[i] - centres[i - 1]).toBeGreaterThanOrEqual(needed);
    }
    if (blocks === 12) expect(labels.length).toBe(13);
    else expect(rotated).toBe(true);
  });

  test('block labels rotate, then thin, as blocks get narrower', () => {
    const groups = (n: number, width: number) => Array.from({ length: n }, (_, i) => ({ label: String(i), x0: i * width, x1: i * width + width * 0.8 }));
    expect(blockLabelPlan(groups(10, 40))).toEqual({ rotated: false, shown: Array(10).fill(true) });
    expect(blockLabelPlan(groups(12, 16)).rotated).toBe(true);
    expect(blockLabelPlan(groups(12, 16)).shown.filter(Boolean).length).toBe(12);
    expect(blockLabelPlan(groups(12, 5)).shown).toEqual(Array.from({ length: 12 }, (_, i) => i % 3 === 0));
  });

  test('the table alternative has one row per layer, formatted like the tooltip', () => {
    const rows = sparsityTableRows(layers);
    expect(rows.length).toBe(layers.length);
    expect(rows[0]).toEqual({ id: 'b0.attn.q', layer: 'blocks.0.attn.q', block: '0', role: 'attention q/k/v (attn.q)', target: '50.0', achieved: (layers[0].achieved * 100).toFixed(1) });
    expect(rows[rows.length - 1].block).toBe('none');
  });

  test('no layers: an empty chart, not an error', () => {
    expect(sparsityChart([], { width: 300, height: 120 }, document).querySelectorAll('g.layer').length).toBe(0);
  });

  test('matches the snapshot on seeded data', () => {
    expect(sparsityChart(modelLayers(2, bertRoles, 7), { width: 480, height: 220 }, document).outerHTML).toMatchSnapshot();
  });
});
