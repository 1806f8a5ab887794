// Input statistics reduced by ONNX Runtime inside the calibration graph, a statistics source
// beside the accumulators of accumulator.ts: instead of shipping every token's activations to JS
// and summing x xᵀ there, the graph itself computes, per batch, for each tapped input X
// (tokens × C_in): the Gram matrix XᵀX with one Gemm (transA = 1; MLAS's float32 GEMM), max|x_j|
// with Abs + ReduceMax, and its shape (the token count). JS adds the batches in float64.
//
// Precision: within a batch the Gram entries are float32 sums of n_b products, so each is within
// γ_{n_b}·Σ_t |x_ta||x_tb| ≤ γ_{n_b}·√(G_aa G_bb) of the exact sum (Higham, Accuracy and
// Stability of Numerical Algorithms, §3.1; Cauchy–Schwarz), γ_n = n·u/(1 − n·u), u = 2⁻²⁴, and
// the float64 sum over batches adds nothing of that order. Σ x_j² is the Gram diagonal, with the
// same bound; max|x_j| is exact. The CPU accumulator's float64 sums are exact up to float64
// rounding, so the two differ within that bound (tested in graphGram.test.ts) — enough to change
// SparseGPT's weights in the last bits, so this source is opt-in and the hash moves with it.
//
// Only inputs whose channels are the last axis ([..., T, C], MatMul(x, W) and Gemm without
// transA) are reduced here; the others keep the JS path.
import type { ModelProto, NodeProto, TensorProto, ValueInfoProto } from '../onnx/types.ts';
import { AttributeType, DataType } from '../onnx/types.ts';
import type { InputSums } from './accumulator.ts';

/** Output names of one reduced input. */
export function gramOutputNames(tensor: string): { gram: string; maxAbs: string; shape: string } {
  return { gram: `${tensor}::gram`, maxAbs: `${tensor}::maxabs`, shape: `${tensor}::rows_shape` };
}

export interface GramTap {
  tensor: string;
  channels: number;
}

function defaultOpset(model: ModelProto): number {
  const entry = (model.opsetImport ?? []).find((o) => !o.domain || o.domain === 'ai.onnx');
  return Number(entry?.version ?? 0);
}

/** Why the graph cannot reduce statistics itself, or undefined when it can. */
export function graphGramUnsupported(model: ModelProto): string | undefined {
  const opset = defaultOpset(model);
  // Gemm without C needs opset 11; ReduceMax is written for both forms of its axes (13 / 18).
  return opset < 13 ? `opset ${opset} < 13` : undefined;
}

function int64Tensor(name: string, values: number[]): TensorProto {
  return { name, dims: [values.length], dataType: DataType.INT64, int64Data: BigInt64Array.from(values.map(BigInt)) };
}

/** A copy of `model` that also outputs, per tap, its Gram matrix, max|x| and row shape. */
export function withGramOutputs(model: ModelProto, taps: readonly GramTap[]): ModelProto {
  const graph = model.graph!;
  const opset = defaultOpset(model);
  const nodes: NodeProto[] = [];
  const initializers: TensorProto[] = [];
  const outputs: ValueInfoProto[] = [];
  for (const { tensor, channels } of taps) {
    const names = gramOutputNames(tensor);
    const [rows, flat, abs, axes] = [`${tensor}::rows`, `${tensor}::flat`, `${tensor}::abs`, `${tensor}::axes`];
    initializers.push(int64Tensor(flat, [-1, channels]));
    nodes.push(
      { opType: 'Reshape', name: `${tensor}::Reshape`, input: [tensor, flat], output: [rows] },
      // XᵀX: (C, tokens) · (tokens, C).
      { opType: 'Gemm', name: `${tensor}::Gram`, input: [rows, rows], output: [names.gram], attribute: [{ name: 'transA', type: AttributeType.INT, i: 1 }] },
      { opType: 'Abs', name: `${tensor}::Abs`, input: [rows], output: [abs] },
      { opType: 'Shape', name: `${tensor}::Shape`, input: [rows], output: [names.shape] },
    );
    const keepdims = { name: 'keepdims', type: AttributeType.INT, i: 0 };
    if (opset >= 18) {
      initializers.push(int64Tensor(axes, [0]));
      nodes.push({ opType: 'ReduceMax', name: `${tensor}::ReduceMax`, input: [abs, axes], output: [names.maxAbs], attribute: [keepdims] });
    } else {
      nodes.push({ opType: 'ReduceMax', name: `${tensor}::ReduceMax`, input: [abs], output: [names.maxAbs], attribute: [keepdims, { name: 'axes', type: AttributeType.INTS, ints: [0] }] });
    }
    outputs.push({ name: names.gram }, { name: names.maxAbs }, { name: names.shape });
  }
  return {
    ...model,
    graph: {
      ...graph,
      node: [...(graph.node ?? []), ...nodes],
      initializer: [...(graph.initializer ?? []), ...initializers],
      output: [...(graph.output ?? []), ...outputs],
    },
  };
}

/** Float64 sums of the per-batch reductions of one input. */
export class ReducedGramAccumulator {
  private tokens = 0;
  private readonly gram: Float64Array;
  private readonly maxAbs: Float64Array;

  constructor(readonly channels: number) {
    this.gram = new Float64Array(channels * channels);
    this.maxAbs = new Float64Array(channels);
  }

  /** One batch: its (C, C) Gram matrix, (C) max|x| and token count. */
  add(gram: Float32Array, maxAbs: Float32Array, tokens: number): void {
    const C = this.channels;
    if (gram.length !== C * C || maxAbs.length !== C) throw new Error(`reduced statistics: expected ${C} channels, got a ${gram.length}-element Gram matrix`);
    for (let k = 0; k < gram.length; k++) this.gram[k] += gram[k];
    for (let j = 0; j < C; j++) this.maxAbs[j] = Number.isNaN(maxAbs[j]) || Number.isNaN(this.maxAbs[j]) ? NaN : Math.max(this.maxAbs[j], maxAbs[j]);
    this.tokens += tokens;
  }

  /** The sums, the upper triangle mirrored (GEMM need not return an exactly symmetric product). */
  finish(): InputSums {
    const { channels: C, gram } = this;
    for (let a = 0; a < C; a++) for (let b = a + 1; b < C; b++) gram[b * C + a] = gram[a * C + b];
    const sqNorm = new Float64Array(C);
    for (let j = 0; j < C; j++) sqNorm[j] = gram[j * C + j];
    return { channels: C, tokens: this.tokens, gram, sqNorm, maxAbs: this.maxAbs };
  }
}
