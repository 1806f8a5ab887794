// ZipLM's structured OBS step, CFSP's scores and ratios, and the planner, against
// fixtures/structured_reference.json, made by scripts/fixtures/structured_reference.py (which
// follows IST-DASLab/ZipLM's prune_struct / FastOBCStruct.step and wyxscir/CFSP's prune_cfsp in
// torch 1.13, float64 for ZipLM) — see that script's header.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { expectClose } from '../testing/expectClose.ts';
import { angularInfluence, cfspKeepFractions, cfspKeptCount, cfspNeuronScores, topNeurons } from './cfsp.ts';
import { planUnderBudget, type PlanItem } from './plan.ts';
import { obsRemove, structuredObs } from './ziplm.ts';

interface ZipCase { name: string; rows: number; cols: number; size: number; dampening: number; remove: number; weight: number[]; hessian: number[]; order: number[]; losses: number[]; error: number[]; pruned: number[] }
interface CfspMlpCase { gated: boolean; down: number[]; up: number[]; gate: number[] | null; inputs: number[][]; scalerRow: number[]; metric: number[] }
interface Fixture {
  ziplm: ZipCase[];
  cfsp: { blocks: number; samples: number; seq: number; dim: number; neurons: number; hidden: number[][]; importances: number[]; ratios: { ratio: number; scale: number; keep: number[]; rescaled: boolean }[]; mlps: CfspMlpCase[]; metricRows: number[]; keptPerBlock: number[]; mask: boolean[][] };
  planner: { items: { error: number[]; cost: number[] }[]; budget: number; best: { error: number; choice: number[]; cost: number } | null }[];
}

const fixture: Fixture = JSON.parse(readFileSync(join(import.meta.dirname, 'fixtures/structured_reference.json'), 'utf8'));

describe('ZipLM structured OBS (reference: FastOBCStruct.step, float64)', () => {
  test.each(fixture.ziplm.map((c) => [c.name, c] as const))('%s: removal order, losses, error database and updated weights', (_, c) => {
    const result = structuredObs({ rows: c.rows, cols: c.cols, data: Float32Array.from(c.weight) }, Float64Array.from(c.hessian), { size: c.size, dampening: c.dampening, remove: c.remove });
    expect(result.order).toEqual(c.order);
    // Both sides run float64 (the weight enters as float32: the fixture's W is float64 values that
    // the TypeScript rounds to float32, hence 1e-6 relative, not 1e-12).
    expectClose(result.losses, c.losses, { atol: 1e-9, rtol: 1e-5 }, 'losses');
    expectClose(result.error, c.error, { atol: 1e-9, rtol: 1e-5 }, 'error');
    expectClose(result.weight.data, c.pruned, { atol: 1e-5, rtol: 1e-5 }, 'pruned W');
  });
});

describe('CFSP (reference: prune_cfsp, three_w_one_wa, angular)', () => {
  const f = fixture.cfsp;
  test('block importance: Σ arccos(cos(x_in, x_out)) / π over tokens', () => {
    const importances = Array.from({ length: f.blocks }, (_, b) => angularInfluence(f.hidden[b], f.hidden[b + 1], f.dim));
    // The reference computes the cosines in float32.
    expectClose(importances, f.importances, { atol: 1e-5, rtol: 1e-5 }, 'importances');
  });
  test.each(f.ratios.map((r) => [r.ratio, r.scale, r] as const))('keep fractions at ratio %s, scale %s', (_, __, r) => {
    const { keep, rescaled } = cfspKeepFractions(f.importances, r.ratio, { scale: r.scale });
    expect(rescaled).toBe(r.rescaled);
    expectClose(keep, r.keep, { atol: 1e-12, rtol: 1e-9 }, 'keep');
  });
  test.each(f.mlps.map((m) => [m.gated ? 'gated' : 'two-projection', m] as const))('neuron scores, %s MLP', (_, m) => {
    const d = f.dim;
    const n = f.neurons;
    // scaler_row from the samples: mean over samples of Σ_tokens x².
    const sq = new Float64Array(n);
    for (const sample of m.inputs) for (let t = 0; t < f.seq; t++) for (let j = 0; j < n; j++) sq[j] += sample[t * n + j] ** 2;
    const scalerRow = sq.map((v) => v / m.inputs.length);
    expectClose(scalerRow, m.scalerRow, { atol: 1e-6, rtol: 1e-5 }, 'scaler_row');
    const scores = cfspNeuronScores({ down: { rows: d, cols: n, data: Float32Array.from(m.down) }, up: { rows: n, cols: d, data: Float32Array.from(m.up) }, gate: m.gate ? { rows: n, cols: d, data: Float32Array.from(m.gate) } : null, scalerRow: m.scalerRow });
    expectClose(scores, m.metric, { atol: 1e-7, rtol: 1e-5 }, 'scores');
  });
  test('kept neurons per block: the threshold at ⌊N·keep⌋ of the descending scores', () => {
    const keep = f.ratios[0].keep;
    for (let b = 0; b < f.blocks; b++) {
      const row = f.metricRows.slice(b * f.neurons, (b + 1) * f.neurons);
      const count = cfspKeptCount(f.neurons, keep[b]);
      expect(count).toBe(f.keptPerBlock[b]);
      const kept = topNeurons(row, count);
      expect(kept).toEqual(f.mask[b].flatMap((k, j) => (k ? [j] : [])));
    }
  });
  test('cuda_friendly rounding to a multiple', () => {
    expect(cfspKeptCount(512, 0.7, 128)).toBe(384);
    expect(cfspKeptCount(512, 0.05, 128)).toBe(128);
    expect(cfspKeptCount(512, 1.2, 8)).toBe(512);
  });
});

describe('planUnderBudget (reference: brute force over every combination)', () => {
  test.each(fixture.planner.map((p, i) => [i, p] as const))('case %i', (_, p) => {
    const items: PlanItem<number>[] = p.items.map((item, block) => ({ block, options: item.error.map((error, k) => ({ kept: k, error, cost: item.cost[k] })) }));
    // Integer costs on a budget of `budget` steps: one unit per cost unit, so the programme is exact.
    const plan = planUnderBudget(items, p.budget, p.budget);
    if (p.best === null) {
      expect(plan).toBeNull();
      return;
    }
    expect(plan!.chosen.map((o) => o.kept)).toEqual(p.best.choice);
    expectClose([plan!.error], [p.best.error], { atol: 1e-12, rtol: 1e-12 }, 'error');
    expect(plan!.cost).toBeLessThanOrEqual(p.budget);
  });
});

describe('obsRemove (the planned level at once)', () => {
  test('equals the greedy loop stopped at that level: block elimination composes', () => {
    for (const c of fixture.ziplm) {
      const weight = { rows: c.rows, cols: c.cols, data: Float32Array.from(c.weight) };
      const hessian = Float64Array.from(c.hessian);
      const loop = structuredObs(weight, hessian, { size: c.size, dampening: c.dampening, remove: c.remove });
      const columns = loop.order.flatMap((s) => Array.from({ length: c.size }, (_, k) => s * c.size + k));
      expectClose(obsRemove(weight, hessian, columns, c.dampening).data, loop.weight.data, { atol: 1e-5, rtol: 1e-5 }, `${c.name}: W`);
    }
  });
});
