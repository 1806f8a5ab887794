// AWQ's scale groups in one step of the walk (llm-awq auto_scale.py `auto_scale_block`): the
// layers that read the same input share one scale, searched jointly on the concatenated outputs'
// error (q/k/v after the attention LayerNorm, fc1 after the MLP LayerNorm; out_proj and fc2 alone),
// and each group's inverse scale has a place in the graph (quant/export/awqFold.ts).
import type { CalibrationStats } from '../calibrate/collect.ts';
import type { LinearLayer } from '../model/types.ts';
import { activationScale, searchAwqSharedScale, type WeightQuantizer } from '../quant/awq.ts';
import { planAwqInputScaling, type AwqInputScaling } from '../quant/export/awqFold.ts';
import type { WorkingModel } from './weights.ts';

/** A layer's share of its group's search. */
export interface AwqLayerScale {
  /** The tensor the group reads. */
  input: string;
  alpha: number;
  /** (C_in) s: the layer's codes are those of W·diag(s). */
  scales: Float32Array;
  /** Every layer of the group (names, in model order), this one included. */
  group: string[];
  scaling: AwqInputScaling;
  /** This layer's share of the group's search time (the search divided evenly among its layers). */
  searchMs: number;
}

/** The step's layers grouped by the one tensor all their products read, in model order. */
export function awqScaleGroups(layers: readonly LinearLayer[]): LinearLayer[][] {
  const groups = new Map<string, LinearLayer[]>();
  for (const layer of layers) {
    const inputs = new Set(layer.uses.map((use) => use.input));
    // A weight used on several inputs cannot share one input scale with anything: its own group.
    const key = inputs.size === 1 ? [...inputs][0] : `\u0000${layer.id}`;
    groups.set(key, [...(groups.get(key) ?? []), layer]);
  }
  return [...groups.values()];
}

/**
 * Searches one scale per group of `layers` on the step's input samples (shared by layers reading
 * the same tensor); `quantizerOf` gives each layer's grid (its own width under mixed precision).
 */
export function searchAwqStep(layers: readonly LinearLayer[], working: WorkingModel, stats: CalibrationStats | undefined, quantizerOf: (layer: LinearLayer) => WeightQuantizer): Map<string, AwqLayerScale> {
  const found = new Map<string, AwqLayerScale>();
  for (const group of awqScaleGroups(layers)) {
    const t0 = performance.now();
    const sample = stats?.layers.get(group[0].id)?.inputSample;
    if (!sample || sample.rows === 0) throw new Error(`quantize ${group[0].name}: AWQ needs a sample of the layer's inputs, which calibration did not provide`);
    const weights = group.map((layer) => working.readWeight(layer));
    const search = searchAwqSharedScale(weights, sample, activationScale(sample), group.map(quantizerOf));
    const inputs = new Set(group[0].uses.map((use) => use.input));
    const input = [...inputs][0];
    const scaling: AwqInputScaling = inputs.size === 1 ? planAwqInputScaling(working.model, input, group) : { kind: 'none', why: 'its weight is used on several inputs, so no single input can be divided by s' };
    const names = group.map((layer) => layer.name);
    const searchMs = (performance.now() - t0) / group.length;
    for (const layer of group) found.set(layer.id, { input, alpha: search.alpha, scales: search.scales, group: names, scaling, searchMs });
  }
  return found;
}
