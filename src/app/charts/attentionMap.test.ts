// The attention map and its thumbnail render in jsdom: cells (pixels of one image), masked cells,
// sink marks, and the hover read-out for a cell, a query label and a key label; the ACT
// comparison: after-ACT cells equal act.ts on the captured map, a change scale symmetric around 0,
// one hover naming all three values.
import * as d3 from 'd3';
import { JSDOM } from 'jsdom';
import { describe, expect, test } from 'vitest';
import { actEditHead, findSinks, sinkScores, ACT_REFERENCE_PARAMS } from '../../core/attention/act';
import { actCompareChart, actComparison, attentionColor, attentionMapChart, changeColor, headThumbnail, type HeadMap } from './attentionMap';
import { cellBitmapPixel } from './cellBitmap';

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
    const image = svg.querySelector('image.cells')!;
    expect(image.getAttribute('data-cells')).toBe(String(tokens * tokens));
    const pixel = (i: number, j: number) => cellBitmapPixel(image.getAttribute('href')!, i, j);
    expect(pixel(0, 0)).toBe(attentionColor(1));
    expect(pixel(3, 0)).toBe(attentionColor(0.6));
    expect(pixel(4, 2)).toBe(attentionColor(0.1));
    expect(pixel(0, 1)).toBe(d3.rgb('#d5d9df').toString()); // masked: a query sees no later key
    expect(svg.querySelectorAll('text.sink-mark')).toHaveLength(1);
    expect(svg.querySelector('.key-labels text[data-key="3"]')!.textContent).toBe('␣');
  });

  test('hover read-outs name the cell, the query row or the key column', () => {
    const svg = attentionMapChart(view, { width: 400, height: 300 }, document);
    document.body.replaceChildren(svg);
    const readout = () => svg.querySelector('text.readout')!.textContent;
    expect(readout()).toMatch(/^Hover a cell/);
    // jsdom has no layout: d3.pointer gives clientX/Y minus the plot's (zero) bounding rect, i.e. plot coordinates.
    const cell = Number(svg.querySelector('image.cells')!.getAttribute('width')) / tokens;
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
    const image = svg.querySelector('image.cells')!;
    expect(image.getAttribute('data-cells')).toBe(String(32 * 32));
    // Block (1, 0) averages queries 2-3 over keys 0-1: rows put 0.5 on key 0 and 0.5/i on key 1.
    expect(cellBitmapPixel(image.getAttribute('href')!, 1, 0)).toBe(attentionColor((0.5 + 0.25 + 0.5 + 0.5 / 3) / 2));
    expect(cellBitmapPixel(image.getAttribute('href')!, 0, 1)).toBe(d3.rgb('#d5d9df').toString()); // keys 2-3 are later than queries 0-1
    expect(svg.querySelectorAll('rect.sink-mark')).toHaveLength(2);
  });
});

/**
 * A causal T × T head whose rows put 0.5 on key 0, 0.3 on key `hidden` (once visible) and spread
 * the rest over the other visible keys: key 0 is the first sink, key `hidden` one ACT edits.
 */
function mapWithHiddenSink(tokens: number, hidden: number): Float32Array {
  const map = new Float32Array(tokens * tokens);
  map[0] = 1;
  for (let i = 1; i < tokens; i++) {
    const special = i >= hidden ? [0, hidden] : [0];
    const rest = 1 - 0.5 - (i >= hidden ? 0.3 : 0);
    for (let j = 0; j <= i; j++) map[i * tokens + j] = j === 0 ? 0.5 : j === hidden && i >= hidden ? 0.3 : rest / (i + 1 - special.length);
  }
  return map;
}

describe('the ACT comparison', () => {
  const tokens = 16;
  // Two heads in one capture: head 1 (offset T²) has the hidden sink, head 0 only its first.
  const probabilities = new Float32Array(2 * tokens * tokens);
  probabilities.set(causalMap(tokens, 0.6), 0);
  probabilities.set(mapWithHiddenSink(tokens, 5), tokens * tokens);
  const head1: HeadMap = { tokens, probabilities, offset: tokens * tokens, causal: true };
  const labels = [...'In the beginning'];

  test('after ACT equals actEditHead on the captured head; the change is after − before', () => {
    const head = probabilities.subarray(tokens * tokens);
    expect(findSinks(sinkScores(head, tokens, true), 0.1)).toEqual({ sinks: [0, 5], edited: [5] });
    const compared = actComparison(head1, ACT_REFERENCE_PARAMS);
    expect(compared.after.probabilities).toEqual(actEditHead(head, tokens, true, ACT_REFERENCE_PARAMS));
    expect(compared.edited).toEqual([5]);
    expect(compared.change.probabilities[7 * tokens + 5]).toBeCloseTo((0.4 - 1) * 0.3, 6);
    expect(compared.extent).toBeCloseTo(0.18, 6);
  });

  test('a head with no sink beyond the first: nothing edited, no change', () => {
    const compared = actComparison({ ...head1, offset: 0 }, ACT_REFERENCE_PARAMS);
    expect(compared.sinks).toEqual([0]);
    expect(compared.edited).toEqual([]);
    expect(compared.extent).toBe(0);
    expect(Array.from(compared.change.probabilities).every((v) => v === 0)).toBe(true);
  });

  test('the change scale is symmetric around 0: ±extent at the ends of RdBu, 0 at its middle', () => {
    const color = changeColor(0.18);
    expect(color(-0.18)).toBe(d3.interpolateRdBu(0));
    expect(color(0.18)).toBe(d3.interpolateRdBu(1));
    expect(color(0)).toBe(d3.interpolateRdBu(0.5));
    expect(color(-0.045)).toBe(d3.interpolateRdBu(0.25)); // √(1/4) = 1/2 of the way
    const compared = actComparison(head1, ACT_REFERENCE_PARAMS);
    const svg = actCompareChart({ original: head1, act: compared, labels, title: 'block 0 head 1', panels: ['before', 'after', 'change'] }, { width: 900, height: 400 }, document);
    const ticks = [...svg.querySelectorAll('text.change-tick')].map((t) => t.textContent);
    expect(ticks).toEqual(['−0.180', '−0.045', '0', '+0.045', '+0.180']);
    const unchanged = actComparison({ ...head1, offset: 0 }, ACT_REFERENCE_PARAMS);
    const flat = actCompareChart({ original: { ...head1, offset: 0 }, act: unchanged, labels, title: 'block 0 head 0', panels: ['change'] }, { width: 900, height: 400 }, document);
    expect([...flat.querySelectorAll('text.change-tick')].map((t) => t.textContent)).toEqual(['0']);
  });

  test('three panels drawn from the comparison, sinks marked on each, one hover names all three values', () => {
    const compared = actComparison(head1, ACT_REFERENCE_PARAMS);
    const svg = actCompareChart({ original: head1, act: compared, labels, title: 'block 0 head 1', panels: ['before', 'after', 'change'] }, { width: 900, height: 400 }, document);
    document.body.replaceChildren(svg);
    const image = (panel: string) => svg.querySelector(`image.cells[data-panel=${panel}]`)!;
    const pixel = (panel: string, i: number, j: number) => cellBitmapPixel(image(panel).getAttribute('href')!, i, j);
    expect(pixel('before', 7, 5)).toBe(attentionColor(0.3));
    expect(pixel('after', 7, 5)).toBe(attentionColor(compared.after.probabilities[7 * tokens + 5]));
    expect(pixel('change', 7, 5)).toBe(changeColor(compared.extent)(compared.change.probabilities[7 * tokens + 5]));
    expect(svg.querySelectorAll('.panel')).toHaveLength(3);
    for (const panel of svg.querySelectorAll('.panel')) expect([...panel.querySelectorAll('text.sink-mark')]).toHaveLength(2);

    // The third panel's cell (7, 5): jsdom has no layout, so client coordinates are the plots' own.
    const cell = Number(image('before').getAttribute('width')) / tokens;
    const third = Number(svg.querySelector('.panel-change')!.getAttribute('transform')!.match(/translate\(([\d.]+)/)![1]);
    svg.dispatchEvent(new window.MouseEvent('mousemove', { clientX: third + 5.5 * cell, clientY: 7.5 * cell, bubbles: true }));
    // An edited sink's cell keeps β of its weight: 0.4 × 0.3.
    expect(svg.querySelector('text.readout')!.textContent).toBe('query 7 “b” → key 5 “e”: original 0.300, after ACT 0.120, change −0.180');
  });
});
