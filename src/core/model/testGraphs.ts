// Builders for the small hand-made ModelProto graphs of the analysis tests. Tensors carry dims
// and types only (the analysis never reads float payloads); int64 shape constants carry values.
import {
  AttributeType,
  DataType,
  type AttributeProto,
  type ModelProto,
  type NodeProto,
  type TensorProto,
  type ValueInfoProto,
} from '../onnx/types.ts';

export function floatInit(name: string, dims: number[]): TensorProto {
  return { name, dims, dataType: DataType.FLOAT };
}

export function int64Init(name: string, values: number[]): TensorProto {
  return { name, dims: [values.length], dataType: DataType.INT64, int64Data: BigInt64Array.from(values, BigInt) };
}

export type AttrSpec = number | number[] | TensorProto;

function attribute(name: string, value: AttrSpec): AttributeProto {
  if (Array.isArray(value)) return { name, type: AttributeType.INTS, ints: value };
  if (typeof value === 'object') return { name, type: AttributeType.TENSOR, t: value };
  return Number.isInteger(value) ? { name, type: AttributeType.INT, i: value } : { name, type: AttributeType.FLOAT, f: value };
}

export function node(
  opType: string,
  input: string[],
  output: string[],
  options: { name?: string; domain?: string; attrs?: Record<string, AttrSpec> } = {},
): NodeProto {
  const built: NodeProto = { opType, input, output, name: options.name ?? output[0] };
  if (options.domain) built.domain = options.domain;
  if (options.attrs) built.attribute = Object.entries(options.attrs).map(([key, value]) => attribute(key, value));
  return built;
}

export function tensorValue(name: string, elemType: number, dims: (number | string)[]): ValueInfoProto {
  return {
    name,
    type: {
      tensorType: {
        elemType,
        shape: { dim: dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) },
      },
    },
  };
}

export function model(parts: {
  nodes: NodeProto[];
  initializers?: TensorProto[];
  inputs?: ValueInfoProto[];
  outputs?: ValueInfoProto[];
  valueInfo?: ValueInfoProto[];
  opset?: number;
}): ModelProto {
  return {
    irVersion: 8,
    opsetImport: [{ domain: '', version: parts.opset ?? 17 }],
    graph: {
      name: 'test',
      node: parts.nodes,
      initializer: parts.initializers ?? [],
      input: parts.inputs ?? [tensorValue('x', DataType.FLOAT, ['batch', 'seq', 32])],
      output: parts.outputs ?? [tensorValue('y', DataType.FLOAT, ['batch', 'seq', 32])],
      valueInfo: parts.valueInfo ?? [],
    },
  };
}

/**
 * One unfused attention block on x [b, t, 32]: q/k/v MatMuls (+ bias), split into 4 heads of 8
 * by a Reshape with a constant shape, Q·Kᵀ, scale, Softmax, ·V, merge heads, out projection,
 * residual.
 * Node names are unscoped so that only structure can tell the roles.
 */
export function attentionBlock(options: { headsShape?: number[]; probsInfo?: boolean } = {}): ModelProto {
  const headsShape = options.headsShape ?? [0, 0, 4, 8];
  const proj = (p: string, input: string): NodeProto[] => [
    node('MatMul', [input, `W${p}`], [`${p}_mm`]),
    node('Add', [`b${p}`, `${p}_mm`], [`${p}_lin`]),
    node('Reshape', [`${p}_lin`, 'heads_shape'], [`${p}_heads`]),
    node('Transpose', [`${p}_heads`], [`${p}_t`], { attrs: { perm: p === 'k' ? [0, 2, 3, 1] : [0, 2, 1, 3] } }),
  ];
  const nodes = [
    ...proj('q', 'x'),
    ...proj('k', 'x'),
    ...proj('v', 'x'),
    node('MatMul', ['q_t', 'k_t'], ['scores'], { name: 'qk' }),
    node('Div', ['scores', 'scale'], ['scaled']),
    node('Softmax', ['scaled'], ['probs'], { name: 'softmax', attrs: { axis: -1 } }),
    node('MatMul', ['probs', 'v_t'], ['context'], { name: 'pv' }),
    node('Transpose', ['context'], ['context_t'], { attrs: { perm: [0, 2, 1, 3] } }),
    node('Reshape', ['context_t', 'merge_shape'], ['merged']),
    node('MatMul', ['merged', 'Wo'], ['attn_out'], { name: 'out_mm' }),
    node('Add', ['x', 'attn_out'], ['y'], { name: 'residual' }),
  ];
  const initializers = [
    ...['q', 'k', 'v', 'o'].map((p) => floatInit(`W${p}`, [32, 32])),
    ...['q', 'k', 'v'].map((p) => floatInit(`b${p}`, [32])),
    int64Init('heads_shape', headsShape),
    int64Init('merge_shape', [0, 0, 32]),
    { name: 'scale', dims: [], dataType: DataType.FLOAT },
  ];
  const valueInfo = options.probsInfo ? [tensorValue('probs', DataType.FLOAT, ['batch', 4, 'seq', 'seq'])] : [];
  return model({ nodes, initializers, valueInfo });
}
