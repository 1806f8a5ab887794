// A small writer of ONNX nodes named the way torch.onnx.export names them: the module scope, the
// op type and a per-scope counter (`/model/layers.0/self_attn/Mul_2`), with outputs
// `<node>_output_0`. Shape constants become initializers under the scope that uses them.
import { DataType, type NodeProto, type TensorProto } from '../../../src/core/onnx/types.ts';
import { node, type AttrSpec } from '../../../src/core/model/testGraphs.ts';

export class GraphBuilder {
  readonly nodes: NodeProto[] = [];
  readonly initializers: TensorProto[] = [];
  private readonly counters = new Map<string, number>();

  /** One node; returns its first output's name (or the given output names' first). */
  op(scope: string, opType: string, inputs: string[], options: { attrs?: Record<string, AttrSpec>; outputs?: string[] } = {}): string {
    const key = `${scope}/${opType}`;
    const n = this.counters.get(key) ?? 0;
    this.counters.set(key, n + 1);
    const name = n === 0 ? key : `${key}_${n}`;
    const outputs = options.outputs ?? [`${name}_output_0`];
    this.nodes.push(node(opType, inputs, outputs, { name, ...(options.attrs ? { attrs: options.attrs } : {}) }));
    return outputs[0];
  }

  /** Several outputs (Split). */
  opMulti(scope: string, opType: string, inputs: string[], count: number, attrs?: Record<string, AttrSpec>): string[] {
    const key = `${scope}/${opType}`;
    const n = this.counters.get(key) ?? 0;
    const name = n === 0 ? key : `${key}_${n}`;
    const outputs = Array.from({ length: count }, (_, i) => `${name}_output_${i}`);
    this.op(scope, opType, inputs, { outputs, ...(attrs ? { attrs } : {}) });
    return outputs;
  }

  int64(name: string, values: number[] | bigint[], scalar = false): string {
    const data = BigInt64Array.from(values as (number | bigint)[], (v) => BigInt(v));
    this.initializers.push({ name, dims: scalar ? [] : [data.length], dataType: DataType.INT64, int64Data: data });
    return name;
  }

  float(name: string, values: number[], dims: number[] = []): string {
    this.initializers.push({ name, dims, dataType: DataType.FLOAT, rawData: new Uint8Array(Float32Array.from(values).buffer) });
    return name;
  }

  add(tensor: TensorProto): string {
    this.initializers.push(tensor);
    return tensor.name ?? '';
  }
}

/** torch.finfo(torch.float32).min: the value HF's masks add to blocked scores. */
export const FLOAT32_MIN = -3.4028234663852886e38;
/** Slice's "to the end" (INT64_MAX, as torch writes it). */
export const INT64_MAX = 9223372036854775807n;
