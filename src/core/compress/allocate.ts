// Per-layer sparsity from the recipe's allocator (src/core/prune/allocation) and the statistics
// of the dense model, checked against the target before any layer is pruned.
//   uniform      every layer at the target (plain mean over layers)
//   owl          one sparsity per block from its Wanda outlier ratio (plain mean over blocks);
//                layers outside blocks (an included head) stay at the target
//   tamp         per layer from its output diversity (parameter-weighted mean)
//   sensitivity  per layer from its reconstruction error when pruned alone at several ratios
//                (plain mean over layers)
// N:M patterns: a per-layer sparsity becomes a per-layer N (mixed N:M, as OWL's N:M results
// do): N_u = M·(1 − s_u) rounded so that the units' N sum to U·N exactly (largest remainder).
import type { LinearLayer } from '../model/types.ts';
import { owlAllocation, owlOutlierRatio } from '../prune/allocation/owl.ts';
import { sensitivityAllocation } from '../prune/allocation/sensitivity.ts';
import { meanOutputDiversity, tampAllocation } from '../prune/allocation/tamp.ts';
import { unstructured, type SparsityPattern } from '../prune/patterns.ts';
import type { LayerStats, Matrix } from '../prune/types.ts';
import { targetSparsity, type AllocationKind, type PruneStage } from '../recipe/stages/prune.ts';

export interface AllocationUnit {
  /** 'block 3', or a layer name. */
  label: string;
  layerIds: string[];
  sparsity: number;
  /** Parameters (weight elements) of its layers. */
  params: number;
}

export interface Allocation {
  kind: AllocationKind;
  /** The units the allocator sets a sparsity for, and how their mean is taken. */
  units: AllocationUnit[];
  meanKind: 'plain' | 'parameter-weighted';
  /** The allocator's mean (must equal the target). */
  mean: number;
  target: number;
  /** Layer id → the pattern it is pruned to. */
  patterns: Map<string, SparsityPattern>;
  /** Layer id → its target sparsity. */
  sparsity: Map<string, number>;
  /** Diagnostics per unit: OWL outlier ratios, TAMP diversities, sensitivity mean errors. */
  scores?: number[];
}

export interface AllocationInput {
  stage: PruneStage;
  layers: readonly LinearLayer[];
  weights: ReadonlyMap<string, Matrix>;
  /** Dense-model statistics (allocators other than uniform). */
  stats?: ReadonlyMap<string, LayerStats>;
  /** Per layer, its errors at SENSITIVITY_RATIOS (allocation 'sensitivity'). */
  sensitivityErrors?: ReadonlyMap<string, number[]>;
}

export class AllocationError extends Error {
  override name = 'AllocationError';
}

const numel = (layer: LinearLayer) => layer.inFeatures * layer.outFeatures;

function layerUnits(layers: readonly LinearLayer[], target: number): AllocationUnit[] {
  return layers.map((layer) => ({ label: layer.name, layerIds: [layer.id], sparsity: target, params: numel(layer) }));
}

/** OWL's units: one per block (in block order), then the layers outside blocks. */
function blockUnits(layers: readonly LinearLayer[], target: number): { blocks: AllocationUnit[]; loose: AllocationUnit[] } {
  const byBlock = new Map<number, LinearLayer[]>();
  const loose: LinearLayer[] = [];
  for (const layer of layers) {
    if (layer.block === null) loose.push(layer);
    else byBlock.set(layer.block, [...(byBlock.get(layer.block) ?? []), layer]);
  }
  const blocks = [...byBlock.entries()]
    .sort((a, b) => a[0] - b[0])
    .map(([block, members]) => ({ label: `block ${block}`, layerIds: members.map((l) => l.id), sparsity: target, params: members.reduce((n, l) => n + numel(l), 0) }));
  return { blocks, loose: layerUnits(loose, target) };
}

function need<T>(value: T | undefined, what: string): T {
  if (value === undefined) throw new AllocationError(`allocation needs ${what}`);
  return value;
}

function statsOf(input: AllocationInput, id: string): LayerStats {
  return need(input.stats?.get(id), `calibration statistics of layer ${id}`);
}

/** The allocator's sparsity per unit (before any N:M rounding). */
function allocateUnits(input: AllocationInput): Pick<Allocation, 'units' | 'meanKind' | 'scores'> & { meanUnits: AllocationUnit[] } {
  const { stage, layers } = input;
  const target = targetSparsity(stage);
  switch (stage.allocation.kind) {
    case 'uniform': {
      const units = layerUnits(layers, target);
      return { units, meanUnits: units, meanKind: 'plain' };
    }
    case 'owl': {
      const { blocks, loose } = blockUnits(layers, target);
      const ratios = blocks.map((unit) =>
        owlOutlierRatio(unit.layerIds.map((id) => ({ weight: need(input.weights.get(id), `the weight of ${id}`), sqNorm: statsOf(input, id).sqNorm }))),
      );
      owlAllocation(ratios, target).forEach((s, i) => (blocks[i].sparsity = s));
      return { units: [...blocks, ...loose], meanUnits: blocks, meanKind: 'plain', scores: ratios };
    }
    case 'tamp': {
      const units = layerUnits(layers, target);
      const diversity = layers.map((layer) => meanOutputDiversity([{ outputs: need(statsOf(input, layer.id).outputSample, `output samples of ${layer.id}`) }]));
      tampAllocation(diversity, units.map((u) => u.params), target).forEach((s, i) => (units[i].sparsity = s));
      return { units, meanUnits: units, meanKind: 'parameter-weighted', scores: diversity };
    }
    case 'sensitivity': {
      const units = layerUnits(layers, target);
      const errors = layers.map((layer) => need(input.sensitivityErrors?.get(layer.id), `sensitivity errors of ${layer.id}`));
      sensitivityAllocation(errors, target).forEach((s, i) => (units[i].sparsity = s));
      return { units, meanUnits: units, meanKind: 'plain', scores: errors.map((row) => row.reduce((a, b) => a + b, 0) / row.length) };
    }
  }
}

/**
 * Mixed N:M: per unit N_u ∈ [1, M−1] with Σ N_u = U·N, starting from ⌊M(1 − s_u)⌋ and handing
 * the remaining units of N to the largest remainders (ties to the earlier unit).
 */
export function mixedNM(sparsities: readonly number[], n: number, m: number): number[] {
  const real = sparsities.map((s) => m * (1 - s));
  const kept = real.map((r) => Math.min(m - 1, Math.max(1, Math.floor(r))));
  let deficit = sparsities.length * n - kept.reduce((a, b) => a + b, 0);
  while (deficit !== 0) {
    let best = -1;
    for (let u = 0; u < kept.length; u++) {
      const canMove = deficit > 0 ? kept[u] < m - 1 : kept[u] > 1;
      if (!canMove) continue;
      const remainder = real[u] - kept[u];
      if (best < 0 || (deficit > 0 ? remainder > real[best] - kept[best] : remainder < real[best] - kept[best])) best = u;
    }
    if (best < 0) break;
    kept[best] += Math.sign(deficit);
    deficit -= Math.sign(deficit);
  }
  return kept;
}

function unitMean(units: readonly AllocationUnit[], meanKind: Allocation['meanKind']): number {
  if (meanKind === 'plain') return units.reduce((sum, u) => sum + u.sparsity, 0) / units.length;
  const params = units.reduce((sum, u) => sum + u.params, 0);
  return units.reduce((sum, u) => sum + u.sparsity * u.params, 0) / params;
}

export function allocateSparsity(input: AllocationInput): Allocation {
  const { stage } = input;
  const target = targetSparsity(stage);
  const { units, meanUnits, meanKind, scores } = allocateUnits(input);
  const pattern = stage.pattern;
  if (pattern.kind === 'nm' && stage.allocation.kind !== 'uniform') {
    const kept = mixedNM(meanUnits.map((u) => u.sparsity), pattern.n, pattern.m);
    meanUnits.forEach((unit, i) => (unit.sparsity = 1 - kept[i] / pattern.m));
    for (const unit of units) if (!meanUnits.includes(unit)) unit.sparsity = target;
  }
  const mean = unitMean(meanUnits, pattern.kind === 'nm' ? 'plain' : meanKind);
  if (!(Math.abs(mean - target) < 1e-9)) {
    throw new AllocationError(`allocation ${stage.allocation.kind}: the ${meanKind} mean sparsity ${mean} differs from the target ${target}`);
  }
  const patterns = new Map<string, SparsityPattern>();
  const sparsity = new Map<string, number>();
  for (const unit of units) {
    for (const id of unit.layerIds) {
      sparsity.set(id, unit.sparsity);
      patterns.set(id, layerPattern(stage, unit.sparsity));
    }
  }
  return { kind: stage.allocation.kind, units, meanKind: pattern.kind === 'nm' ? 'plain' : meanKind, mean, target, patterns, sparsity, scores };
}

function layerPattern(stage: PruneStage, sparsity: number): SparsityPattern {
  const pattern = stage.pattern;
  if (pattern.kind === 'unstructured') return unstructured(sparsity);
  if (pattern.kind === 'vnm') return { kind: 'vnm', v: pattern.v, n: 2, m: pattern.m };
  if (pattern.kind === 'block') return { kind: 'block', rows: pattern.rows, cols: pattern.cols, sparsity };
  return { kind: 'nm', n: Math.round(pattern.m * (1 - sparsity)), m: pattern.m };
}
