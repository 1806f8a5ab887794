// The compression state of a model, read from its weights: the bundled (trained, dense) models
// come out dense; hand-made graphs with exact zeros, quantized weights behind DequantizeLinear
// (per tensor and per axis), MatMulNBits, float16 storage, weights without values and the lab's
// metadata_props come out as what they are.
import { readFileSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import { float32ToFloat16 } from '../onnx/float16.ts';
import { readModel } from '../onnx/read.ts';
import { makeFloatTensor } from '../onnx/tensor.ts';
import { DataType, type ModelProto, type TensorProto } from '../onnx/types.ts';
import { defaultPruneStage } from '../recipe/stages/prune.ts';
import { prunableLayers } from '../recipe/layers.ts';
import { analyzeModel } from './analyze.ts';
import { SPARSE_ZERO_SHARE } from './compressionState.ts';
import { floatInit, model, node, tensorValue } from './testGraphs.ts';

const bundled = (id: string) => analyzeModel(readModel(new Uint8Array(readFileSync(new URL(`../../../public/models/${id}/model.onnx`, import.meta.url)))));

describe('the bundled models are dense', () => {
  test.each(['kjv-charlm', 'digits-vit'])('%s: no exact zeros, no packed weights, every weight read', (id) => {
    const analysis = bundled(id);
    const { compression } = analysis;
    expect(compression.verdict).toBe('dense');
    expect(compression.zeroShare).toBeLessThan(SPARSE_ZERO_SHARE);
    // Trained float weights: not one exact zero in any linear layer (the threshold's premise).
    expect(compression.layers.map((layer) => layer.zeros)).toEqual(analysis.linears.map(() => 0));
    expect(compression).toMatchObject({ packedLayers: 0, patterns: [], labMetadata: null });
    expect(compression.description).toBe(`dense: 0.0 % of prunable linear weights are zero (${compression.prunableLayers} layers)`);
    // The layers counted are those a default prune stage would change (recipe/layers.ts).
    const prunable = compression.layers.filter((layer) => layer.prunable).map((layer) => layer.id);
    expect(prunable).toEqual(prunableLayers(analysis, defaultPruneStage()).map((layer) => layer.id));
  });
});

const C = 32;

/** W (C_out x C_in) with every other pair of each group of 4 inputs set to `zero` (2:4), else `value(r, c)`. */
function twoOfFour(zero: number, value: (r: number, c: number) => number): number[][] {
  return Array.from({ length: C }, (_, r) => Array.from({ length: C }, (_, c) => ((c + r) % 4 < 2 ? zero : value(r, c))));
}

/** W stored as MatMul(x, B) stores it: B = Wᵀ, [C_in, C_out] row-major. */
const storedInOut = (w: number[][]) => Array.from({ length: C * C }, (_, i) => w[i % C][Math.floor(i / C)]);

const int8 = (name: string, dims: number[], values: number[]): TensorProto => ({ name, dims, dataType: DataType.INT8, int32Data: Int32Array.from(values) });

/** x → DequantizeLinear(Wq, scale, zp) → MatMul: a QDQ export of one linear layer. */
function dequantized(quantized: number[], zeroPoint: TensorProto | null, axis?: number): ModelProto {
  const dq = node('DequantizeLinear', ['blocks.0.mlp.fc1.weight_q', 'scale', ...(zeroPoint ? ['zp'] : [])], ['w'], axis === undefined ? {} : { attrs: { axis } });
  return model({
    nodes: [dq, node('MatMul', ['x', 'w'], ['y'], { name: '/blocks.0/mlp/fc1/MatMul' })],
    initializers: [int8('blocks.0.mlp.fc1.weight_q', [C, C], quantized), makeFloatTensor('scale', [], Float32Array.of(0.02)), ...(zeroPoint ? [zeroPoint] : [])],
  });
}

describe('quantized weights behind DequantizeLinear', () => {
  test('no integer equals the zero point: quantized, not sparse', () => {
    const analysis = analyzeModel(dequantized(Array.from({ length: C * C }, (_, i) => (i % 7) + 1), null));
    expect(analysis.linears[0]).toMatchObject({ weightPath: ['DequantizeLinear'], weightDtype: 'int8' });
    expect(analysis.compression).toMatchObject({ verdict: 'quantized', zeroShare: 0, packedLayers: 1 });
    expect(analysis.compression.layers[0].packed).toEqual({ via: 'DequantizeLinear', dtype: 'int8', bits: 8 });
    expect(analysis.compression.description).toBe('quantized: 0.0 % of prunable linear weights are zero (1 layer); 1 of 1 linear layer stores int8 weights (DequantizeLinear)');
  });

  test('per-tensor zero point 3: q = 3 is an exact zero, so a 2:4 pattern of 3s is sparse+quantized', () => {
    const w = twoOfFour(3, (r, c) => ((r + c) % 5) - 9);
    const analysis = analyzeModel(dequantized(storedInOut(w), int8('zp', [], [3])));
    expect(analysis.compression).toMatchObject({ verdict: 'sparse+quantized', zeroShare: 0.5, patterns: [{ pattern: '2:4', layers: 1 }] });
    expect(analysis.compression.layers[0].pattern).toEqual({ kind: 'nm', n: 2, m: 4 });
    expect(analysis.compression.description).toMatch(/^pruned and quantized: 50\.0 % of prunable linear weights are zero \(2:4 in 1 of 1 layer\); 1 of 1 linear layer stores int8 weights \(DequantizeLinear\)$/);
  });

  test('per-axis zero points (axis 1 of the stored [C_in, C_out]: one per output)', () => {
    const zp = Array.from({ length: C }, (_, r) => (r % 3) - 1);
    const w = twoOfFour(NaN, (r) => zp[r] + 5).map((row, r) => row.map((v) => (Number.isNaN(v) ? zp[r] : v)));
    const analysis = analyzeModel(dequantized(storedInOut(w), int8('zp', [C], zp), 1));
    expect(analysis.compression).toMatchObject({ verdict: 'sparse+quantized', zeroShare: 0.5 });
    // The same values read against axis 0 would match other zero points: fewer zeros, no pattern.
    const wrongAxis = analyzeModel(dequantized(storedInOut(w), int8('zp', [C], zp), 0));
    expect(wrongAxis.compression.zeroShare).toBeLessThan(0.5);
  });
});

describe('packed weights: MatMulNBits linear layers and integer matmul nodes', () => {
  /** MatMulNBits, 4 bits, K = 32, N = 16, block 16: B [16, 2, 8] bytes, two values a byte, low nibble first. */
  function nBits(q: (n: number, k: number) => number, zeroPoints?: TensorProto): ModelProto {
    const bytes = new Uint8Array(16 * 2 * 8);
    for (let n = 0; n < 16; n++) for (let k = 0; k < 32; k++) bytes[n * 16 + (k >> 1)] |= q(n, k) << ((k & 1) * 4);
    const inputs = ['x', 'B', 'scales', ...(zeroPoints ? ['zero_points'] : [])];
    return model({
      nodes: [node('MatMulNBits', inputs, ['y'], { name: '/blocks.0/mlp/fc2/MatMul_Q4', domain: 'com.microsoft', attrs: { K: 32, N: 16, bits: 4, block_size: 16 } })],
      initializers: [{ name: 'B', dims: [16, 2, 8], dataType: DataType.UINT8, rawData: bytes }, floatInit('scales', [32]), ...(zeroPoints ? [zeroPoints] : [])],
      outputs: [tensorValue('y', DataType.FLOAT, ['batch', 'seq', 16])],
    });
  }

  test('default zero point 8: 8s in a 2:4 pattern are zeros', () => {
    const analysis = analyzeModel(nBits((n, k) => ((n + k) % 4 < 2 ? 8 : 3)));
    expect(analysis.linears.map((l) => [l.id, l.opType, l.name, l.role])).toEqual([['B', 'MatMulNBits', 'blocks.0.mlp.fc2', 'mlp.down']]);
    expect(analysis.compression.layers).toEqual([
      { id: 'B', name: 'blocks.0.mlp.fc2', prunable: true, elements: 512, zeros: 256, zeroShare: 0.5, pattern: { kind: 'nm', n: 2, m: 4 }, packed: { via: 'MatMulNBits', dtype: 'uint4', bits: 4 }, unreadable: null },
    ]);
    expect(analysis.compression.verdict).toBe('sparse+quantized');
  });

  test.each([
    ['MatMulInteger', (zp: string) => ['x_q', 'B', '', zp]],
    ['QLinearMatMul', (zp: string) => ['x_q', 'x_scale', 'x_zp', 'B', 'b_scale', zp, 'y_scale', 'y_zp']],
  ])('%s: B [C_in, C_out] with one zero point per output column', (opType, inputs) => {
    const zp = Array.from({ length: C }, (_, r) => r % 5);
    const w = twoOfFour(NaN, (r) => zp[r] + 1).map((row, r) => row.map((v) => (Number.isNaN(v) ? zp[r] : v)));
    const graph = model({
      nodes: [node(opType, inputs('b_zp'), ['y'], { name: `/blocks.1/attn/q_proj/${opType}` })],
      initializers: [int8('B', [C, C], storedInOut(w)), int8('b_zp', [C], zp)],
      inputs: [tensorValue('x_q', DataType.INT8, ['batch', 'seq', C])],
    });
    const { compression } = analyzeModel(graph);
    expect(compression.layers).toMatchObject([{ name: 'blocks.1.attn.q_proj', prunable: true, zeroShare: 0.5, pattern: { kind: 'nm', n: 2, m: 4 }, packed: { via: opType, dtype: 'int8', bits: 8 } }]);
    expect(compression.verdict).toBe('sparse+quantized');
  });

  test('packed uint8 zero points, one 4-bit value per block', () => {
    // Row n: block 0 has zero point 5, block 1 has 9 (one byte per row: low nibble block 0).
    const zeroPoints: TensorProto = { name: 'zero_points', dims: [16], dataType: DataType.UINT8, rawData: new Uint8Array(16).fill(5 | (9 << 4)) };
    const dense = analyzeModel(nBits((_, k) => (k < 16 ? 9 : 5), zeroPoints));
    expect(dense.compression).toMatchObject({ verdict: 'quantized', zeroShare: 0 });
    const pruned = analyzeModel(nBits((n, k) => ((n + k) % 4 < 2 ? (k < 16 ? 5 : 9) : 1), zeroPoints));
    expect(pruned.compression).toMatchObject({ verdict: 'sparse+quantized', zeroShare: 0.5 });
  });
});

/** Two linear layers, fc1 (prunable) and lm_head (not), with the given stored weights. */
function twoLayers(fc1: TensorProto, head: TensorProto, path: 'Cast' | null = null): ModelProto {
  const fc1Input = path ? 'fc1_w' : fc1.name!;
  return model({
    nodes: [
      ...(path ? [node('Cast', [fc1.name!], ['fc1_w'], { attrs: { to: DataType.FLOAT } })] : []),
      node('MatMul', ['x', fc1Input], ['h'], { name: '/blocks.0/mlp/fc1/MatMul' }),
      node('MatMul', ['h', head.name!], ['y'], { name: '/lm_head/MatMul' }),
    ],
    initializers: [fc1, head],
  });
}

const floats = (name: string, value: (i: number) => number) => makeFloatTensor(name, [C, C], Float32Array.from({ length: C * C }, (_, i) => value(i)));

describe('float weights', () => {
  test('an all-zero output head does not make a model sparse; zeros in fc1 do, unstructured', () => {
    const zeroHead = analyzeModel(twoLayers(floats('fc1', (i) => i + 1), floats('head', () => 0)));
    expect(zeroHead.compression).toMatchObject({ verdict: 'dense', zeroShare: 0, prunableLayers: 1 });
    expect(zeroHead.compression.layers.map((l) => [l.name, l.prunable, l.zeroShare])).toEqual([['blocks.0.mlp.fc1', true, 0], ['lm_head', false, 1]]);
    // -0 is a zero too; every 7th weight (14.3 %) is no N:M pattern.
    const pruned = analyzeModel(twoLayers(floats('fc1', (i) => (i % 7 === 0 ? -0 : i + 1)), floats('head', (i) => i)));
    expect(pruned.compression.verdict).toBe('sparse');
    expect(pruned.compression.zeroShare).toBeCloseTo(147 / 1024, 12);
    expect(pruned.compression.description).toBe('pruned: 14.4 % of prunable linear weights are zero (unstructured, 1 layer)');
  });

  test('below 5 % exact zeros is dense (dead units of a trained model)', () => {
    const analysis = analyzeModel(twoLayers(floats('fc1', (i) => (i % 25 === 0 ? 0 : 1)), floats('head', () => 1)));
    expect(analysis.compression.zeroShare).toBeCloseTo(41 / 1024, 12);
    expect(analysis.compression.verdict).toBe('dense');
  });

  test('float16 storage Cast to float32 is quantized (16 bits); its ±0 bit patterns are zeros', () => {
    const bits = new Uint16Array(C * C).map((_, i) => ((i + Math.floor(i / C)) % 4 < 2 ? (i % 2 ? 0x8000 : 0) : float32ToFloat16(0.5)));
    const fc1: TensorProto = { name: 'fc1', dims: [C, C], dataType: DataType.FLOAT16, rawData: new Uint8Array(bits.buffer) };
    const analysis = analyzeModel(twoLayers(fc1, floats('head', (i) => i), 'Cast'));
    expect(analysis.compression.layers[0]).toMatchObject({ packed: { via: 'storage', dtype: 'float16', bits: 16 }, zeroShare: 0.5, pattern: { kind: 'nm', n: 2, m: 4 } });
    expect(analysis.compression.verdict).toBe('sparse+quantized');
    expect(analysis.compression.description).toContain('1 of 2 linear layers stores float16 weights');
  });

  test('weights without values: zeros unknown, said so, and the model is not called sparse', () => {
    const analysis = analyzeModel(twoLayers(floatInit('fc1', [C, C]), floatInit('head', [C, C])));
    expect(analysis.compression.layers.map((l) => l.unreadable)).toEqual(['the file holds its shape but no values', 'the file holds its shape but no values']);
    expect(analysis.compression.verdict).toBe('dense');
    expect(analysis.compression.description).toBe(
      "dense: no prunable linear weights could be read; zeros unknown in 2 of 2 layers ('blocks.0.mlp.fc1': the file holds its shape but no values)",
    );
  });
});

describe("the lab's metadata_props", () => {
  test('are read back and named in the description; other entries are ignored', () => {
    const graph = twoLayers(floats('fc1', (i) => (i % 2 ? 0 : 1)), floats('head', (i) => i));
    graph.metadataProps = [
      { key: 'author', value: 'someone' },
      { key: 'compression_lab.recipe', value: '{"version":2}' },
      { key: 'compression_lab.recipe_summary', value: 'wanda, unstructured, 50.0% target, uniform allocation' },
      { key: 'compression_lab.source_model', value: 'kjv-charlm' },
    ];
    const { compression } = analyzeModel(graph);
    expect(compression.labMetadata).toEqual({ recipe: '{"version":2}', recipeSummary: 'wanda, unstructured, 50.0% target, uniform allocation', sourceModel: 'kjv-charlm' });
    expect(compression.description).toBe(
      'pruned: 50.0 % of prunable linear weights are zero (unstructured, 1 layer); made by the lab on kjv-charlm: wanda, unstructured, 50.0% target, uniform allocation',
    );
  });
});
