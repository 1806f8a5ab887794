// The order sequential calibration walks the model in: one step per transformer block (all its
// linears are calibrated on the same pass, as the reference code hooks a whole layer at once),
// and one step per linear outside any block (an included head), ordered as the model runs them.
import type { LinearLayer } from '../model/types.ts';

export interface PipelineStep {
  /** 'block 2' or the layer's name. */
  label: string;
  block: number | null;
  layers: LinearLayer[];
}

export function pipelineSteps(layers: readonly LinearLayer[]): PipelineStep[] {
  const byBlock = new Map<number, LinearLayer[]>();
  const stages: PipelineStep[] = [];
  for (const layer of layers) {
    if (layer.block === null) {
      stages.push({ label: layer.name, block: null, layers: [layer] });
      continue;
    }
    let members = byBlock.get(layer.block);
    if (members === undefined) {
      byBlock.set(layer.block, (members = []));
      stages.push({ label: `block ${layer.block}`, block: layer.block, layers: members });
    }
    members.push(layer);
  }
  const first = (stage: PipelineStep) => Math.min(...stage.layers.map((layer) => layer.order));
  return stages.sort((a, b) => first(a) - first(b));
}
