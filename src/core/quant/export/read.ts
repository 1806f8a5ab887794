// Reading a layer's quantized weight back from a written file: the com.microsoft.MatMulNBits node
// that replaced the layer's MatMul / Gemm (matMulNBits.ts), decoded to the QuantizedWeight its
// tensors hold. The inverse of packMatMulNBits: what the views and the report show for a packed
// layer comes from the file's bytes, not from the quantizer's memory. Layouts: pack.ts's header.
import { getAttrInt, initializerMap } from '../../onnx/graph.ts';
import { readTensor, tensorToFloat32 } from '../../onnx/tensor.ts';
import type { GraphProto, NodeProto, TensorProto } from '../../onnx/types.ts';
import { DataType } from '../../onnx/types.ts';
import type { LinearLayer } from '../../model/types.ts';
import type { QuantizedWeight } from '../types.ts';
import { MICROSOFT_DOMAIN } from './matMulNBits.ts';
import { storedTensorBytes } from './size.ts';

const isNBits = (node: NodeProto) => node.opType === 'MatMulNBits' && node.domain === MICROSOFT_DOMAIN;

/**
 * The MatMulNBits node the writer put in place of `layer` (a layer of the model before export):
 * the writer keeps the product node's name, and names the packed weight `<weight>_Q<bits>`.
 */
export function nBitsNodeOf(graph: GraphProto, layer: Pick<LinearLayer, 'uses' | 'weight'>): NodeProto | undefined {
  const nodes = (graph.node ?? []).filter(isNBits);
  const names = new Set(layer.uses.map((use) => use.nodeName));
  return nodes.find((node) => node.name !== undefined && names.has(node.name)) ?? nodes.find((node) => (node.input?.[1] ?? '').startsWith(`${layer.weight}_Q`));
}

/** The initializers a MatMulNBits node reads for its weight: B, scales, zero points, g_idx (not A, not the bias). */
export function nBitsWeightTensors(graph: GraphProto, node: NodeProto): { packed: TensorProto; scales: TensorProto; zeroPoints?: TensorProto; groupIndex?: TensorProto } {
  const init = initializerMap(graph);
  const [, b = '', s = '', zp = '', gIdx = ''] = node.input ?? [];
  const packed = init.get(b);
  const scales = init.get(s);
  if (!packed || !scales) throw new Error(`MatMulNBits ${node.name ?? ''}: its packed weight or scales are not initializers`);
  return { packed, scales, zeroPoints: zp ? init.get(zp) : undefined, groupIndex: gIdx ? init.get(gIdx) : undefined };
}

/** Bytes of the weight's tensors as stored (B, scales, zero points, g_idx): what the layer's weight costs in the file. */
export function nBitsStoredBytes(graph: GraphProto, node: NodeProto): number {
  const t = nBitsWeightTensors(graph, node);
  return [t.packed, t.scales, t.zeroPoints, t.groupIndex].reduce((sum, tensor) => sum + (tensor ? storedTensorBytes(tensor) : 0), 0);
}

/**
 * The QuantizedWeight a MatMulNBits node stores: codes unpacked from B (the padding of a short last
 * block dropped), scales as they are, zero points unpacked (or the float ones rounded; absent:
 * symmetric, 2^(bits−1)), g_idx. groupSize is the node's block_size (≥ C_in for a per-row weight).
 */
export function readMatMulNBits(graph: GraphProto, node: NodeProto): QuantizedWeight {
  const k = getAttrInt(node, 'K');
  const n = getAttrInt(node, 'N');
  const bits = getAttrInt(node, 'bits', 4);
  const blockSize = getAttrInt(node, 'block_size');
  if (![2, 4, 8].includes(bits)) throw new Error(`MatMulNBits ${node.name ?? ''}: ${bits}-bit packing is not read`);
  const t = nBitsWeightTensors(graph, node);
  const blocks = Math.ceil(k / blockSize);
  const blob = (blockSize * bits) / 8;
  const perByte = 8 / bits;
  const mask = (1 << bits) - 1;
  const bytes = readTensor(t.packed).data as Uint8Array;
  if (bytes.length < n * blocks * blob) throw new Error(`MatMulNBits ${node.name ?? ''}: B holds ${bytes.length} bytes, fewer than N·blocks·blob = ${n * blocks * blob}`);
  const codes = new Uint8Array(n * k);
  for (let row = 0; row < n; row++) {
    for (let col = 0; col < k; col++) {
      const t0 = col % blockSize;
      const byte = bytes[(row * blocks + Math.floor(col / blockSize)) * blob + Math.floor(t0 / perByte)];
      codes[row * k + col] = (byte >> ((t0 % perByte) * bits)) & mask;
    }
  }
  const scales = tensorToFloat32(t.scales);
  const zeroPoints = new Uint8Array(n * blocks).fill(1 << (bits - 1));
  if (t.zeroPoints?.dataType === DataType.UINT8) {
    const packed = readTensor(t.zeroPoints).data as Uint8Array;
    const rowBytes = Math.ceil(blocks / perByte);
    for (let row = 0; row < n; row++) {
      for (let block = 0; block < blocks; block++) zeroPoints[row * blocks + block] = (packed[row * rowBytes + Math.floor(block / perByte)] >> ((block % perByte) * bits)) & mask;
    }
  } else if (t.zeroPoints) {
    tensorToFloat32(t.zeroPoints).forEach((z, i) => (zeroPoints[i] = Math.round(z)));
  }
  const q: QuantizedWeight = { rows: n, cols: k, bits, symmetric: t.zeroPoints === undefined, groupSize: blockSize, groups: blocks, codes, scales, zeroPoints };
  if (t.groupIndex) q.groupIndex = Int32Array.from(readTensor(t.groupIndex).data as Int32Array);
  return q;
}
