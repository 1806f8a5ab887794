// The packed export shared by the stages that produce integer codes (the quantize stage, and the
// prune stage's joint SparseGPT + GPTQ): MatMulNBits for each layer, and, for AWQ layers, the
// inverse scale folded into the LayerNormalization before them or written as a Mul on their input
// (quant/export/awqFold.ts). See docs/quantized-export.md.
import { applyAwqInputScales, placeAwqMuls, type AwqInputScale } from '../quant/export/awqFold.ts';
import { workingCopy } from '../quant/export/graphEdit.ts';
import { writeMatMulNBits, type LayerToExport } from '../quant/export/index.ts';
import type { ModelProto, NodeProto } from '../onnx/types.ts';

/** One line per kind of layer written ("36 layers: MatMulNBits 4-bit, block 32, …"), not per layer. */
function countKinds(notes: readonly string[], strip: RegExp): string[] {
  const kinds = new Map<string, number>();
  for (const note of notes) {
    const what = note.replace(strip, '');
    kinds.set(what, (kinds.get(what) ?? 0) + 1);
  }
  return [...kinds].map(([what, count]) => `${count} ${count === 1 ? 'layer' : 'layers'}: ${what}`);
}

/**
 * `model` with `packed` written as MatMulNBits. Layers of `inputScales` groups (AWQ: their codes
 * are of W·diag(s)) read their input divided by s — through the folded LayerNormalization, or
 * through a new Mul node. Throws QuantExportError naming a layer that cannot be written.
 */
export function writePackedLayers(model: ModelProto, packed: readonly LayerToExport[], inputScales: readonly AwqInputScale[] = []): { model: ModelProto; notes: string[] } {
  if (packed.length === 0) return { model, notes: [] };
  let source = model;
  let muls: NodeProto[] = [];
  let layers = packed;
  if (inputScales.length > 0) {
    const { model: copy, graph } = workingCopy(model);
    const members = inputScales.map((group) => packed.filter(({ layer }) => layer.uses.every((use) => use.input === group.input)).map(({ layer }) => layer));
    const applied = applyAwqInputScales(graph, inputScales, members);
    const renamed = new Map(inputScales.map((group, g) => [group.input, applied.readAs[g]]));
    layers = packed.map(({ layer, weight }) => ({ weight, layer: { ...layer, uses: layer.uses.map((use) => ({ ...use, input: renamed.get(use.input) ?? use.input })) } }));
    source = copy;
    muls = applied.muls;
  }
  const written = writeMatMulNBits(source, layers);
  placeAwqMuls(written.model.graph!, muls);
  const notes = countKinds(written.notes, /^[^:]*: /);
  const folded = inputScales.filter((group) => group.scaling.kind === 'norm').length;
  const count = (n: number, what: string) => (n > 0 ? [`AWQ: ${n} ${n === 1 ? 'scale' : 'scales'} ${what}`] : []);
  notes.push(...count(folded, 'folded into a LayerNormalization'), ...count(inputScales.length - folded, 'written as an explicit Mul on the input'));
  return { model: written.model, notes };
}
