// The attention map and its thumbnail render in jsdom: cells, masked cells, sink marks, and the
// hover read-out for a cell, a query label and a key label.
import { JSDOM } from 'jsdom';
import { describe, expect, test } from 'vitest';
import { attentionColor, attentionMapChart, headThumbnail } from './attentionMap';

const { window } = new JSDOM('<!doctype html><body></body>');
const { document } = window;

/** A causal T × T map whose rows put `sinkShare` on key 0 and spread the rest evenly over the visible keys. */
function causalMap(tokens: number, sinkShare: number): Float32Array {
  const map = new Float32Array(tokens * tokens);
  for (let i = 0; i < tokens; i++) {
    if (i === 0) map[0] = 1;
    else for (let j = 0; j <= i; j++) map[i * tokens + j] = j === 0 ? sinkShare : (1 - sinkShare) / i;
  }
  return map;
}

describe('attentionMapChart', () => {
  const tokens = 5;
  const view = { tokens, probabilities: causalMap(tokens, 0.6), offset: 0, causal: true, labels: [...'And G'], sinks: [0], threshold: 0.1, title: 'block 0 head 0' };

  test('one cell per query and key, masked cells grey, the sink column marked', () => {
    const svg = attentionMapChart(view, { width: 400, height: 300 }, document);
    const cells = svg.querySelectorAll('.cells rect');
    expect(cells).toHaveLength(tokens * tokens);
    expect(cells[0].getAttribute('fill')).toBe(attentionColor(1));
    expect(cells[1].getAttribute('fill')).not.toBe(cells[tokens + 1].getAttribute('fill')); // masked (0,1) vs visible (1,1)
    expect(svg.querySelectorAll('text.sink-mark')).toHaveLength(1);
    expect(svg.querySelector('.key-labels text[data-key="3"]')!.textContent).toBe('␣');
  });

  test('hover read-outs name the cell, the query row or the key column', () => {
    const svg = attentionMapChart(view, { width: 400, height: 300 }, document);
    document.body.replaceChildren(svg);
    const readout = () => svg.querySelector('text.readout')!.textContent;
    expect(readout()).toMatch(/^Hover a cell/);
    // jsdom has no layout: d3.pointer gives clientX/Y minus the plot's (zero) bounding rect, i.e. plot coordinates.
    const cell = Number(svg.querySelector('.cells rect:nth-child(2)')!.getAttribute('x'));
    const move = (x: number, y: number) => svg.dispatchEvent(new window.MouseEvent('mousemove', { clientX: x, clientY: y, bubbles: true }));
    move(cell * 0.5, cell * 3.5);
    expect(readout()).toBe('query 3 “␣” → key 0 “A”: 0.600');
    move(-5, cell * 4.5);
    expect(readout()).toMatch(/^query 4 “G”: where it attends/);
    move(cell * 0.5, -5);
    expect(readout()).toMatch(/^key 0 “A”: who attends to it \(its column\) — a sink$/);
  });
});

describe('headThumbnail', () => {
  test('long inputs are drawn as at most 32 × 32 block means, sinks as ticks', () => {
    const tokens = 64;
    const svg = headThumbnail({ tokens, probabilities: causalMap(tokens, 0.5), offset: 0, causal: true }, [0, 40], { width: 56, height: 59 }, document);
    expect(svg.querySelectorAll('rect:not(.sink-mark)')).toHaveLength(32 * 32);
    expect(svg.querySelectorAll('rect.sink-mark')).toHaveLength(2);
  });
});
