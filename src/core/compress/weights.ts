// Reading a linear layer's W (C_out × C_in) from its stored initializer and writing the pruned W
// back, on a working copy of the model: the input ModelProto is never mutated. The copy shares
// every tensor it does not change (weights are large; only pruned ones are new objects).
//
// Layout: 'in_out' stores Wᵀ ([C_in, C_out], MatMul(x, B)), 'out_in' stores W. A Transpose
// between the initializer and the product is already folded into `layout` by the analysis.
// Sharing: when other nodes read the same initializer (a tied LM head's embedding Gather), the
// pruned values go into a new initializer that only this layer's nodes read; the others keep
// the dense tensor.
import type { LinearLayer } from '../model/types.ts';
import { float32ToFloat16 } from '../onnx/float16.ts';
import { setTensorFloat32, tensorToFloat32 } from '../onnx/tensor.ts';
import { DataType, type GraphProto, type ModelProto, type NodeProto, type TensorProto } from '../onnx/types.ts';
import type { Matrix } from '../prune/types.ts';

export class WeightAccessError extends Error {
  override name = 'WeightAccessError';
}

/** (rows, cols) → (cols, rows). */
export function transposed(values: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(values.length);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = values[r * cols + c];
  return out;
}

/** W (C_out × C_in) from the values as stored. Always a fresh array. */
export function weightFromStored(layer: LinearLayer, stored: Float32Array): Matrix {
  const { outFeatures: rows, inFeatures: cols } = layer;
  const data = layer.layout === 'in_out' ? transposed(stored, cols, rows) : Float32Array.from(stored);
  return { rows, cols, data };
}

/** The values to store for W, in the initializer's layout. */
export function storedFromWeight(layer: LinearLayer, weight: Matrix): Float32Array {
  return layer.layout === 'in_out' ? transposed(weight.data, weight.rows, weight.cols) : weight.data;
}

function float16RawData(values: Float32Array): Uint8Array {
  const out = new Uint8Array(values.length * 2);
  const view = new DataView(out.buffer);
  values.forEach((v, i) => view.setUint16(i * 2, float32ToFloat16(v), true));
  return out;
}

/** A new TensorProto with the same name, dims and dtype holding `values` (float32 or float16). */
function withValues(tensor: TensorProto, values: Float32Array, name = tensor.name): TensorProto {
  const copy: TensorProto = { ...tensor, name };
  if (tensor.dataType === DataType.FLOAT16) {
    setTensorFloat32(copy, values);
    copy.dataType = DataType.FLOAT16;
    copy.rawData = float16RawData(values);
  } else {
    setTensorFloat32(copy, values);
  }
  return copy;
}

/** A working copy of a model whose linear weights can be replaced. */
export class WorkingModel {
  readonly model: ModelProto;
  private readonly graph: GraphProto;
  private readonly initializers: TensorProto[];
  private readonly nodes: NodeProto[];
  /** Layer id → the initializer now holding its weight (differs after untying). */
  private readonly current = new Map<string, string>();
  readonly notes: string[] = [];

  constructor(source: ModelProto) {
    if (source.graph === undefined) throw new WeightAccessError('the model has no graph');
    this.initializers = [...(source.graph.initializer ?? [])];
    this.nodes = [...(source.graph.node ?? [])];
    this.graph = { ...source.graph, initializer: this.initializers, node: this.nodes };
    this.model = { ...source, graph: this.graph };
  }

  private tensorIndex(name: string, layer: LinearLayer): number {
    const index = this.initializers.findIndex((t) => t.name === name);
    if (index < 0) {
      throw new WeightAccessError(`layer ${layer.name}: weight "${name}" is not an initializer (a Constant node?); pruning writes initializers only`);
    }
    return index;
  }

  /** The initializer that now holds `layer`'s weight. */
  storedTensor(layer: LinearLayer): TensorProto {
    if (layer.nBits) throw new WeightAccessError(`layer ${layer.name}: its weight is packed in MatMulNBits blocks, not stored as floats`);
    return this.initializers[this.tensorIndex(this.current.get(layer.id) ?? layer.weight, layer)];
  }

  /** W (C_out × C_in) of `layer` as the working model now holds it. */
  readWeight(layer: LinearLayer): Matrix {
    return weightFromStored(layer, tensorToFloat32(this.storedTensor(layer)));
  }

  /** Stores W for `layer`; a weight other nodes also read is untied first. */
  writeWeight(layer: LinearLayer, weight: Matrix): void {
    if (layer.nBits) throw new WeightAccessError(`layer ${layer.name}: its weight is packed in MatMulNBits blocks, not stored as floats`);
    if (weight.rows !== layer.outFeatures || weight.cols !== layer.inFeatures) {
      throw new WeightAccessError(`layer ${layer.name}: ${weight.rows} x ${weight.cols} does not fit C_out x C_in = ${layer.outFeatures} x ${layer.inFeatures}`);
    }
    const values = storedFromWeight(layer, weight);
    const name = this.current.get(layer.id) ?? layer.weight;
    const index = this.tensorIndex(name, layer);
    if (layer.sharedWith.length > 0 && !this.current.has(layer.id)) {
      const untied = this.untie(layer, name);
      this.initializers.push(withValues(this.initializers[index], values, untied));
      return;
    }
    this.initializers[index] = withValues(this.initializers[index], values);
  }

  /**
   * Replaces the initializer of the same name: a weight read in from its file before its step, or
   * moved out to the output file after it (streamed.ts). The model's structure does not change.
   */
  replaceInitializer(tensor: TensorProto): void {
    const index = this.initializers.findIndex((t) => t.name === tensor.name);
    if (index < 0) throw new WeightAccessError(`"${tensor.name}" is not an initializer`);
    this.initializers[index] = tensor;
  }

  /** A fresh initializer name for the layer, and its nodes (and weight-path nodes) rewired to it. */
  private untie(layer: LinearLayer, name: string): string {
    const taken = new Set([...this.initializers.map((t) => t.name), ...this.nodes.flatMap((n) => n.output ?? [])]);
    let untied = `${name}.pruned`;
    for (let k = 2; taken.has(untied); k++) untied = `${name}.pruned${k}`;
    const producer = new Map<string, number>();
    this.nodes.forEach((node, i) => (node.output ?? []).forEach((output) => producer.set(output, i)));
    for (const use of layer.uses) {
      let index = this.nodes.findIndex((node) => node.name === use.nodeName);
      if (index < 0) index = Number(/#(\d+)$/.exec(use.nodeName)?.[1] ?? -1);
      // Walk from the product up the weight operand (through Transpose / Cast / Identity).
      for (let step = 0; step < 8 && index >= 0; step++) {
        const node = this.nodes[index];
        const inputs = node.input ?? [];
        if (inputs.includes(name)) {
          this.nodes[index] = { ...node, input: inputs.map((input) => (input === name ? untied : input)) };
          break;
        }
        const weightInput = inputs.find((input) => input !== use.input && producer.has(input));
        index = weightInput === undefined ? -1 : (producer.get(weightInput) ?? -1);
      }
    }
    this.current.set(layer.id, untied);
    this.notes.push(`${layer.name}: its weight "${name}" is also read by ${layer.sharedWith.join(', ')}; the pruned copy is stored as "${untied}" and those readers keep the dense tensor`);
    return untied;
  }
}
