// The quantization views' data, read from written files: a packed layer's grid comes from its
// MatMulNBits node (levels, clipped weights, stored values); an MX layer's block exponent from
// its dequantized values; a simulated integer layer shows no grid and says why; the zero pattern
// of a packed layer is where codes equal their zero point.
import { describe, expect, test } from 'vitest';
import { analyzeModel } from '../model/analyze.ts';
import { writeMatMulNBits } from '../quant/export/matMulNBits.ts';
import { oneLayerModel, seededWeight, tinyRtn } from '../quant/export/testing/exportFixtures.ts';
import { mxQuantize } from '../quant/mx.ts';
import { dequantize, type QuantizedWeight } from '../quant/types.ts';
import type { Matrix } from '../prune/types.ts';
import { inspectLayerQuant } from './quantInspect.ts';
import { readStoredLayer, storedNonZero } from './storedLayer.ts';
import { WorkingModel } from './weights.ts';

const [ROWS, COLS] = [4, 32];

function packed(dense: Matrix, q: QuantizedWeight) {
  const source = oneLayerModel(dense, new Float32Array(dense.rows), 'matmul');
  const layer = analyzeModel(source).linears[0];
  return { layer, stored: readStoredLayer(writeMatMulNBits(source, [{ layer, weight: q }]).model, layer) };
}

function simulated(dense: Matrix, stored: Matrix) {
  const source = oneLayerModel(dense, new Float32Array(dense.rows), 'matmul');
  const layer = analyzeModel(source).linears[0];
  const working = new WorkingModel(source);
  working.writeWeight(layer, stored);
  return { layer, stored: readStoredLayer(working.model, layer) };
}

describe('inspectLayerQuant', () => {
  test('packed 2-bit: the group’s levels (q − z)·s from the file, its clipped weights, its stored values', () => {
    const dense = { rows: ROWS, cols: COLS, data: new Float32Array(ROWS * COLS).fill(0.5) };
    // Row 1, group 1 (columns 16…31): scale 1, zero point 1 → levels −1, 0, 1, 2.
    dense.data.set([-3, 0.2, 1.9, 5], 1 * COLS + 16);
    const q: QuantizedWeight = { rows: ROWS, cols: COLS, bits: 2, symmetric: false, groupSize: 16, groups: 2, codes: new Uint8Array(ROWS * COLS).fill(1), scales: new Float32Array(ROWS * 2).fill(0.25), zeroPoints: new Uint8Array(ROWS * 2).fill(1) };
    q.scales[1 * 2 + 1] = 1;
    q.codes.set([0, 1, 3, 3], 1 * COLS + 16);
    const { layer, stored } = packed(dense, q);
    expect(stored.storage).toBe('packed');
    const view = inspectLayerQuant({ layer, dense, stored, method: 'rtn', scope: { kind: 'group', row: 1, group: 1 } });
    expect(view.grid).toEqual({ kind: 'int', bits: 2, symmetric: false, groupSize: 16, groups: 2, actOrder: false });
    expect([...view.levels!]).toEqual([-1, 0, 1, 2]);
    expect(view.params).toEqual({ scale: 1, zeroPoint: 1 });
    expect(view.clipped).toEqual({ below: 1, above: 1 });
    expect([...view.dense.subarray(0, 4)]).toEqual([-3, Math.fround(0.2), Math.fround(1.9), 5]);
    expect([...view.quantized.subarray(0, 4)]).toEqual([-1, 0, 2, 2]);
    expect(view.dense).toHaveLength(16);
    // The whole layer: every weight against its own group's range (the other groups' levels are −0.25 … 0.5, so 0.5 is inside).
    const whole = inspectLayerQuant({ layer, dense, stored, method: 'rtn', scope: { kind: 'layer' } });
    expect(whole.levels).toBeNull();
    expect(whole.clipped).toEqual({ below: 1, above: 1 });
    expect(whole.quantized).toEqual(dequantize(q).data);
  });

  test('a scope outside the layer is clamped', () => {
    const dense = seededWeight(ROWS, COLS, 5);
    const { layer, stored } = packed(dense, tinyRtn(dense, 4, 16, true));
    const view = inspectLayerQuant({ layer, dense, stored, method: 'gptq', scope: { kind: 'group', row: 99, group: -3 } });
    expect(view.scope).toEqual({ kind: 'group', row: ROWS - 1, group: 0 });
  });

  test('MX: the block exponent recovered from the stored floats equals mxQuantize’s; its levels hold every stored value', () => {
    const dense = seededWeight(ROWS, 2 * COLS, 8);
    const mx = mxQuantize(dense, 'mxfp4');
    const { layer, stored } = simulated(dense, mx.weight);
    const view = inspectLayerQuant({ layer, dense, stored, method: 'mx', mxFormat: 'mxfp4', scope: { kind: 'group', row: 2, group: 1 } });
    expect(view.grid).toEqual({ kind: 'mx', format: 'mxfp4', groups: 2 });
    expect(view.params).toEqual({ exponent: mx.scaleExponents[2 * mx.blocksPerRow + 1] });
    expect(view.levels).toHaveLength(15);
    for (const v of view.quantized) expect(view.levels).toContain(v);
    // MX saturates: the block's largest inputs may lie beyond 6 · 2^e (⌊log₂ amax⌋ − 2 leaves amax / 2^e in [4, 8)).
    const max = 6 * 2 ** mx.scaleExponents[2 * mx.blocksPerRow + 1];
    const block = dense.data.subarray(2 * 64 + 32, 2 * 64 + 64);
    expect(view.clipped).toEqual({ below: block.filter((v) => v < -max).length, above: block.filter((v) => v > max).length });
  });

  test('simulated integer layer: no grid, and the reason is given', () => {
    const dense = seededWeight(ROWS, COLS, 2);
    const { layer, stored } = simulated(dense, dequantize(tinyRtn(dense, 3, null, true)));
    const view = inspectLayerQuant({ layer, dense, stored, method: 'rtn', scope: { kind: 'group', row: 1, group: 0 } });
    expect(view.grid.kind).toBe('none');
    expect(view.source).toMatch(/SIMULATED.*not its scales and zero points/);
    expect(view.levels).toBeNull();
    expect(view.clipped).toBeNull();
    expect(view.dense).toHaveLength(COLS);
  });
});

describe('storedNonZero', () => {
  test('packed: 0 exactly where a code equals its group’s zero point (a pruned weight)', () => {
    const dense = seededWeight(ROWS, COLS, 4);
    for (let i = 0; i < dense.data.length; i += 3) dense.data[i] = 0;
    const q = tinyRtn(dense, 4, 16, false);
    const { stored } = packed(dense, q);
    const flags = storedNonZero(stored);
    for (let i = 0; i < flags.length; i++) expect(flags[i]).toBe(q.codes[i] === q.zeroPoints[Math.floor(i / COLS) * 2 + Math.floor((i % COLS) / 16)] ? 0 : 1);
    for (let i = 0; i < dense.data.length; i += 3) expect(flags[i]).toBe(0);
  });
});
