// The writer for formats no runtime the lab ships can execute (3-bit codes, MX, act-order at 8
// bits, group sizes MatMulNBits refuses): the dequantized weight Ŵ is written back as float, with
// the pruning pipeline's own weight writer (compress/weights.ts), so the model computes exactly
// what the quantized one would, in float, at the float size. analyticPackedBytes (size.ts) says
// what the format would store.
import { WorkingModel } from '../../compress/weights.ts';
import type { ModelProto } from '../../onnx/types.ts';
import { dequantize } from '../types.ts';
import type { ExportResult, LayerToExport } from './matMulNBits.ts';
import { quantizedWeightProblem, QuantExportError } from './pack.ts';

/** A copy of `model` whose layers hold their dequantized weights, in the layers' own layout and dtype. */
export function writeSimulated(model: ModelProto, layers: readonly LayerToExport[]): ExportResult {
  const working = new WorkingModel(model);
  const notes: string[] = [];
  for (const { layer, weight } of layers) {
    const problem = quantizedWeightProblem(weight);
    if (problem) throw new QuantExportError(`${layer.name}: ${problem}`);
    working.writeWeight(layer, dequantize(weight));
    notes.push(`${layer.name}: ${weight.bits}-bit weights simulated (dequantized, stored as ${layer.weightDtype})`);
  }
  return { model: working.model, notes: [...notes, ...working.notes] };
}
