// Writes QUIK layers (quant/quik.ts) with standard ONNX ops and com.microsoft.MatMulNBits:
//
//   x_q = Gather(x, quantizedColumns, axis=-1)            [..., C_in − k]
//   x_q = FakeQuant_a(x_q)                                 (activationBits > 0: per token, simulated)
//   y   = MatMulNBits(x_q, packed codes)                   packed; or MatMul(x_q, Ŵ_qᵀ) simulated
//       + MatMul(Gather(x, outlierColumns, axis=-1), W_oᵀ) (k > 0: the float outlier columns)
//       (+ the Gemm's bias; a MatMul's bias Add after the node stays as it was)
//
// The fake quantization is quant.py's ActQuantizer (QUIK experiments/fake_quant): per token over
// the last axis of x_q, xmin = min(ReduceMin, 0), xmax = max(ReduceMax, 0), [−1, 1] for an
// all-zero token, scale = (xmax − xmin)/maxq, zero = Round(−xmin/scale), and
// scale·(Clip(Round(x/scale) + zero, 0, maxq) − zero). ONNX Round is half to even, as torch.round.
// ONNX Runtime computes it in float32: the activations are simulated, not stored as integers.
import type { LinearLayer } from '../../model/types.ts';
import { AttributeType, type GraphProto, type ModelProto, type NodeProto } from '../../onnx/types.ts';
import type { Matrix, QuantizedWeight } from '../types.ts';
import { dequantize } from '../types.ts';
import { defaultOpset, findNodeIndex, floatTensor, int64Tensor, removeUnused, requireOpset, takenNames, uniqueName, workingCopy } from './graphEdit.ts';
import { addInitializers, gemmBias, gemmProblem, MICROSOFT_DOMAIN, nBitsNode, weightPathNodes, type ExportResult } from './matMulNBits.ts';
import { matMulNBitsProblem, nBitsBlockSize, packMatMulNBits, QuantExportError } from './pack.ts';
import { analyticPackedBytes, formatOf, type PackedBytes } from './size.ts';

/** One QUIK layer to write: the integer part, its columns, and the float outlier columns. */
export interface QuikLayerToExport {
  layer: LinearLayer;
  /** C_out × (C_in − k), columns in `quantizedColumns` order. */
  quantized: QuantizedWeight;
  quantizedColumns: Int32Array;
  outlierColumns: Int32Array;
  /** C_out × k. */
  outlierWeight: Matrix;
  /** MatMulNBits for the integer part; otherwise a float MatMul by its dequantized weight. */
  packed: boolean;
  /** 0 (off), 4 or 8: simulated per-token activation quantization of the integer part. */
  activationBits: number;
}

/** Why `layer` cannot be written in QUIK's split form (packed or not), or null. */
export function quikWriteProblem(layer: LinearLayer, quantized: QuantizedWeight, packed: boolean): string | null {
  if (layer.weightOperand === 'A') return 'it multiplies W·x (the weight is the first operand); the split form gathers the columns of x·Wᵀ';
  if (layer.opType !== 'MatMul' && layer.opType !== 'Gemm') return `it is already a ${layer.opType} node`;
  if (quantized.rows !== layer.outFeatures || quantized.cols > layer.inFeatures) return `the quantized part is ${quantized.rows} x ${quantized.cols}, the layer's W is ${layer.outFeatures} x ${layer.inFeatures}`;
  if (layer.weightDtype !== 'float32') return `its weight is ${layer.weightDtype}: the writers replace float32 weights`;
  return packed ? matMulNBitsProblem(quantized) : null;
}

/** Wᵀ of a C_out × K weight: the [K, C_out] float initializer a MatMul(x, ·) reads. */
function transposed(w: Matrix): Float32Array {
  const out = new Float32Array(w.rows * w.cols);
  for (let r = 0; r < w.rows; r++) for (let c = 0; c < w.cols; c++) out[c * w.rows + r] = w.data[r * w.cols + c];
  return out;
}

interface Emit {
  graph: GraphProto;
  taken: Set<string>;
  nodes: NodeProto[];
  opset: number;
  base: string;
}

/**
 * One helper node. Unnamed on purpose, and its output named `<layer>.<suffix>`: a QUIK layer adds
 * 4 nodes (17 with activation quantization), and on the bundled LM long names alone cost ~3 % of
 * the packed file (the analysis labels unnamed nodes opType#index).
 */
function emit(e: Emit, opType: string, inputs: string[], suffix: string, attribute: NodeProto['attribute'] = []): string {
  const output = uniqueName(e.taken, `${e.base}.${suffix}`);
  e.nodes.push({ opType, input: inputs, output: [output], ...(attribute.length ? { attribute } : {}) });
  return output;
}

function constant(e: Emit, suffix: string, value: number): string {
  const name = uniqueName(e.taken, `${e.base}.${suffix}`);
  e.graph.initializer!.push(floatTensor(name, [], Float32Array.of(value)));
  return name;
}

/** ReduceMin/ReduceMax over the last axis, keepdims: axes an attribute before opset 18, an input from 18 on. */
function reduceLast(e: Emit, opType: 'ReduceMin' | 'ReduceMax', x: string, axes: string): string {
  const keep = { name: 'keepdims', type: AttributeType.INT, i: 1 };
  return e.opset >= 18 ? emit(e, opType, [x, axes], opType) : emit(e, opType, [x], opType, [keep, { name: 'axes', type: AttributeType.INTS, ints: [-1] }]);
}

/** quant.py ActQuantizer on x (per token over the last axis) as ONNX ops; returns the fake-quantized tensor. */
export function emitActivationFakeQuant(e: Emit, x: string, bits: number): string {
  const maxq = 2 ** bits - 1;
  let axes = '';
  if (e.opset >= 18) {
    axes = uniqueName(e.taken, `${e.base}.axes`);
    e.graph.initializer!.push(int64Tensor(axes, [-1]));
  }
  const zeroC = constant(e, '0', 0);
  const lo = emit(e, 'Min', [reduceLast(e, 'ReduceMin', x, axes), zeroC], 'xmin');
  const hi = emit(e, 'Max', [reduceLast(e, 'ReduceMax', x, axes), zeroC], 'xmax');
  const range = emit(e, 'Sub', [hi, lo], 'range');
  // xmin = xmax = 0 (an all-zero token): [−1, 1], as find_params.
  const empty = emit(e, 'Equal', [range, zeroC], 'empty');
  const lo1 = emit(e, 'Where', [empty, constant(e, 'm1', -1), lo], 'xmin1');
  const range1 = emit(e, 'Where', [empty, constant(e, '2', 2), range], 'range1');
  const scale = emit(e, 'Div', [range1, constant(e, 'maxq', maxq)], 'scale');
  const zero = emit(e, 'Round', [emit(e, 'Div', [emit(e, 'Neg', [lo1], 'nxmin'), scale], 'zr')], 'zp');
  const code = emit(e, 'Clip', [emit(e, 'Add', [emit(e, 'Round', [emit(e, 'Div', [x, scale], 'xs')], 'xr'), zero], 'xz'), zeroC, constant(e, 'maxq2', maxq)], 'code');
  return emit(e, 'Mul', [scale, emit(e, 'Sub', [code, zero], 'qc')], 'fq');
}

/**
 * A copy of `model` with each QUIK layer's MatMul/Gemm nodes replaced by the split form above;
 * the old float weight goes when nothing else reads it. Throws QuantExportError naming the first
 * layer that cannot be written and why.
 */
export function writeQuik(model: ModelProto, layers: readonly QuikLayerToExport[]): ExportResult {
  const { model: copy, graph } = workingCopy(model);
  const taken = takenNames(graph);
  const opset = defaultOpset(copy);
  const notes: string[] = [];
  const deadCandidates = new Set<NodeProto>();
  const oldWeights = new Set<string>();
  let usesNBits = false;
  const products = layers.map(({ layer }) => layer.uses.map((use) => graph.node![findNodeIndex(graph, use.nodeName)]));
  layers.forEach((entry, l) => {
    const { layer, quantized, quantizedColumns, outlierColumns, outlierWeight, packed, activationBits } = entry;
    const problem = quikWriteProblem(layer, quantized, packed) ?? products[l].map((node) => gemmProblem(layer, node)).find((p) => p !== null);
    if (problem) throw new QuantExportError(`${layer.name}: ${problem}`);
    const k = outlierColumns.length;
    if (quantizedColumns.length + k !== layer.inFeatures) throw new QuantExportError(`${layer.name}: ${quantizedColumns.length} quantized + ${k} outlier columns, C_in is ${layer.inFeatures}`);
    const base = layer.weight;
    const idxQ = uniqueName(taken, `${base}_quik_columns`);
    graph.initializer!.push(int64Tensor(idxQ, Array.from(quantizedColumns)));
    let idxO = '';
    let wO = '';
    if (k > 0) {
      idxO = uniqueName(taken, `${base}_quik_outlier_columns`);
      graph.initializer!.push(int64Tensor(idxO, Array.from(outlierColumns)));
      wO = uniqueName(taken, `${base}_quik_outliers`);
      graph.initializer!.push(floatTensor(wO, [k, layer.outFeatures], transposed(outlierWeight)));
    }
    const nbits = packed ? packMatMulNBits(quantized) : null;
    const names = nbits ? addInitializers(graph, taken, `${base}_quik`, nbits) : null;
    let wQ = '';
    if (!nbits) {
      wQ = uniqueName(taken, `${base}_quik_dequantized`);
      graph.initializer!.push(floatTensor(wQ, [quantized.cols, quantized.rows], transposed(dequantize(quantized))));
    }
    const gather = { name: 'axis', type: AttributeType.INT, i: -1 };
    layer.uses.forEach((use, u) => {
      const node = products[l][u];
      weightPathNodes(graph, node, use.input, layer.weight).forEach((n) => deadCandidates.add(n));
      const e: Emit = { graph, taken, nodes: [], opset, base: layer.name };
      const output = node.output?.[0] ?? '';
      const gemm = node.opType === 'Gemm' ? gemmBias(graph, node, layer.outFeatures) : { input: '', add: null };
      // A [C_out] Gemm bias is MatMulNBits' bias input; with a float MatMul it is an Add.
      const bias = nbits || !gemm.input ? gemm : { input: '', add: gemm.input };
      let xq = emit(e, 'Gather', [use.input, idxQ], 'xq', [gather]);
      if (activationBits > 0) xq = emitActivationFakeQuant(e, xq, activationBits);
      const last = k > 0 || bias.add !== null;
      const yq = last ? uniqueName(taken, `${e.base}.yq`) : output;
      if (nbits && names) {
        // MatMulNBits keeps the original node's name (the analysis reads module paths from it).
        e.nodes.push(nBitsNode(node, xq, yq, names, nbits, bias.input, 0));
      } else {
        e.nodes.push({ opType: 'MatMul', ...(node.name ? { name: node.name } : {}), input: [xq, wQ], output: [yq] });
      }
      let y = yq;
      if (k > 0) {
        const xo = emit(e, 'Gather', [use.input, idxO], 'xo', [gather]);
        const yo = emit(e, 'MatMul', [xo, wO], 'yo');
        y = bias.add === null ? output : uniqueName(taken, `${e.base}.y`);
        e.nodes.push({ opType: 'Add', input: [yq, yo], output: [y] });
      }
      if (bias.add !== null) e.nodes.push({ opType: 'Add', input: [y, bias.add], output: [output] });
      graph.node!.splice(graph.node!.indexOf(node), 1, ...e.nodes);
    });
    usesNBits ||= nbits !== null;
    oldWeights.add(layer.weight);
    const how = nbits ? `MatMulNBits ${nbits.bits}-bit, block ${nbits.blockSize}` : 'dequantized float weights (simulated)';
    notes.push(`${layer.name}: QUIK ${quantized.cols} columns as ${how}, ${k} outlier columns in float32${activationBits > 0 ? `, activations fake-quantized to ${activationBits} bits per token (simulated)` : ''}`);
  });
  const removed = new Set(removeUnused(graph, deadCandidates, oldWeights));
  for (const name of oldWeights) if (!removed.has(name)) notes.push(`the float weight '${name}' stays: other nodes still read it`);
  if (usesNBits) requireOpset(copy, MICROSOFT_DOMAIN, 1);
  return { model: copy, notes };
}

/** Bytes of a protobuf varint (int64_data stores each index as one). */
const varintBytes = (v: number) => (v < 128 ? 1 : v < 16384 ? 2 : v < 2097152 ? 3 : 4);

/** What the split form stores besides the packed integer part: the float outlier columns (float32) and both column lists. */
export function quikExtraBytes(split: { quantizedColumns: ArrayLike<number>; outlierColumns: ArrayLike<number>; outlierWeight: Matrix }): number {
  let indexBytes = 0;
  for (const list of [split.quantizedColumns, split.outlierColumns]) for (let i = 0; i < list.length; i++) indexBytes += varintBytes(list[i]);
  return split.outlierWeight.rows * split.outlierWeight.cols * 4 + indexBytes;
}

/** The integer part of a QUIK layer as writeQuik packs it, by part (analyticPackedBytes). */
export function quikIntegerBytes(split: { quantized: QuantizedWeight }): PackedBytes {
  const q = split.quantized;
  const block = nBitsBlockSize(q);
  const stored = typeof block === 'number' ? { ...formatOf(q), cols: Math.ceil(q.cols / block) * block, groupSize: block } : formatOf(q);
  return analyticPackedBytes(stored);
}
