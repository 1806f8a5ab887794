// Linear-layer detection on hand-built graphs: every operand position and transpose combination
// of MatMul and Gemm, biases, shared weights, and the MatMuls that are not linear layers.
import { describe, expect, it } from 'vitest';
import { DataType } from '../onnx/types.ts';
import { analyzeModel } from './analyze.ts';
import { weightLayout } from './linear.ts';
import { floatInit, model, node, tensorValue } from './testGraphs.ts';
import type { LinearLayer } from './types.ts';

const x2d = [tensorValue('x', DataType.FLOAT, ['batch', 16])];
const y2d = [tensorValue('y', DataType.FLOAT, ['batch', 32])];

function onlyLinear(built: ReturnType<typeof model>): LinearLayer {
  const { linears } = analyzeModel(built);
  expect(linears).toHaveLength(1);
  return linears[0];
}

describe('Gemm weight layouts (W is C_out × C_in = 32 × 16)', () => {
  const cases: { title: string; inputs: string[]; dims: number[]; attrs: Record<string, number>; operand: 'A' | 'B'; layout: 'in_out' | 'out_in' }[] = [
    { title: 'B, transB=1 (torch nn.Linear on 2-D input)', inputs: ['x', 'W'], dims: [32, 16], attrs: { transB: 1 }, operand: 'B', layout: 'out_in' },
    { title: 'B, transB=0 (GPT-2 Conv1D addmm)', inputs: ['x', 'W'], dims: [16, 32], attrs: {}, operand: 'B', layout: 'in_out' },
    { title: 'B, transB=1 with transA=1 on the activation', inputs: ['x', 'W'], dims: [32, 16], attrs: { transA: 1, transB: 1 }, operand: 'B', layout: 'out_in' },
    { title: 'A, transA=0 (W · x)', inputs: ['W', 'x'], dims: [32, 16], attrs: {}, operand: 'A', layout: 'out_in' },
    { title: 'A, transA=1 (Wᵀ stored)', inputs: ['W', 'x'], dims: [16, 32], attrs: { transA: 1 }, operand: 'A', layout: 'in_out' },
  ];
  for (const c of cases) {
    it(c.title, () => {
      const layer = onlyLinear(
        model({
          nodes: [node('Gemm', [...c.inputs, 'b'], ['y'], { name: 'gemm', attrs: c.attrs })],
          initializers: [floatInit('W', c.dims), floatInit('b', [32])],
          inputs: x2d,
          outputs: y2d,
        }),
      );
      expect(layer).toMatchObject({
        id: 'W', opType: 'Gemm', weightOperand: c.operand, layout: c.layout, weightDims: c.dims,
        inFeatures: 16, outFeatures: 32, bias: 'b', biasInitializer: 'b', params: 16 * 32 + 32,
        input: 'x', output: 'y',
      });
    });
  }

  it('warns when alpha scales the product', () => {
    const analysis = analyzeModel(
      model({
        nodes: [node('Gemm', ['x', 'W'], ['y'], { name: 'scaled', attrs: { transB: 1, alpha: 0.5 } })],
        initializers: [floatInit('W', [32, 16])],
        inputs: x2d,
        outputs: y2d,
      }),
    );
    expect(analysis.warnings).toContain("Gemm 'scaled' scales its product by alpha=0.5: the effective weight is alpha·W");
  });
});

describe('weightLayout', () => {
  // B enters the product as [in, out], A as [out, in]; a trans attribute and a Transpose node
  // each flip it, and two flips cancel.
  const cases: ['A' | 'B', boolean, boolean, 'in_out' | 'out_in'][] = [
    ['B', false, false, 'in_out'],
    ['B', true, false, 'out_in'],
    ['B', false, true, 'out_in'],
    ['B', true, true, 'in_out'],
    ['A', false, false, 'out_in'],
    ['A', true, false, 'in_out'],
    ['A', false, true, 'in_out'],
    ['A', true, true, 'out_in'],
  ];
  for (const [operand, transAttr, transposeNode, layout] of cases) {
    it(`operand ${operand}, trans attribute ${transAttr}, Transpose node ${transposeNode} → ${layout}`, () => {
      expect(weightLayout(operand, transAttr, transposeNode)).toBe(layout);
    });
  }
});

describe('MatMul weight operands', () => {
  it('MatMul(x, B[in, out]) is in_out with the bias from the following Add', () => {
    const layer = onlyLinear(
      model({
        nodes: [node('MatMul', ['x', 'W'], ['mm'], { name: 'fc' }), node('Add', ['bias', 'mm'], ['y'])],
        initializers: [floatInit('W', [16, 32]), floatInit('bias', [32])],
      }),
    );
    expect(layer).toMatchObject({ layout: 'in_out', inFeatures: 16, outFeatures: 32, bias: 'bias', output: 'y', weightPath: [] });
  });

  // The ORT transformer optimizer moves a layer's bias into the fused op after it (GPT-2's c_fc
  // into FastGelu, BERT's dense layers into BiasGelu and SkipLayerNormalization's `bias`).
  it.each([
    ['FastGelu', ['mm', 'bias'], 'bias'],
    ['BiasGelu', ['mm', 'bias'], 'bias'],
    ['SkipLayerNormalization', ['mm', 'skip', 'gamma', 'beta', 'bias'], 'bias'],
    ['SkipSimplifiedLayerNormalization', ['mm', 'skip', 'gamma', 'bias'], 'bias'],
    ['SkipLayerNormalization', ['mm', 'skip', 'gamma', 'beta'], null], // no bias input: none
  ] as const)('a bias held by com.microsoft %s is the layer\'s; its output stays the product', (opType, inputs, bias) => {
    const layer = onlyLinear(
      model({
        nodes: [node('MatMul', ['x', 'W'], ['mm'], { name: 'fc' }), node(opType, [...inputs], ['y'], { domain: 'com.microsoft' })],
        initializers: [floatInit('W', [16, 32]), floatInit('bias', [32]), floatInit('gamma', [32]), floatInit('beta', [32])],
      }),
    );
    expect(layer).toMatchObject({ bias, biasInitializer: bias, output: 'mm', params: 16 * 32 + (bias ? 32 : 0) });
  });

  it('a FastGelu outside com.microsoft, or whose bias is not the width of the output, adds no bias', () => {
    for (const [domain, width] of [['', 32], ['com.microsoft', 16]] as const) {
      const layer = onlyLinear(
        model({
          nodes: [node('MatMul', ['x', 'W'], ['mm'], { name: 'fc' }), node('FastGelu', ['mm', 'bias'], ['y'], { domain })],
          initializers: [floatInit('W', [16, 32]), floatInit('bias', [width])],
        }),
      );
      expect(layer.bias).toBeNull();
    }
  });

  it('MatMul(x, Transpose(W[out, in])) is out_in through the Transpose', () => {
    const layer = onlyLinear(
      model({
        nodes: [node('Transpose', ['W'], ['Wt'], { attrs: { perm: [1, 0] } }), node('MatMul', ['x', 'Wt'], ['y'], { name: 'fc' })],
        initializers: [floatInit('W', [32, 16])],
      }),
    );
    expect(layer).toMatchObject({ id: 'W', layout: 'out_in', inFeatures: 16, outFeatures: 32, weightPath: ['Transpose'], sharedWith: [] });
  });

  it('Gemm(transB=1) of a Transpose node flips twice: in_out', () => {
    const layer = onlyLinear(
      model({
        nodes: [node('Transpose', ['W'], ['Wt'], { attrs: { perm: [1, 0] } }), node('Gemm', ['x', 'Wt'], ['y'], { attrs: { transB: 1 } })],
        initializers: [floatInit('W', [16, 32])],
        inputs: x2d,
        outputs: y2d,
      }),
    );
    expect(layer).toMatchObject({ layout: 'in_out', inFeatures: 16, outFeatures: 32, weightPath: ['Transpose'] });
  });

  it('a Transpose without perm reverses a 2-D weight; two of them cancel', () => {
    const layer = onlyLinear(
      model({
        nodes: [node('Transpose', ['W'], ['Wt']), node('Transpose', ['Wt'], ['Wtt']), node('MatMul', ['x', 'Wtt'], ['y'])],
        initializers: [floatInit('W', [16, 32])],
      }),
    );
    expect(layer).toMatchObject({ layout: 'in_out', inFeatures: 16, outFeatures: 32, weightPath: ['Transpose', 'Transpose'] });
  });

  it('MatMul(W, x) with the weight first is out_in on operand A', () => {
    const layer = onlyLinear(
      model({
        nodes: [node('MatMul', ['W', 'x'], ['y'], { name: 'w_first' })],
        initializers: [floatInit('W', [32, 16])],
        inputs: [tensorValue('x', DataType.FLOAT, ['batch', 16, 'seq'])],
      }),
    );
    expect(layer).toMatchObject({ weightOperand: 'A', layout: 'out_in', inFeatures: 16, outFeatures: 32 });
  });

  it('follows DequantizeLinear to a quantized initializer', () => {
    const layer = onlyLinear(
      model({
        nodes: [node('DequantizeLinear', ['Wq', 'scale', 'zero'], ['W']), node('MatMul', ['x', 'W'], ['y'])],
        initializers: [{ name: 'Wq', dims: [16, 32], dataType: DataType.INT8 }, floatInit('scale', []), { name: 'zero', dims: [], dataType: DataType.INT8 }],
      }),
    );
    expect(layer).toMatchObject({ id: 'Wq', weightDtype: 'int8', weightPath: ['DequantizeLinear'], layout: 'in_out' });
  });

  it('resolves a bias that torch stored once behind an Identity node', () => {
    const layer = onlyLinear(
      model({
        nodes: [node('Identity', ['shared.bias'], ['fc.bias']), node('MatMul', ['x', 'W'], ['mm']), node('Add', ['fc.bias', 'mm'], ['y'])],
        initializers: [floatInit('W', [16, 32]), floatInit('shared.bias', [32])],
      }),
    );
    expect(layer).toMatchObject({ bias: 'fc.bias', biasInitializer: 'shared.bias', params: 16 * 32 + 32 });
  });

  it('takes no bias when the MatMul output has other consumers', () => {
    const layer = onlyLinear(
      model({
        nodes: [node('MatMul', ['x', 'W'], ['mm']), node('Add', ['bias', 'mm'], ['y']), node('Relu', ['mm'], ['side'])],
        initializers: [floatInit('W', [16, 32]), floatInit('bias', [32])],
      }),
    );
    expect(layer).toMatchObject({ bias: null, output: 'mm' });
  });
});

describe('shared weights', () => {
  it('two MatMuls with one initializer are one layer naming both nodes', () => {
    const analysis = analyzeModel(
      model({
        nodes: [node('MatMul', ['x', 'W'], ['a'], { name: 'first' }), node('MatMul', ['a', 'W'], ['y'], { name: 'second' })],
        initializers: [floatInit('W', [32, 32])],
      }),
    );
    expect(analysis.linears).toHaveLength(1);
    expect(analysis.linears[0]).toMatchObject({ id: 'W', nodeName: 'first', nodeNames: ['first', 'second'] });
    expect(analysis.linears[0].uses.map((use) => use.output)).toEqual(['a', 'y']);
  });

  it('a weight also read by an embedding Gather lists it in sharedWith (tied LM head)', () => {
    const analysis = analyzeModel(
      model({
        nodes: [
          node('Gather', ['wte', 'ids'], ['h'], { name: 'embed_gather' }),
          node('Transpose', ['wte'], ['wte_t'], { attrs: { perm: [1, 0] } }),
          node('MatMul', ['h', 'wte_t'], ['logits'], { name: 'lm_head_mm' }),
        ],
        initializers: [floatInit('wte', [50, 32])],
        inputs: [tensorValue('ids', DataType.INT64, ['batch', 'seq'])],
        outputs: [tensorValue('logits', DataType.FLOAT, ['batch', 'seq', 50])],
      }),
    );
    expect(analysis.linears[0]).toMatchObject({ id: 'wte', layout: 'out_in', inFeatures: 32, outFeatures: 50, sharedWith: ['embed_gather'], role: 'head' });
    expect(analysis.embeddings).toEqual([{ nodeName: 'embed_gather', kind: 'token', weight: 'wte', weightDims: [50, 32], tiedTo: 'wte' }]);
  });

  it('reports a weight used with two layouts once, with a warning', () => {
    const analysis = analyzeModel(
      model({
        nodes: [
          node('MatMul', ['x', 'W'], ['a'], { name: 'plain' }),
          node('Transpose', ['W'], ['Wt'], { attrs: { perm: [1, 0] } }),
          node('MatMul', ['a', 'Wt'], ['y'], { name: 'transposed' }),
        ],
        initializers: [floatInit('W', [32, 32])],
      }),
    );
    expect(analysis.linears).toHaveLength(1);
    expect(analysis.warnings).toContain("Weight 'W' is used by 'plain' as in_out and by 'transposed' as out_in: reported once with the first layout");
  });
});

describe('MatMuls that are not linear layers', () => {
  it('activation × activation is reported, not counted', () => {
    const analysis = analyzeModel(
      model({
        nodes: [node('MatMul', ['x', 'z'], ['y'], { name: 'bilinear' })],
        inputs: [tensorValue('x', DataType.FLOAT, ['batch', 32, 32]), tensorValue('z', DataType.FLOAT, ['batch', 32, 32])],
      }),
    );
    expect(analysis.linears).toEqual([]);
    expect(analysis.warnings).toContain(
      "MatMul 'bilinear' has no initializer operand: activation × activation, not a linear layer (and not part of a recognised attention)",
    );
  });

  it('a 3-D initializer operand is named and skipped', () => {
    const analysis = analyzeModel(
      model({ nodes: [node('MatMul', ['x', 'W3'], ['y'], { name: 'batched' })], initializers: [floatInit('W3', [4, 32, 32])] }),
    );
    expect(analysis.linears).toEqual([]);
    expect(analysis.warnings).toContain("MatMul 'batched' multiplies by the 3-D initializer 'W3' [4, 32, 32]: not a 2-D linear weight, not analysed");
  });

  it('a product of constants and shape-derived tensors (rotary tables) is ignored silently', () => {
    const analysis = analyzeModel(
      model({
        nodes: [
          node('Shape', ['x'], ['shape']),
          node('ConstantOfShape', ['shape'], ['ones']),
          node('MatMul', ['ones', 'W'], ['table']),
          node('Add', ['x', 'table'], ['y']),
        ],
        initializers: [floatInit('W', [32, 32])],
      }),
    );
    expect(analysis.linears).toEqual([]);
    expect(analysis.warnings.filter((w) => w.startsWith('MatMul'))).toEqual([]);
  });

  it('a graph without MatMul/Gemm says that no linear layers were found', () => {
    const analysis = analyzeModel(model({ nodes: [node('Relu', ['x'], ['y'])] }));
    expect(analysis.linears).toEqual([]);
    expect(analysis.warnings).toContain(
      'No linear layers found: no MatMul or Gemm multiplies an activation by a 2-D initializer (directly or through Transpose/Cast/DequantizeLinear)',
    );
  });
});
