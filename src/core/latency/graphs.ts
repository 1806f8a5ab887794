// The small ONNX graphs a latency table times, written with the lab's own writer. Each is one
// piece of a block at a kept size, with the ops the lab's models use (MatMul + bias Add, the
// erf GELU of GPT-2 / the bundled LM, SiLU gating for Llama, LayerNormalization), so ONNX Runtime
// picks the kernels it would pick for the whole model. Weights are a constant fill: a dense MatMul
// costs the same whatever the values (no runtime in the browser skips zeros).
import { DataType, type ModelProto, type NodeProto, type TensorProto, type ValueInfoProto } from '../onnx/types.ts';
import { writeModel } from '../onnx/write.ts';
import type { LatencySpec } from './spec.ts';

const WEIGHT_FILL = 0.01;

class GraphBuilder {
  readonly nodes: NodeProto[] = [];
  readonly initializers: TensorProto[] = [];
  private count = 0;

  private fresh(prefix: string): string {
    return `${prefix}_${this.count++}`;
  }

  weight(dims: number[], fill = WEIGHT_FILL): string {
    const name = this.fresh('w');
    const size = dims.reduce((a, b) => a * b, 1);
    this.initializers.push({ name, dims, dataType: DataType.FLOAT, floatData: new Float32Array(size).fill(fill) });
    return name;
  }

  ints(values: number[]): string {
    const name = this.fresh('c');
    this.initializers.push({ name, dims: [values.length], dataType: DataType.INT64, int64Data: BigInt64Array.from(values, BigInt) });
    return name;
  }

  op(opType: string, input: string[], attrs: Record<string, number | number[]> = {}): string {
    const output = this.fresh(opType.toLowerCase());
    const attribute = Object.entries(attrs).map(([name, v]) =>
      Array.isArray(v) ? { name, type: 7, ints: v } : Number.isInteger(v) ? { name, type: 2, i: v } : { name, type: 1, f: v },
    );
    this.nodes.push({ opType, input, output: [output], name: output, ...(attribute.length ? { attribute } : {}) });
    return output;
  }

  /** x · W + b, W stored [inputs, outputs] as torch exports nn.Linear. */
  linear(x: string, inputs: number, outputs: number): string {
    return this.op('Add', [this.op('MatMul', [x, this.weight([inputs, outputs])]), this.weight([outputs])]);
  }

  layerNorm(x: string, width: number): string {
    return this.op('LayerNormalization', [x, this.weight([width], 1), this.weight([width], 0)], { axis: -1, epsilon: 1e-5 });
  }

  model(input: ValueInfoProto, output: string, outputDims: number[]): Uint8Array {
    const proto: ModelProto = {
      irVersion: 8,
      producerName: 'compression-lab latency',
      opsetImport: [{ domain: '', version: 17 }],
      graph: {
        name: 'latency',
        node: this.nodes,
        initializer: this.initializers,
        input: [input],
        output: [valueInfo(output, DataType.FLOAT, outputDims)],
      },
    };
    return writeModel(proto);
  }
}

function valueInfo(name: string, elemType: number, dims: number[]): ValueInfoProto {
  return { name, type: { tensorType: { elemType, shape: { dim: dims.map((d) => ({ dimValue: d })) } } } };
}

/** The graphs' common input: hidden states [1, seq, d]. */
export const hiddenInput = 'hidden';
const hidden = (spec: LatencySpec) => valueInfo(hiddenInput, DataType.FLOAT, [1, spec.seq, spec.dModel]);

/** Per-run cost with no compute: hidden states in, the same out (Identity). Subtracted from every piece. */
export function overheadGraph(spec: LatencySpec): Uint8Array {
  const g = new GraphBuilder();
  return g.model(hidden(spec), g.op('Identity', [hiddenInput]), [1, spec.seq, spec.dModel]);
}

/**
 * Attention with `heads` query heads kept (1 ≤ heads ≤ spec.heads): Q/K/V projections, scaled
 * scores, the causal mask when the model has one, softmax, context, output projection. Under
 * grouped-query attention the key-value heads that serve the kept query heads are kept
 * (ceil(heads / group)), tiled to the query heads as ORT's unfused Llama graphs do.
 */
export function attentionGraph(spec: LatencySpec, heads: number): Uint8Array {
  if (!(heads >= 1 && heads <= spec.heads)) throw new Error(`attentionGraph: heads ${heads} outside 1..${spec.heads}`);
  const { seq, dModel: d, headDim } = spec;
  const group = Math.max(1, Math.round(spec.heads / spec.kvHeads));
  const kvHeads = Math.ceil(heads / group);
  const g = new GraphBuilder();
  const split = (x: string, n: number, perm: number[]) => g.op('Transpose', [g.op('Reshape', [x, g.ints([1, seq, n, headDim])])], { perm });
  const q = split(g.linear(hiddenInput, d, heads * headDim), heads, [0, 2, 1, 3]);
  let kT = split(g.linear(hiddenInput, d, kvHeads * headDim), kvHeads, [0, 2, 3, 1]);
  let v = split(g.linear(hiddenInput, d, kvHeads * headDim), kvHeads, [0, 2, 1, 3]);
  if (group > 1) {
    const expand = (x: string) => g.op('Slice', [g.op('Tile', [x, g.ints([1, group, 1, 1])]), g.ints([0]), g.ints([heads]), g.ints([1])]);
    kT = expand(kT);
    v = expand(v);
  }
  let scores = g.op('Div', [g.op('MatMul', [q, kT]), g.weight([1], Math.sqrt(headDim))]);
  if (spec.causal) {
    const mask = new Float32Array(seq * seq);
    for (let i = 0; i < seq; i++) for (let j = i + 1; j < seq; j++) mask[i * seq + j] = -1e9;
    const name = g.weight([seq, seq]);
    (g.initializers.at(-1) as TensorProto).floatData = mask;
    scores = g.op('Add', [scores, name]);
  }
  const context = g.op('MatMul', [g.op('Softmax', [scores], { axis: -1 }), v]);
  const merged = g.op('Reshape', [g.op('Transpose', [context], { perm: [0, 2, 1, 3] }), g.ints([1, seq, heads * headDim])]);
  return g.model(hidden(spec), g.linear(merged, heads * headDim, d), [1, seq, d]);
}

/** The MLP with `neurons` intermediate neurons kept (1 ≤ neurons ≤ spec.mlpWidth). */
export function mlpGraph(spec: LatencySpec, neurons: number): Uint8Array {
  if (!(neurons >= 1 && neurons <= spec.mlpWidth)) throw new Error(`mlpGraph: neurons ${neurons} outside 1..${spec.mlpWidth}`);
  const d = spec.dModel;
  const g = new GraphBuilder();
  let inner: string;
  if (spec.gated) {
    const gate = g.linear(hiddenInput, d, neurons);
    inner = g.op('Mul', [g.op('Mul', [gate, g.op('Sigmoid', [gate])]), g.linear(hiddenInput, d, neurons)]);
  } else {
    const up = g.linear(hiddenInput, d, neurons);
    const erf = g.op('Erf', [g.op('Div', [up, g.weight([1], Math.SQRT2)])]);
    inner = g.op('Mul', [g.op('Mul', [up, g.op('Add', [erf, g.weight([1], 1)])]), g.weight([1], 0.5)]);
  }
  return g.model(hidden(spec), g.linear(inner, neurons, d), [1, spec.seq, d]);
}

/**
 * Everything outside the blocks' attention and MLP, timed once: the token (or patch) embedding
 * and positions, each block's two norms and residual adds, the final norm and the output head.
 * Its input is what the model's input is: token ids [1, seq], or patches [1, seq, inputWidth].
 */
export function restGraph(spec: LatencySpec): { bytes: Uint8Array; input: ValueInfoProto } {
  const { seq, dModel: d } = spec;
  const g = new GraphBuilder();
  const input =
    spec.input === 'tokens' ? valueInfo('ids', DataType.INT64, [1, seq]) : valueInfo('patches', DataType.FLOAT, [1, seq, spec.inputWidth]);
  let x = spec.input === 'tokens' ? g.op('Gather', [g.weight([spec.inputWidth, d]), 'ids']) : g.linear('patches', spec.inputWidth, d);
  x = g.op('Add', [x, g.weight([seq, d])]);
  for (let i = 0; i < 2 * spec.blocks; i++) x = g.op('Add', [x, g.layerNorm(x, d)]);
  x = g.layerNorm(x, d);
  if (spec.headOut === 0) return { bytes: g.model(input, x, [1, seq, d]), input };
  if (spec.headTokens < seq) x = g.op('Slice', [x, g.ints([0]), g.ints([spec.headTokens]), g.ints([1])]);
  return { bytes: g.model(input, g.linear(x, d, spec.headOut), [1, spec.headTokens, spec.headOut]), input };
}
