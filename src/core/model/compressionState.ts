// Whether a model is already compressed, read from its weights: the share of exactly-zero weights
// in the linear layers a prune stage would touch, the N:M / V:N:M patterns those zeros form, and
// packed or low-precision storage. The lab's own metadata_props (labMetadata.ts), when present,
// add what recipe made the file; the verdict never rests on them.
import { shortName } from '../onnx/display.ts';
import type { ModelProto } from '../onnx/types.ts';
import { describePattern } from '../prune/patterns.ts';
import type { GraphIndex } from './graphIndex.ts';
import { readLabMetadata } from './labMetadata.ts';
import type { CompressionState, CompressionVerdict, LabMetadata, LayerCompression, LinearLayer } from './types.ts';
import { scanWeights } from './weightScan.ts';

/**
 * A model is called sparse from this share of exact zeros among its prunable linear weights on.
 * Trained dense weights are continuous values: an exact 0.0 is essentially never drawn (the
 * bundled models have none; bundled.test.ts), while pruning leaves 20–90 %. 5 % leaves room for
 * dead units of a dense model and still catches the mildest useful pruning.
 */
export const SPARSE_ZERO_SHARE = 0.05;

/**
 * For a layer stored as b-bit codes, quantization alone makes zeros: every weight in the grid's
 * zero bin (11.7–14.4 % of the bundled LM's weights at 4 bits, groups of 32). Such a layer counts as
 * pruned only above 3/2^b of zeros (4 bits: 18.75 %; 8 bits: the plain 5 %), capped at one half.
 */
export function sparseShareFor(layer: Pick<LayerCompression, 'packed'>): number {
  const bits = layer.packed?.bits;
  return bits === undefined || bits === null ? SPARSE_ZERO_SHARE : Math.max(SPARSE_ZERO_SHARE, Math.min(0.5, 3 / 2 ** bits));
}

/** Patterns named in the description before "and N more". */
const LISTED_PATTERNS = 3;

const percent = (share: number) => `${(share * 100).toFixed(1)} %`;
const layersText = (count: number) => `${count} ${count === 1 ? 'layer' : 'layers'}`;

function patternCounts(layers: readonly LayerCompression[]): CompressionState['patterns'] {
  const counts = new Map<string, number>();
  for (const layer of layers) {
    if (layer.pattern === null) continue;
    const name = describePattern(layer.pattern);
    counts.set(name, (counts.get(name) ?? 0) + 1);
  }
  return [...counts].map(([pattern, count]) => ({ pattern, layers: count })).sort((a, b) => b.layers - a.layers || a.pattern.localeCompare(b.pattern));
}

/** "(2:4 in 24 of 24 layers)", "(4:8 in 16, 3:8 in 4 of 24 layers)", "(unstructured, 24 layers)". */
function structureText(patterns: CompressionState['patterns'], layers: number): string {
  if (patterns.length === 0) return `unstructured, ${layersText(layers)}`;
  const shown = patterns.slice(0, LISTED_PATTERNS).map((p) => `${p.pattern} in ${p.layers}`);
  const more = patterns.length > LISTED_PATTERNS ? ` and ${patterns.length - LISTED_PATTERNS} more patterns` : '';
  return `${shown.join(', ')}${more} of ${layersText(layers)}`;
}

/** "24 of 26 linear layers store int8 weights (DequantizeLinear), 2 store float16 weights". */
function packedText(layers: readonly LayerCompression[]): string {
  const groups = new Map<string, number>();
  for (const { packed } of layers) {
    if (!packed) continue;
    const key = packed.via === 'storage' ? `${packed.dtype} weights` : `${packed.dtype} weights (${packed.via})`;
    groups.set(key, (groups.get(key) ?? 0) + 1);
  }
  return [...groups]
    .sort((a, b) => b[1] - a[1])
    .map(([what, count], i) => `${count}${i === 0 ? ` of ${layers.length} linear ${layers.length === 1 ? 'layer' : 'layers'}` : ''} ${count === 1 ? 'stores' : 'store'} ${what}`)
    .join(', ');
}

function unreadableText(layers: readonly LayerCompression[]): string {
  const unreadable = layers.filter((layer) => layer.unreadable !== null);
  if (unreadable.length === 0) return '';
  return `; zeros unknown in ${unreadable.length} of ${layersText(layers.length)} ('${shortName(unreadable[0].name)}': ${shortName(unreadable[0].unreadable!, 120)})`;
}

function metadataText(metadata: LabMetadata | null): string {
  if (metadata === null) return '';
  const source = metadata.sourceModel ? ` on ${shortName(metadata.sourceModel)}` : '';
  if (metadata.recipeSummary) return `; made by the lab${source}: ${shortName(metadata.recipeSummary, 200)}`;
  return metadata.recipe ? `; made by the lab${source} (recipe attached)` : '';
}

const VERDICT_WORDS: Record<CompressionVerdict, string> = {
  dense: 'dense',
  sparse: 'pruned',
  quantized: 'quantized',
  'sparse+quantized': 'pruned and quantized',
};

export function summariseCompression(layers: LayerCompression[], labMetadata: LabMetadata | null): CompressionState {
  const prunable = layers.filter((layer) => layer.prunable && layer.zeros !== null);
  const prunableElements = prunable.reduce((sum, layer) => sum + layer.elements, 0);
  const zeros = prunable.reduce((sum, layer) => sum + layer.zeros!, 0);
  const zeroShare = prunableElements === 0 ? 0 : zeros / prunableElements;
  const meanLayerZeroShare = prunable.length === 0 ? 0 : prunable.reduce((sum, layer) => sum + layer.zeroShare!, 0) / prunable.length;
  const patterns = patternCounts(prunable);
  const packedLayers = layers.filter((layer) => layer.packed !== null).length;
  // The threshold, weighted like the share: 5 % for float weights, more for layers stored as codes.
  const threshold = prunableElements === 0 ? SPARSE_ZERO_SHARE : prunable.reduce((sum, layer) => sum + sparseShareFor(layer) * layer.elements, 0) / prunableElements;
  const sparse = zeroShare >= threshold;
  const verdict: CompressionVerdict = sparse ? (packedLayers > 0 ? 'sparse+quantized' : 'sparse') : packedLayers > 0 ? 'quantized' : 'dense';
  const zerosText =
    prunable.length === 0
      ? 'no prunable linear weights could be read'
      : `${percent(zeroShare)} of prunable linear weights are zero (${sparse ? structureText(patterns, prunable.length) : layersText(prunable.length)})`;
  const parts = [zerosText, ...(packedLayers > 0 ? [packedText(layers)] : [])];
  const description = `${VERDICT_WORDS[verdict]}: ${parts.join('; ')}${unreadableText(layers)}${metadataText(labMetadata)}`;
  return { verdict, description, zeroShare, meanLayerZeroShare, prunableLayers: prunable.length, prunableElements, patterns, packedLayers, layers, labMetadata };
}

export function compressionState(model: ModelProto, index: GraphIndex, linears: readonly LinearLayer[]): CompressionState {
  return summariseCompression(scanWeights(index, linears), readLabMetadata(model));
}
