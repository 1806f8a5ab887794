// What a sweep will run, decided before its first point: each value's whole recipe, or every
// reason it cannot run. Pure (the sweep controller runs the plan; the view shows its problems).
import { RecipeError, type Recipe } from '../core/recipe';
import type { ModelAnalysis } from '../core/model';
import { parseSweepValues, sweepOptions, sweepProblems, sweepRecipes, withValue, type SweepValue } from '../core/experiments/sweep';

export interface SweepPoint {
  /** "0.5", or "wanda, 0.5" when methods are compared. */
  value: string;
  recipe: Recipe;
}

export interface SweepPlan {
  title: string;
  points: SweepPoint[];
  /** Why it cannot run; [] when it can. */
  problems: string[];
}

/** The three pruning methods a comparison runs, in the order they are drawn. */
export const COMPARED_METHODS = ['magnitude', 'wanda', 'sparsegpt'] as const;

/** Where the model and its calibration set stand: what every point is validated against. */
export interface SweepContext {
  analysis?: ModelAnalysis;
  calibSize?: number;
}

const problemsOf = (e: unknown): string[] => {
  if (e instanceof RecipeError) return e.problems;
  throw e;
};

const valueText = (v: SweepValue) => String(v);

/** Values as typed, or the reasons they cannot be read. */
export function readValues(text: string): { values: SweepValue[]; problems: string[] } {
  try {
    return { values: parseSweepValues(text), problems: [] };
  } catch (e) {
    return { values: [], problems: problemsOf(e) };
  }
}

/** Every point checked on this model, before the first one runs. */
function checked(recipes: Recipe[], values: SweepValue[], context: SweepContext): string[] {
  if (!context.analysis) return ['Load a model first.'];
  return sweepProblems(recipes, values, context.analysis, context.calibSize);
}

/** One parameter (a path from sweepOptions) over the typed values. */
export function planSweep(recipe: Recipe, path: string, text: string, context: SweepContext): SweepPlan {
  const title = sweepOptions(recipe).find((o) => o.path === path)?.label ?? path;
  const { values, problems } = readValues(text);
  if (problems.length > 0) return { title, points: [], problems };
  try {
    const recipes = sweepRecipes(recipe, path, values);
    return { title, points: recipes.map((r, i) => ({ value: valueText(values[i]), recipe: r })), problems: checked(recipes, values, context) };
  } catch (e) {
    return { title, points: [], problems: problemsOf(e) };
  }
}

/** The prune stage's sparsity-like parameter (sparsity or N of N:M) at `path`, or undefined. */
function pruneAmountPath(recipe: Recipe, path: string): { stage: number } | undefined {
  const match = /^stages\[(\d+)\]\.pattern\.(sparsity|n)$/.exec(path);
  if (!match) return undefined;
  const stage = Number(match[1]);
  return recipe.stages[stage]?.kind === 'prune' ? { stage } : undefined;
}

/**
 * Methods at equal sparsity: the same sweep of a prune stage's sparsity (or N) for magnitude, Wanda
 * and SparseGPT, method by method so each curve completes before the next starts.
 */
export function planMethodComparison(recipe: Recipe, path: string, text: string, context: SweepContext): SweepPlan {
  const title = `pruning method × ${sweepOptions(recipe).find((o) => o.path === path)?.label ?? path}`;
  const amount = pruneAmountPath(recipe, path);
  if (!amount) return { title, points: [], problems: [recipe.stages.some((s) => s.kind === 'prune') ? 'Pick a prune stage’s sparsity (or N of N:M) as the parameter: methods are compared over its values.' : 'Methods are compared on a prune stage: add pruning to the recipe.'] };
  const { values, problems } = readValues(text);
  if (problems.length > 0) return { title, points: [], problems };
  try {
    const methodPath = `stages[${amount.stage}].method`;
    const perMethod = COMPARED_METHODS.map((method) => ({ method, recipes: sweepRecipes(withValue(recipe, methodPath, method), path, values) }));
    const points = perMethod.flatMap(({ method, recipes }) => recipes.map((r, i) => ({ value: `${method}, ${valueText(values[i])}`, recipe: r })));
    return { title, points, problems: checked(points.map((p) => p.recipe), points.map((p) => p.value), context) };
  } catch (e) {
    return { title, points: [], problems: problemsOf(e) };
  }
}

/**
 * Time left: the mean time of the points finished so far times the points not finished; undefined
 * before the first point finishes (nothing to estimate from yet).
 */
export function timeLeftMs(points: readonly { status: string; ms?: number }[]): number | undefined {
  const finished = points.filter((p) => p.ms !== undefined);
  if (finished.length === 0) return undefined;
  const mean = finished.reduce((sum, p) => sum + p.ms!, 0) / finished.length;
  return mean * points.filter((p) => p.status === 'waiting' || p.status === 'running').length;
}
