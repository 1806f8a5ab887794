// The recipe builder's logic, kept out of the component: which stages a recipe has and in what
// order, which field each validation problem belongs to, the text forms of list fields, and the
// CLI command and file that reproduce the recipe outside the browser.
import { defaultPruneStage, type Recipe } from '../core/recipe';
import { defaultAttentionStage, type ActHeadSpec } from '../core/recipe/stages/attention';
import { defaultQuantizeStage } from '../core/recipe/stages/quantize';
import { defaultStructuredStage } from '../core/recipe/stages/structured';
import { defaultSliceStage } from '../core/recipe/stages/slice';
import { defaultBitStackStage } from '../core/recipe/stages/bitstack';
import { defaultLowRankStage } from '../core/recipe/stages/lowrank';
import type { StageSpec } from '../core/recipe/types';
import type { ModelSource } from './store';

export type BuilderStageKind = 'structured' | 'slice' | 'lowrank' | 'bitstack' | 'prune' | 'quantize' | 'attention';

/**
 * The builder's stage order: weights are pruned, then quantized, and ACT comes last because it
 * calibrates the model the weight stages left (the attention stage's validation insists on it).
 */
const STAGE_ORDER: readonly BuilderStageKind[] = ['structured', 'slice', 'lowrank', 'bitstack', 'prune', 'quantize', 'attention'];
const stageDefaults: Record<BuilderStageKind, () => StageSpec> = { structured: defaultStructuredStage, slice: defaultSliceStage, lowrank: defaultLowRankStage, bitstack: defaultBitStackStage, prune: defaultPruneStage, quantize: defaultQuantizeStage, attention: defaultAttentionStage };
const rank = (kind: string) => STAGE_ORDER.indexOf(kind as BuilderStageKind);

/** The recipe with a stage kind added (at its place in STAGE_ORDER, with defaults) or removed; the same object when nothing changes. */
export function withStage(recipe: Recipe, kind: BuilderStageKind, enabled: boolean): Recipe {
  const has = recipe.stages.some((stage) => stage.kind === kind);
  if (has === enabled) return recipe;
  if (!enabled) return { ...recipe, stages: recipe.stages.filter((stage) => stage.kind !== kind) };
  const later = recipe.stages.findIndex((stage) => rank(stage.kind) > rank(kind));
  const at = later < 0 ? recipe.stages.length : later;
  return { ...recipe, stages: [...recipe.stages.slice(0, at), stageDefaults[kind](), ...recipe.stages.slice(at)] };
}

/** The attention stage's fields that can carry a problem (validation paths relative to the stage). */
export const ATTENTION_FIELDS = ['method', 'beta', 'sink.tau', 'sink.alpha', 'heads', 'skipLayers', 'search.samples', 'search.guard'] as const;

/**
 * "2.0, 3.1" — heads as block.head, separated by commas or spaces — or what is wrong with the
 * text. Empty text is an empty list: the stage's validation says a list needs a head.
 */
export function parseHeadList(text: string): { heads: ActHeadSpec[] } | { error: string } {
  const items = text.split(/[\s,;]+/).filter(Boolean);
  const bad = items.find((item) => !/^\d+\.\d+$/.test(item));
  if (bad !== undefined) return { error: `"${bad}" is not block.head: write each head as two whole numbers joined by a dot, e.g. 2.0, 3.1` };
  return { heads: items.map((item) => ({ block: Number(item.split('.')[0]), head: Number(item.split('.')[1]) })) };
}

export const formatHeadList = (heads: readonly ActHeadSpec[]) => heads.map((h) => `${h.block}.${h.head}`).join(', ');

/** "0, 1, 5" — layer numbers — or what is wrong with the text. Empty text skips no layer. */
export function parseLayerList(text: string): { layers: number[] } | { error: string } {
  const items = text.split(/[\s,;]+/).filter(Boolean);
  const bad = items.find((item) => !/^\d+$/.test(item));
  if (bad !== undefined) return { error: `"${bad}" is not a layer number: write whole numbers separated by commas, e.g. 0, 1, 5` };
  return { layers: items.map(Number) };
}

/**
 * Problems start with the field's path ("stages[0].pattern: N:M needs N < M …"). Each is filed
 * under the longest known field key it starts with; the rest are shown beside the Run button.
 */
export function problemsByField(problems: string[], fieldKeys: string[]): { byField: Map<string, string[]>; unplaced: string[] } {
  const keys = [...fieldKeys].sort((a, b) => b.length - a.length);
  const byField = new Map<string, string[]>();
  const unplaced: string[] = [];
  for (const problem of problems) {
    const key = keys.find((k) => problem.startsWith(k) && /^[:\s.=[]/.test(problem.slice(k.length)));
    if (!key) {
      unplaced.push(problem);
      continue;
    }
    // A list item's problem ("stages[2].heads[1].block: 9 is not …") goes to the list's field; the
    // message names the item itself, so its index path is dropped.
    const message = problem.slice(key.length).replace(/^(\[\d+\][\w.]*)?[:\s]+/, '');
    byField.set(key, [...(byField.get(key) ?? []), message]);
  }
  return { byField, unplaced };
}

/** The recipe as the CLI reads it (`lab run <recipe.json> …`): the same staged document. */
export function recipeDocument(recipe: Recipe): string {
  return `${JSON.stringify(recipe, null, 2)}\n`;
}

/** The command that runs the downloaded recipe file on the same model from a checkout. */
export function cliCommand(source: ModelSource | undefined, recipeFile: string, outFile: string): string {
  const model = source?.kind === 'bundled' ? `public/models/${source.id}` : (source?.name ?? 'model.onnx');
  return `npm run lab -- run ${recipeFile} ${model} -o ${outFile}`;
}
