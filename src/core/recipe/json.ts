// A recipe as JSON text with every object's keys sorted: the same recipe gives the same text
// however it was built (parsed from version 1 or 2, or assembled by the UI), so a file that
// carries it (compress/metadata.ts) has the same bytes for the same run.
import type { Recipe } from './types.ts';

function sortedKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortedKeys);
  if (value === null || typeof value !== 'object') return value;
  const entries = Object.entries(value as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return Object.fromEntries(entries.map(([key, inner]) => [key, sortedKeys(inner)]));
}

export function recipeJson(recipe: Recipe): string {
  return JSON.stringify(sortedKeys(recipe));
}
