// The difference between two recipes as lines a person reads: each recipe flattened to
// path → value ("stages[0].pattern.sparsity" → "0.5"), then only the paths whose values differ,
// "stages[0].pattern.sparsity: 0.5 → 0.7". A path one recipe lacks reads "(absent)".

export interface RecipeChange {
  path: string;
  from: string;
  to: string;
}

export const ABSENT = '(absent)';

/** Every leaf of a JSON value by its path; an empty object or array is a leaf ("{}", "[]"). */
export function flattenJson(value: unknown, path = '', into = new Map<string, string>()): Map<string, string> {
  if (Array.isArray(value)) {
    if (value.length === 0) into.set(path, '[]');
    value.forEach((item, i) => flattenJson(item, `${path}[${i}]`, into));
  } else if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value).filter(([, v]) => v !== undefined);
    if (entries.length === 0) into.set(path, '{}');
    for (const [key, v] of entries) flattenJson(v, path ? `${path}.${key}` : key, into);
  } else {
    into.set(path, typeof value === 'string' ? value : JSON.stringify(value));
  }
  return into;
}

/** The paths whose values differ, in the order they first appear (a's order, then b's new paths). */
export function recipeDiff(a: unknown, b: unknown): RecipeChange[] {
  const from = flattenJson(a);
  const to = flattenJson(b);
  const paths = [...from.keys(), ...[...to.keys()].filter((p) => !from.has(p))];
  return paths.filter((p) => from.get(p) !== to.get(p)).map((path) => ({ path, from: from.get(path) ?? ABSENT, to: to.get(path) ?? ABSENT }));
}

export const formatChangeLine = (c: RecipeChange): string => `${c.path}: ${c.from} → ${c.to}`;
