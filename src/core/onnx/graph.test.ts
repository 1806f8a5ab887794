import { describe, expect, test } from 'vitest';
import {
  attr,
  consumerMap,
  getAttrFloat,
  getAttrInt,
  getAttrInts,
  getAttrString,
  initializerMap,
  modelGraphs,
  modelTensors,
  producerMap,
  valueInfoShape,
} from './graph.ts';
import { makeFloatTensor } from './tensor.ts';
import { readModel } from './read.ts';
import { AttributeType, DataType, type GraphProto, type ModelProto, type NodeProto } from './types.ts';
import { readBytes, testModelDir } from './fixtures/testdata.ts';

const utf8 = (s: string) => new TextEncoder().encode(s);

// y = Mul(x, x) + bias; Slice(y, …) with an optional input left empty.
const mul: NodeProto = { opType: 'Mul', name: 'mul', input: ['x', 'x'], output: ['sq'] };
const add: NodeProto = { opType: 'Add', name: 'add', input: ['sq', 'bias'], output: ['y'] };
const slice: NodeProto = {
  opType: 'Slice',
  name: 'slice',
  input: ['y', '', 'bias'],
  output: ['z'],
  attribute: [
    { name: 'ends', type: AttributeType.INTS, ints: [2n ** 63n - 1n, 3] },
    { name: 'axis', type: AttributeType.INT, i: -1 },
    { name: 'end', type: AttributeType.INT, i: 2n ** 63n - 1n },
    { name: 'alpha', type: AttributeType.FLOAT, f: 0.5 },
    { name: 'mode', type: AttributeType.STRING, s: utf8('constant') },
    { name: 'labels', type: AttributeType.STRINGS, strings: [utf8('a'), utf8('é')] },
    { name: 'legacy', i: 7 }, // IR version 1: no type field
  ],
};
const graph: GraphProto = {
  name: 'g',
  node: [mul, add, slice],
  initializer: [makeFloatTensor('bias', [4], new Float32Array(4))],
  input: [
    {
      name: 'x',
      type: { tensorType: { elemType: DataType.FLOAT, shape: { dim: [{ dimParam: 'batch' }, { dimValue: 4 }, {}] } } },
    },
  ],
  output: [{ name: 'z', type: { tensorType: { elemType: DataType.FLOAT } } }],
};

describe('lookups by tensor name', () => {
  test('initializerMap, producerMap and consumerMap', () => {
    expect([...initializerMap(graph).keys()]).toEqual(['bias']);
    expect(producerMap(graph).get('y')).toBe(add);
    expect(producerMap(graph).get('x')).toBeUndefined();
    const consumers = consumerMap(graph);
    expect(consumers.get('x')).toEqual([mul]); // listed twice by Mul, counted once
    expect(consumers.get('bias')).toEqual([add, slice]);
    expect(consumers.has('')).toBe(false);
  });

  test('valueInfoShape: sizes, symbolic names, unknown dims, initializer fallback', () => {
    expect(valueInfoShape(graph, 'x')).toEqual(['batch', 4, null]);
    expect(valueInfoShape(graph, 'z')).toBeUndefined(); // rank unknown
    expect(valueInfoShape(graph, 'bias')).toEqual([4]);
    expect(valueInfoShape(graph, 'nope')).toBeUndefined();
  });
});

describe('attributes', () => {
  test('attr decodes each type; INT64_MAX stays exact', () => {
    expect(attr(slice, 'ends')).toEqual([2n ** 63n - 1n, 3]);
    expect(attr(slice, 'end')).toBe(2n ** 63n - 1n);
    expect(attr(slice, 'alpha')).toBe(0.5);
    expect(attr(slice, 'mode')).toBe('constant');
    expect(attr(slice, 'labels')).toEqual(['a', 'é']);
    expect(attr(slice, 'legacy')).toBe(7);
    expect(attr(slice, 'missing')).toBeUndefined();
  });

  test('typed getters convert, fall back, and name what is wrong', () => {
    expect(getAttrInt(slice, 'axis')).toBe(-1);
    expect(getAttrInt(slice, 'end')).toBe(2 ** 63);
    expect(getAttrInts(slice, 'ends')).toEqual([2 ** 63, 3]);
    expect(getAttrFloat(slice, 'alpha')).toBe(0.5);
    expect(getAttrString(slice, 'mode')).toBe('constant');
    expect(getAttrInt(slice, 'steps', 1)).toBe(1);
    expect(() => getAttrInt(slice, 'steps')).toThrow('Slice "slice" has no attribute "steps"');
    expect(() => getAttrInt(slice, 'alpha')).toThrow('Slice "slice" attribute "alpha" is FLOAT, expected INT');
  });
});

describe('walking a model', () => {
  test('modelGraphs and modelTensors reach subgraphs and attribute tensors', () => {
    const thenBranch: GraphProto = {
      name: 'then',
      node: [{ opType: 'Constant', output: ['k'], attribute: [{ name: 'value', type: AttributeType.TENSOR, t: makeFloatTensor('k', [1], new Float32Array([1])) }] }],
    };
    const model: ModelProto = {
      irVersion: 8,
      graph: { ...graph, node: [...(graph.node ?? []), { opType: 'If', attribute: [{ name: 'then_branch', type: AttributeType.GRAPH, g: thenBranch }] }] },
    };
    expect([...modelGraphs(model)].map((g) => g.name)).toEqual(['g', 'then']);
    expect([...modelTensors(model)].map((t) => t.name)).toEqual(['bias', 'k']);
  });

  test('a real model: every node output of the expanded LayerNormalization has one producer', () => {
    const model = readModel(readBytes(`${testModelDir('node/test_layer_normalization_4d_axis0_expanded')}/model.onnx`));
    const g = model.graph as GraphProto;
    const outputs = (g.node ?? []).flatMap((n) => n.output ?? []).filter((o) => o !== '');
    expect(producerMap(g).size).toBe(outputs.length);
    const attributeTensors = (g.node ?? []).flatMap((n) => (n.attribute ?? []).filter((a) => a.t !== undefined));
    expect(attributeTensors.length).toBeGreaterThan(0); // Constant and ConstantOfShape values
    expect([...modelTensors(model)].length).toBe(attributeTensors.length);
  });
});
