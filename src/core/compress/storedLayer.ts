// A changed layer as a run's written model stores it: float weights (dense, pruned, or a simulated
// quantization's dequantized Ŵ), or packed in a MatMulNBits node, decoded back to its codes. What
// the mask and quantization views show comes from here: the file, not the quantizer's memory.
import type { LinearLayer } from '../model/types.ts';
import { initializerMap } from '../onnx/graph.ts';
import { tensorToFloat32 } from '../onnx/tensor.ts';
import type { ModelProto } from '../onnx/types.ts';
import type { Matrix } from '../prune/types.ts';
import { nBitsNodeOf, readMatMulNBits } from '../quant/export/read.ts';
import { dequantize, groupOfColumn, type QuantizedWeight } from '../quant/types.ts';
import { weightFromStored } from './weights.ts';

export type StoredLayer = { storage: 'float'; weight: Matrix } | { storage: 'packed'; weight: Matrix; quantized: QuantizedWeight };

/**
 * `layer` (a layer of the model the run started from) in the run's model: the MatMulNBits node the
 * export put in its place, decoded and dequantized, else its float initializer. Throws naming the layer when neither is there.
 */
export function readStoredLayer(model: ModelProto, layer: LinearLayer): StoredLayer {
  const graph = model.graph;
  if (!graph) throw new Error('the model has no graph');
  // The packed node first: a float weight other nodes also read stays in the file beside it.
  const node = nBitsNodeOf(graph, layer);
  if (!node) {
    const tensor = initializerMap(graph).get(layer.weight);
    if (!tensor) throw new Error(`No weight for layer ${layer.name} in the run's model: neither its float initializer nor a MatMulNBits node`);
    return { storage: 'float', weight: weightFromStored(layer, tensorToFloat32(tensor)) };
  }
  const quantized = readMatMulNBits(graph, node);
  if (quantized.rows !== layer.outFeatures || quantized.cols !== layer.inFeatures) throw new Error(`layer ${layer.name}: its MatMulNBits node is ${quantized.rows} x ${quantized.cols}, the layer ${layer.outFeatures} x ${layer.inFeatures}`);
  return { storage: 'packed', weight: dequantize(quantized), quantized };
}

/**
 * 1 where the stored weight is not exactly zero: a float ≠ 0, or a code ≠ its group's zero point
 * (code = zero point is what a pruned weight is stored as, whatever the scale).
 */
export function storedNonZero(stored: StoredLayer): Uint8Array {
  if (stored.storage === 'float') return Uint8Array.from(stored.weight.data, (v) => (v !== 0 ? 1 : 0));
  const q = stored.quantized;
  const flags = new Uint8Array(q.rows * q.cols);
  for (let r = 0; r < q.rows; r++) {
    for (let c = 0; c < q.cols; c++) flags[r * q.cols + c] = q.codes[r * q.cols + c] === q.zeroPoints[r * q.groups + groupOfColumn(q, c)] ? 0 : 1;
  }
  return flags;
}
