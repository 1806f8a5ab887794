// Sweeps: one recipe over a range of one parameter (sparsity 10–90 %, bits 2–8, group size, ACT's
// β, the pruning method, …). A parameter is named by its path in the recipe document, the same
// paths recipe problems use ("stages[0].pattern.sparsity"), so a bad value is refused with that
// path by the recipe's own reader. Each point is a whole recipe: it runs, is recorded and can be
// reproduced like any other run.
import { parseRecipe, RecipeError } from '../recipe/parse.ts';
import { isAttentionStage } from '../recipe/stages/attention.ts';
import { isBitStackStage } from '../recipe/stages/bitstack.ts';
import { isLowRankStage } from '../recipe/stages/lowrank.ts';
import type { PruneStage } from '../recipe/stages/prune.ts';
import { isQuantizeStage } from '../recipe/stages/quantize.ts';
import type { Recipe } from '../recipe/types.ts';
import { validateRecipe } from '../recipe/validate.ts';
import type { ModelAnalysis } from '../model/types.ts';

export type SweepValue = number | string;

/** A parameter a sweep can vary, with the range the UI offers first. */
export interface SweepOption {
  path: string;
  label: string;
  values: SweepValue[];
}

/** Most points one sweep may ask for: each is a whole run. */
export const MAX_SWEEP_POINTS = 64;

const range = (from: number, to: number, step: number): number[] => {
  const out: number[] = [];
  for (let k = 0; from + k * step <= to + 1e-9; k++) out.push(Number((from + k * step).toFixed(6)));
  return out;
};

/** What can be swept in this recipe, stage by stage. */
export function sweepOptions(recipe: Recipe): SweepOption[] {
  return recipe.stages.flatMap((stage, i): SweepOption[] => {
    const at = (field: string) => `stages[${i}].${field}`;
    if (stage.kind === 'prune') {
      const prune = stage as PruneStage;
      const methods: SweepOption = { path: at('method'), label: `stage ${i + 1}: pruning method`, values: ['magnitude', 'wanda', 'sparsegpt'] };
      if (prune.pattern.kind === 'unstructured') return [{ path: at('pattern.sparsity'), label: `stage ${i + 1}: sparsity`, values: range(0.1, 0.9, 0.1) }, methods];
      if (prune.pattern.kind === 'nm') return [{ path: at('pattern.n'), label: `stage ${i + 1}: N kept of ${prune.pattern.m}`, values: range(1, prune.pattern.m - 1, 1) }, methods];
      return [methods];
    }
    if (isQuantizeStage(stage)) {
      const options: SweepOption[] = [{ path: at('bits'), label: `stage ${i + 1}: bits`, values: range(2, 8, 1) }];
      if (stage.granularity === 'group') options.push({ path: at('groupSize'), label: `stage ${i + 1}: group size`, values: [16, 32, 64, 128] });
      options.push({ path: at('method'), label: `stage ${i + 1}: quantization method`, values: ['rtn', 'gptq', 'awq'] });
      return options;
    }
    if (isAttentionStage(stage)) return [{ path: at('beta'), label: `stage ${i + 1}: ACT β`, values: range(0.1, 0.9, 0.2) }];
    if (isLowRankStage(stage)) {
      const rank = stage.rank;
      if (rank.kind === 'ratio' || rank.kind === 'sensitivity') return [{ path: at('rank.ratio'), label: `stage ${i + 1}: low-rank parameters kept`, values: range(0.3, 0.9, 0.1) }];
      if (rank.kind === 'energy') return [{ path: at('rank.energy'), label: `stage ${i + 1}: low-rank energy kept`, values: range(0.5, 0.95, 0.05) }];
      return [{ path: at('rank.rank'), label: `stage ${i + 1}: rank`, values: [8, 16, 24, 32, 48] }];
    }
    if (isBitStackStage(stage) && stage.budget.kind === 'fraction') return [{ path: at('budget.fraction'), label: `stage ${i + 1}: BitStack size (share of the dense bytes)`, values: range(0.05, 0.5, 0.05) }];
    return [];
  });
}

/** "stages[0].pattern.sparsity" → ["stages", 0, "pattern", "sparsity"]; undefined when malformed. */
export function parsePath(path: string): (string | number)[] | undefined {
  if (!/^[A-Za-z]\w*(\[\d+\]|\.[A-Za-z]\w*)*$/.test(path)) return undefined;
  const keys: (string | number)[] = [];
  for (const [, name, index] of path.matchAll(/([A-Za-z]\w*)|\[(\d+)\]/g)) keys.push(name ?? Number(index));
  return keys;
}

const FORBIDDEN_KEYS = new Set(['__proto__', 'prototype', 'constructor']);

/** The recipe with `value` at `path`, read back through parseRecipe: a bad value is a RecipeError naming the path. */
export function withValue(recipe: Recipe, path: string, value: SweepValue): Recipe {
  const keys = parsePath(path);
  if (keys === undefined) throw new RecipeError([`${path}: not a field path (write it like stages[0].pattern.sparsity)`]);
  if (keys.some((k) => typeof k === 'string' && FORBIDDEN_KEYS.has(k))) throw new RecipeError([`${path}: not a recipe field`]);
  const document = structuredClone(recipe) as unknown as Record<string, unknown>;
  let node: unknown = document;
  for (const key of keys.slice(0, -1)) {
    node = (node as Record<string | number, unknown>)?.[key];
    if (node === null || typeof node !== 'object') throw new RecipeError([`${path}: the recipe has no ${String(key)} there`]);
  }
  const last = keys[keys.length - 1];
  if (!Object.hasOwn(node as object, last)) throw new RecipeError([`${path}: the recipe has no such field`]);
  (node as Record<string | number, unknown>)[last] = value;
  return parseRecipe(document);
}

/** Each value's recipe; every refused value is listed with its path and the value. */
export function sweepRecipes(recipe: Recipe, path: string, values: readonly SweepValue[]): Recipe[] {
  if (values.length === 0) throw new RecipeError([`${path}: a sweep needs at least one value`]);
  if (values.length > MAX_SWEEP_POINTS) throw new RecipeError([`${path}: ${values.length} values; a sweep runs at most ${MAX_SWEEP_POINTS} points`]);
  const problems: string[] = [];
  const recipes = values.flatMap((value) => {
    try {
      return [withValue(recipe, path, value)];
    } catch (e) {
      if (!(e instanceof RecipeError)) throw e;
      problems.push(...e.problems.map((p) => `value ${JSON.stringify(value)}: ${p}`));
      return [];
    }
  });
  if (problems.length > 0) throw new RecipeError(problems);
  return recipes;
}

/**
 * Every point's problems on this model (validateRecipe: a sparsity of 1.5, a group that does not
 * divide the layer), prefixed by its value, so a sweep is refused before its first point runs.
 */
export function sweepProblems(recipes: readonly Recipe[], values: readonly SweepValue[], analysis: ModelAnalysis, calibSize?: number): string[] {
  return recipes.flatMap((r, i) => validateRecipe(r, analysis, calibSize).map((p) => `value ${JSON.stringify(values[i])}: ${p}`));
}

/**
 * Values as typed: "0.1,0.3,0.5", a range "0.1:0.9:0.2" (from:to:step, inclusive), or words
 * "magnitude,wanda,sparsegpt". Numbers stay numbers.
 */
export function parseSweepValues(text: string): SweepValue[] {
  const trimmed = text.trim();
  const rangeMatch = /^(-?[\d.]+):(-?[\d.]+):([\d.]+)$/.exec(trimmed);
  if (rangeMatch) {
    const [from, to, step] = rangeMatch.slice(1).map(Number);
    if (![from, to, step].every(Number.isFinite) || step <= 0 || to < from) throw new RecipeError([`values: a range is from:to:step with from ≤ to and step > 0, got "${trimmed.slice(0, 40)}"`]);
    if ((to - from) / step + 1 > MAX_SWEEP_POINTS) throw new RecipeError([`values: "${trimmed.slice(0, 40)}" gives more than ${MAX_SWEEP_POINTS} points`]);
    return range(from, to, step);
  }
  const parts = trimmed.split(',').map((s) => s.trim()).filter((s) => s.length > 0);
  if (parts.length === 0) throw new RecipeError(['values: give a list like 0.1,0.5,0.9 or a range like 0.1:0.9:0.2']);
  return parts.map((p) => (/^-?\d+(\.\d+)?(e-?\d+)?$/i.test(p) ? Number(p) : p));
}
