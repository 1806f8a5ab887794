import { JSDOM } from 'jsdom';
import { describe, expect, test } from 'vitest';
import type { LayerShapeReport } from '../../core/compress/report';
import { shapeChart, shapeChartHeight, shapeSummary } from './shapeChart';

const { document } = new JSDOM('<!doctype html><body></body>').window;

const row = (o: Partial<LayerShapeReport> & Pick<LayerShapeReport, 'id' | 'role' | 'change' | 'before' | 'after'>): LayerShapeReport => ({
  name: o.id, block: 0, stage: 0, paramsBefore: 0, paramsAfter: 0, relativeError: null, detail: '', ...o,
});

// The bundled LM's shapes: 4 heads of 32, MLP 512; block 0 loses heads 1 and 3 and 128 neurons, block 1 nothing but neurons.
const rows: LayerShapeReport[] = [
  row({ id: 'q0', role: 'attn.q', change: 'heads', before: [128, 128], after: [64, 128], removed: [1, 3] }),
  row({ id: 'o0', role: 'attn.out', change: 'heads', before: [128, 128], after: [128, 64], removed: [1, 3] }),
  row({ id: 'up0', role: 'mlp.up', change: 'neurons', before: [512, 128], after: [384, 128], removed: [] }),
  row({ id: 'down1', block: 1, role: 'mlp.down', change: 'neurons', before: [128, 512], after: [128, 256] }),
  row({ id: 'fc', block: 1, role: 'mlp.up', change: 'rank', before: [512, 128], after: [512, 128], rank: 24 }),
];

describe('shape chart', () => {
  test('reads heads per block (count from the query row), neurons kept per block and ranks per layer', () => {
    const summary = shapeSummary(rows);
    expect(summary.heads).toEqual([{ block: 0, heads: 4, removed: [1, 3] }, { block: 1, heads: 4, removed: [] }]);
    expect(summary.widths).toEqual([{ label: 'block 0', kept: 384, total: 512, what: 'neurons' }, { label: 'block 1', kept: 256, total: 512, what: 'neurons' }]);
    expect(summary.ranks).toEqual([{ label: 'fc', kept: 24, total: 128, what: 'rank' }]);
  });

  test('draws removed heads grey and the bars to scale', () => {
    const summary = shapeSummary(rows);
    const svg = shapeChart(summary, { width: 500, height: shapeChartHeight(summary) }, document);
    const cells = [...svg.querySelectorAll('rect.head')];
    expect(cells.map((c) => c.getAttribute('class'))).toEqual(['head kept', 'head removed', 'head kept', 'head removed', 'head kept', 'head kept', 'head kept', 'head kept']);
    expect(svg.querySelector('.heads-row')!.textContent).toContain('block 0: 2 of 4');
    const widths = [...svg.querySelectorAll('g.width-bar')].map((g) => Number(g.querySelectorAll('rect')[1].getAttribute('width')) / Number(g.querySelectorAll('rect')[0].getAttribute('width')));
    expect(widths).toEqual([0.75, 0.5]);
    expect(svg.querySelector('g.rank-bar')!.textContent).toContain('24 / 128 rank');
  });
});
