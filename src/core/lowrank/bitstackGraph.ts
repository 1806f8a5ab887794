// Writing BitStack layers into an ONNX graph (docs/lowrank.md#bitstack-export).
//   packed: each layer's kept blocks as three initializers — the signs packed 8 per byte (uint8
//           [n, ⌈R·C/8⌉]), u (float16 [n, R, k]) and vᵀ (float16 [n, k, C]) — and standard ops that
//           rebuild the weight: BitShift left by 7 − j then right by 7 reads bit j of each byte
//           (uint8 shifts drop the high bits), Cast, Reshape (and Slice when R·C is not a multiple
//           of 8), 2·bit − 1, Cast(u) · Cast(vᵀ), Mul, ReduceSum over the blocks. The file is
//           smaller; ONNX Runtime folds the rebuild into a dense constant when the session starts,
//           so memory while running is the dense weight's.
//   dense:  the reconstructed weight written as floats in place of W (same file size as dense).
// R × C is the stored orientation of W (Wᵀ for the 'in_out' layout), so the product node is untouched.
import { float32ToFloat16 } from '../onnx/float16.ts';
import { AttributeType, DataType, type ModelProto, type NodeProto, type TensorProto } from '../onnx/types.ts';
import type { LinearLayer } from '../model/types.ts';
import { defaultOpset, findNodeIndex, int64Tensor, intAttribute, rawTensor, takenNames, uniqueName, workingCopy } from '../quant/export/graphEdit.ts';
import type { BitStackBlock } from './bitstack.ts';

/** The default-domain opset the packed form needs (Unsqueeze and ReduceSum with axes as inputs). */
export const BITSTACK_PACKED_OPSET = 13;

/** Why `layer` cannot be stored as BitStack blocks, or null. */
export function bitStackUnsupportedReason(layer: LinearLayer): string | null {
  if (layer.nBits) return 'its weight is packed in MatMulNBits blocks';
  if (layer.weightPath.length > 0) return `its weight reaches the product through ${layer.weightPath.join(' → ')}, not as a plain initializer`;
  if (layer.weightDtype !== 'float32' && layer.weightDtype !== 'float16') return `its weight is ${layer.weightDtype}, not float32 or float16`;
  if (layer.sharedWith.length > 0) return `its weight is also read by ${layer.sharedWith.join(', ')} (a tied embedding)`;
  return null;
}

export interface BitStackLayer {
  layer: LinearLayer;
  /** The kept blocks, first to last. */
  blocks: readonly BitStackBlock[];
  k: number;
}

function float16Raw(values: ArrayLike<number>): Uint8Array {
  const raw = new Uint8Array(values.length * 2);
  const view = new DataView(raw.buffer);
  for (let i = 0; i < values.length; i++) view.setUint16(i * 2, float32ToFloat16(values[i]), true);
  return raw;
}

/** The blocks in the stored orientation: signs, u and vᵀ of Wᵀ for an 'in_out' layer. */
function storedBlocks({ layer, blocks, k }: BitStackLayer): { rows: number; cols: number; signs: Uint8Array; u: Uint8Array; vt: Uint8Array } {
  const cOut = layer.outFeatures;
  const cIn = layer.inFeatures;
  const transposed = layer.layout === 'in_out';
  const [rows, cols] = transposed ? [cIn, cOut] : [cOut, cIn];
  const bytes = Math.ceil((rows * cols) / 8);
  const signs = new Uint8Array(blocks.length * bytes);
  const u = new Float32Array(blocks.length * rows * k);
  const vt = new Float32Array(blocks.length * k * cols);
  blocks.forEach((block, b) => {
    for (let i = 0; i < rows; i++) {
      for (let j = 0; j < cols; j++) {
        const source = transposed ? j * cIn + i : i * cIn + j;
        const target = i * cols + j;
        if ((block.signs[source >> 3] >> (source & 7)) & 1) signs[b * bytes + (target >> 3)] |= 1 << (target & 7);
      }
    }
    // Wᵀ = (u vᵀ)ᵀ = v uᵀ: the stored orientation's u is v, its vᵀ is uᵀ.
    for (let i = 0; i < rows; i++) for (let t = 0; t < k; t++) u[(b * rows + i) * k + t] = transposed ? block.vt[t * cIn + i] : block.u[i * k + t];
    for (let t = 0; t < k; t++) for (let j = 0; j < cols; j++) vt[(b * k + t) * cols + j] = transposed ? block.u[j * k + t] : block.vt[t * cIn + j];
  });
  return { rows, cols, signs, u: float16Raw(u), vt: float16Raw(vt) };
}

/** The model with each layer's weight rebuilt from its packed blocks by standard ONNX ops. */
export function writePackedBitStack(model: ModelProto, layers: readonly BitStackLayer[]): ModelProto {
  if (defaultOpset(model) < BITSTACK_PACKED_OPSET) throw new Error(`BitStack's packed export needs ONNX opset ${BITSTACK_PACKED_OPSET} or later; the model imports ${defaultOpset(model)}`);
  const { model: out, graph } = workingCopy(model);
  const taken = takenNames(graph);
  const name = (base: string) => uniqueName(taken, base);
  const initializers = graph.initializer!;
  const nodes = graph.node!;
  const shiftsLeft = name('bitstack.shifts_left');
  const shiftRight = name('bitstack.shift_right');
  const blockAxis = name('bitstack.axis0');
  const bitAxis = name('bitstack.axis2');
  const two = name('bitstack.two');
  const one = name('bitstack.one');
  initializers.push(
    rawTensor(shiftsLeft, [8], DataType.UINT8, Uint8Array.from([7, 6, 5, 4, 3, 2, 1, 0])),
    rawTensor(shiftRight, [1], DataType.UINT8, Uint8Array.from([7])),
    int64Tensor(blockAxis, [0]),
    int64Tensor(bitAxis, [2]),
    rawTensor(two, [], DataType.FLOAT, new Uint8Array(new Float32Array([2]).buffer)),
    rawTensor(one, [], DataType.FLOAT, new Uint8Array(new Float32Array([1]).buffer)),
  );
  const replaced = new Set(layers.map(({ layer }) => layer.weight));
  for (const [position, entry] of layers.entries()) {
    const { layer, blocks, k } = entry;
    const n = blocks.length;
    const { rows, cols, signs, u, vt } = storedBlocks(entry);
    const bytes = Math.ceil((rows * cols) / 8);
    // Short names: a layer's dozen tensors and nodes would otherwise cost more bytes than its signs
    // on a small model; the blocks' own initializers carry the layer's name.
    const base = `bs${position}`;
    const t = (suffix: string) => name(`${base}.${suffix}`);
    const long = `${layer.name || layer.weight}.bitstack`;
    const [signsName, uName, vtName] = [name(`${long}.signs`), name(`${long}.u`), name(`${long}.vt`)];
    initializers.push(rawTensor(signsName, [n, bytes], DataType.UINT8, signs), rawTensor(uName, [n, rows, k], DataType.FLOAT16, u), rawTensor(vtName, [n, k, cols], DataType.FLOAT16, vt));
    const flatShape = t('flat_shape');
    const blockShape = t('block_shape');
    initializers.push(int64Tensor(flatShape, [n, bytes * 8]), int64Tensor(blockShape, [n, rows, cols]));
    const added: NodeProto[] = [];
    const op = (opType: string, inputs: string[], attribute: NodeProto['attribute'] = []): string => {
      const output = t(opType[0]);
      added.push({ opType, input: inputs, output: [output], ...(attribute.length ? { attribute } : {}) });
      return output;
    };
    const bytesPerBit = op('Unsqueeze', [signsName, bitAxis]);
    const high = op('BitShift', [bytesPerBit, shiftsLeft], [{ name: 'direction', type: AttributeType.STRING, s: new TextEncoder().encode('LEFT') }]);
    const bit = op('BitShift', [high, shiftRight], [{ name: 'direction', type: AttributeType.STRING, s: new TextEncoder().encode('RIGHT') }]);
    let bits = op('Reshape', [op('Cast', [bit], [intAttribute('to', DataType.FLOAT)]), flatShape]);
    if (bytes * 8 !== rows * cols) {
      const [starts, ends, axes] = [t('slice_starts'), t('slice_ends'), t('slice_axes')];
      initializers.push(int64Tensor(starts, [0]), int64Tensor(ends, [rows * cols]), int64Tensor(axes, [1]));
      bits = op('Slice', [bits, starts, ends, axes]);
    }
    const sign = op('Sub', [op('Mul', [op('Reshape', [bits, blockShape]), two]), one]);
    const scale = op('MatMul', [op('Cast', [uName], [intAttribute('to', DataType.FLOAT)]), op('Cast', [vtName], [intAttribute('to', DataType.FLOAT)])]);
    let weight = op('ReduceSum', [op('Mul', [sign, scale]), blockAxis], [intAttribute('keepdims', 0)]);
    if (layer.weightDtype === 'float16') weight = op('Cast', [weight], [intAttribute('to', DataType.FLOAT16)]);
    const first = Math.min(...layer.uses.map((use) => findNodeIndex(graph, use.nodeName)));
    if (first < 0) throw new Error(`writePackedBitStack: no node of ${layer.name} in the graph`);
    for (const use of layer.uses) {
      const index = findNodeIndex(graph, use.nodeName);
      nodes[index] = { ...nodes[index], input: (nodes[index].input ?? []).map((input) => (input === layer.weight ? weight : input)) };
    }
    nodes.splice(first, 0, ...added);
  }
  graph.initializer = initializers.filter((tensor: TensorProto) => !replaced.has(tensor.name ?? ''));
  graph.input = (graph.input ?? []).filter((input) => !replaced.has(input.name ?? ''));
  return out;
}
