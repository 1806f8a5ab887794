// Which linear layers a stage changes. Embeddings always stay dense (a patch or token embedding
// expressed as a MatMul has role 'embed'); the output head stays dense unless includeHead, as in
// the Wanda and SparseGPT reference code, which prune only the transformer blocks' linears.
import type { LinearLayer, ModelAnalysis } from '../model/types.ts';
import type { FieldReader } from './reader.ts';

export interface LayerSelection {
  /** Include the output head too (embeddings always stay dense). */
  includeHead: boolean;
  /** Layer ids or names to leave alone. */
  skip: string[];
}

export function prunableLayers(analysis: ModelAnalysis, stage: { layers: LayerSelection }): LinearLayer[] {
  const skip = new Set(stage.layers.skip);
  return analysis.linears.filter((layer) => {
    if (layer.role === 'embed') return false;
    if (layer.role === 'head' && !stage.layers.includeHead) return false;
    return !skip.has(layer.id) && !skip.has(layer.name);
  });
}

export const defaultLayerSelection = (): LayerSelection => ({ includeHead: false, skip: [] });

/** A stage's `layers` object ({ includeHead, skip }), with defaults; the caller finishes the reader. */
export function readLayerSelection(layers: FieldReader | undefined): LayerSelection {
  const defaults = defaultLayerSelection();
  return { includeHead: layers?.boolean('includeHead', defaults.includeHead) ?? defaults.includeHead, skip: layers?.strings('skip') ?? [] };
}

/** Weight types a stage can read and write back in place (compress/weights.ts). */
export const WRITABLE_DTYPES: ReadonlySet<string> = new Set(['float32', 'float16']);

/** Layers named in a message before "and N more". */
export const LISTED_LAYERS = 4;

/** "a; b; c; d; and 5 more" */
export function listLayers(layers: readonly LinearLayer[], describe: (layer: LinearLayer) => string): string {
  const shown = layers.slice(0, LISTED_LAYERS).map(describe).join('; ');
  return layers.length > LISTED_LAYERS ? `${shown}; and ${layers.length - LISTED_LAYERS} more` : shown;
}

/** "name" (C_out x C_in) for messages. */
export const layerLabel = (layer: LinearLayer): string => `${layer.name} (${layer.outFeatures} x ${layer.inFeatures})`;
