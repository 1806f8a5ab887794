// Writing factorised layers into an ONNX graph: each product by W becomes two products by thin
// initializers, plain ONNX that any runtime runs (docs/lowrank.md#the-export).
//   MatMul(x, Wᵀ)            →  MatMul(MatMul(x, Rᵀ), Lᵀ)          Rᵀ [C_in, r], Lᵀ [r, C_out]
//   MatMul(W, x)             →  MatMul(L, MatMul(R, x))             R [r, C_in], L [C_out, r]
//   Gemm(x, W, c, transB)    →  Gemm(MatMul(x, Rᵀ), L or Lᵀ, c)     bias, alpha, beta kept on the second
// The first product's node is named after the layer's node with a `_lowrank_in` suffix in the
// same scope, so the analysis (model/roles.ts) gives both factors the layer's role and block.
// The input model is never mutated; unchanged tensors and nodes are shared.
import { getAttrInt } from '../onnx/graph.ts';
import { float32ToFloat16 } from '../onnx/float16.ts';
import { makeFloatTensor } from '../onnx/tensor.ts';
import { DataType, type ModelProto, type NodeProto, type TensorProto } from '../onnx/types.ts';
import type { LinearLayer } from '../model/types.ts';
import type { LowRankFactors } from './factorize.ts';

/** Why `layer` cannot be written as two products, or null when it can. */
export function unfactorisableReason(layer: LinearLayer): string | null {
  if (layer.nBits) return 'its weight is packed in MatMulNBits blocks';
  if (layer.weightPath.length > 0) return `its weight reaches the product through ${layer.weightPath.join(' → ')}, not as a plain initializer`;
  if (layer.weightDtype !== 'float32' && layer.weightDtype !== 'float16') return `its weight is ${layer.weightDtype}, not float32 or float16`;
  if (layer.sharedWith.length > 0) return `its weight is also read by ${layer.sharedWith.join(', ')} (a tied embedding)`;
  if (layer.opType === 'Gemm' && layer.weightOperand !== 'B') return 'it is a Gemm with the weight as A';
  return null;
}

export interface FactorisedLayer {
  layer: LinearLayer;
  factors: LowRankFactors;
}

function storedTensor(name: string, dims: [number, number], values: Float64Array, dtype: string): TensorProto {
  const f32 = Float32Array.from(values);
  const tensor = makeFloatTensor(name, dims, f32);
  if (dtype !== 'float16') return tensor;
  const raw = new Uint8Array(f32.length * 2);
  const view = new DataView(raw.buffer);
  f32.forEach((v, i) => view.setUint16(i * 2, float32ToFloat16(v), true));
  return { ...tensor, dataType: DataType.FLOAT16, rawData: raw };
}

/** (rows × cols) row-major → its transpose. */
function transpose(values: Float64Array, rows: number, cols: number): Float64Array {
  const out = new Float64Array(values.length);
  for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) out[j * rows + i] = values[i * cols + j];
  return out;
}

/** A name not yet taken, derived from `base`. */
function freshName(base: string, taken: Set<string>): string {
  let name = base;
  for (let k = 2; taken.has(name); k++) name = `${base}_${k}`;
  taken.add(name);
  return name;
}

/** `/blocks.0/attn/q_proj/MatMul` → `/blocks.0/attn/q_proj/MatMul_lowrank_in`. */
const inputNodeName = (nodeName: string) => `${nodeName}_lowrank_in`;

/** The model with every listed layer replaced by its two factors. */
export function factoriseLayers(model: ModelProto, layers: readonly FactorisedLayer[]): ModelProto {
  const graph = model.graph;
  if (graph === undefined) throw new Error('factoriseLayers: the model has no graph');
  const nodes = [...(graph.node ?? [])];
  const replaced = new Set(layers.map(({ layer }) => layer.weight));
  const initializers = (graph.initializer ?? []).filter((t) => !replaced.has(t.name ?? ''));
  const taken = new Set<string>([...(graph.initializer ?? []).map((t) => t.name ?? ''), ...nodes.flatMap((n) => [...(n.output ?? []), n.name ?? ''])]);
  for (const { layer, factors } of layers) {
    const reason = unfactorisableReason(layer);
    if (reason !== null) throw new Error(`${layer.name} cannot be factorised: ${reason}`);
    const { rank, left, right } = factors;
    const cOut = layer.outFeatures;
    const cIn = layer.inFeatures;
    const base = layer.name || layer.weight;
    const inName = freshName(`${base}.lowrank_in.weight`, taken);
    const outName = freshName(`${base}.lowrank_out.weight`, taken);
    const weightIsA = layer.opType === 'MatMul' && layer.weightOperand === 'A';
    const transB = layer.opType === 'Gemm' ? getAttrInt(nodes.find((n) => n.name === layer.nodeName) ?? {}, 'transB', 0) : 0;
    // The first factor: Rᵀ [C_in, r] after x, or R [r, C_in] before it.
    initializers.push(weightIsA ? storedTensor(inName, [rank, cIn], right, layer.weightDtype) : storedTensor(inName, [cIn, rank], transpose(right, rank, cIn), layer.weightDtype));
    // The second: Lᵀ [r, C_out] (MatMul, Gemm transB = 0), or L [C_out, r] (W · x, Gemm transB = 1).
    const secondIsL = weightIsA || transB === 1;
    initializers.push(secondIsL ? storedTensor(outName, [cOut, rank], left, layer.weightDtype) : storedTensor(outName, [rank, cOut], transpose(left, cOut, rank), layer.weightDtype));
    for (const use of layer.uses) {
      const index = nodes.findIndex((n) => n.name === use.nodeName && (n.input ?? []).includes(layer.weight));
      if (index < 0) throw new Error(`factoriseLayers: node ${use.nodeName} of ${layer.name} does not read ${layer.weight}`);
      const node = nodes[index];
      const hidden = freshName(`${base}.lowrank_hidden`, taken);
      const first: NodeProto = {
        name: freshName(inputNodeName(node.name ?? use.nodeName), taken),
        opType: 'MatMul',
        input: weightIsA ? [inName, use.input] : [use.input, inName],
        output: [hidden],
      };
      const inputs = [...(node.input ?? [])];
      const weightAt = inputs.indexOf(layer.weight);
      const activationAt = inputs.indexOf(use.input);
      inputs[weightAt] = outName;
      inputs[activationAt] = hidden;
      nodes.splice(index, 1, first, { ...node, input: inputs });
    }
  }
  // Old (IR < 4) files list initializers among the graph inputs too; a removed weight leaves both.
  const input = graph.input?.filter((i) => !replaced.has(i.name ?? ''));
  return { ...model, graph: { ...graph, node: nodes, initializer: initializers, ...(input ? { input } : {}) } };
}
