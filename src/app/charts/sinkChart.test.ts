// The sink chart renders in jsdom from real layer statistics (stats.ts on synthetic maps whose sink
// counts are known by construction): one cell per layer × head, the hidden-sink counts, the layer
// totals, the sink-mass colour, and a click that picks the head.
import { JSDOM } from 'jsdom';
import { describe, expect, test } from 'vitest';
import { layerStats } from '../../core/attention/stats';
import { sinkChart, sinkMassColor } from './sinkChart';

const { window } = new JSDOM('<!doctype html><body></body>');
const { document } = window;

/**
 * A causal T × T head whose rows put 0.4 on each of `sinkKeys` once visible (0.4 in all on key 0
 * for row 0) and spread the rest over the other visible keys.
 */
function headWithSinks(tokens: number, sinkKeys: readonly number[]): Float32Array {
  const map = new Float32Array(tokens * tokens);
  for (let i = 0; i < tokens; i++) {
    const visible = sinkKeys.filter((j) => j <= i);
    const share = visible.length === 0 ? 0 : Math.min(0.4, 0.9 / visible.length);
    const others = i + 1 - visible.length;
    for (let j = 0; j <= i; j++) map[i * tokens + j] = visible.includes(j) ? (others === 0 ? 1 / visible.length : share) : (1 - share * visible.length) / others;
  }
  return map;
}

const tokens = 24;
/** Sink keys per layer and head: layer 0 has 0, 1 and 2 hidden sinks in heads 0-2; layer 1 one in head 2. */
const sinkKeys = [
  [[0], [0, 7], [0, 7, 15]],
  [[0], [0], [0, 12]],
];
const layers = sinkKeys.map((heads, l) => {
  const probabilities = new Float32Array(heads.length * tokens * tokens);
  heads.forEach((keys, h) => probabilities.set(headWithSinks(tokens, keys), h * tokens * tokens));
  return layerStats({ softmaxNode: `softmax_${l}`, block: l, heads: heads.length, tokens, causal: true, probabilities });
});

describe('sinkChart', () => {
  test('the synthetic heads have the sinks they were built with', () => {
    expect(layers.map((l) => l.heads.map((h) => h.sinks))).toEqual(sinkKeys);
  });

  test('one cell per layer × head with its hidden sinks, coloured by sink mass; layer totals', () => {
    const svg = sinkChart({ layers, layerNames: ['block 0', 'block 1'], picked: { site: 0, head: 1 } }, { width: 500, height: 200 }, document, () => {});
    const cells = [...svg.querySelectorAll('g.sink-cell')];
    expect(cells).toHaveLength(2 * 3);
    expect(cells.map((c) => Number(c.getAttribute('data-hidden')))).toEqual([0, 1, 2, 0, 0, 1]);
    expect(cells.map((c) => c.querySelector('text')?.textContent ?? '')).toEqual(['', '1', '2', '', '', '1']);
    expect(cells[2].querySelector('rect')!.getAttribute('fill')).toBe(sinkMassColor(layers[0].heads[2].sinkMass));
    expect(cells[1].querySelector('rect')!.getAttribute('stroke')).not.toBe('none'); // the picked head
    expect([...svg.querySelectorAll('text.layer-total')].map((t) => t.textContent)).toEqual(['3', '1']);
    expect([...svg.querySelectorAll('text.head-label')].map((t) => t.textContent)).toEqual(['0', '1', '2']);
    expect(svg.querySelector('.legend')!.textContent).toMatch(/sink mass.*hidden sinks/);
  });

  test('a click on a cell picks its layer and head', () => {
    const picks: [number, number][] = [];
    const svg = sinkChart({ layers, layerNames: ['block 0', 'block 1'], picked: { site: 0, head: 0 } }, { width: 500, height: 200 }, document, (site, head) => picks.push([site, head]));
    svg.querySelector('g.sink-cell[data-site="1"][data-head="2"]')!.dispatchEvent(new window.MouseEvent('click', { bubbles: true }));
    expect(picks).toEqual([[1, 2]]);
  });
});
