// Which linear layers a stage changes. Embeddings always stay dense (a patch or token embedding
// expressed as a MatMul has role 'embed'); the output head stays dense unless includeHead, as in
// the Wanda and SparseGPT reference code, which prune only the transformer blocks' linears.
import type { LinearLayer, ModelAnalysis } from '../model/types.ts';

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

/** "name" (C_out x C_in) for messages. */
export const layerLabel = (layer: LinearLayer): string => `${layer.name} (${layer.outFeatures} x ${layer.inFeatures})`;
