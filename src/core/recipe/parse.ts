// parseRecipe: JSON (a file, a URL parameter, a worker message) → a complete PruneRecipe.
// Missing fields take the defaults; unknown fields and wrong types are errors that name the
// field, all of them at once. Values that are well-typed but impossible (sparsity 1, 4:4, a
// pattern that does not fit the model) are validateRecipe's business.
import { defaultRecipe, structuredSparsity } from './defaults.ts';
import {
  ALLOCATION_KINDS,
  CALIBRATION_MODES,
  MAGNITUDE_SCOPES,
  PRUNE_METHODS,
  type PruneRecipe,
  type RecipePattern,
} from './types.ts';

export class RecipeError extends Error {
  override name = 'RecipeError';
  constructor(readonly problems: string[]) {
    super(`invalid recipe:\n  - ${problems.join('\n  - ')}`);
  }
}

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

class Reader {
  readonly problems: string[] = [];

  object(value: unknown, path: string, keys: readonly string[]): Json | undefined {
    if (value === undefined) return undefined;
    if (!isObject(value)) {
      this.problems.push(`${path} must be an object, got ${JSON.stringify(value)}`);
      return undefined;
    }
    for (const key of Object.keys(value)) {
      if (!keys.includes(key)) this.problems.push(`${path}.${key} is not a recipe field (known: ${keys.join(', ')})`);
    }
    return value;
  }

  number(obj: Json | undefined, key: string, path: string, fallback: number): number {
    const value = obj?.[key];
    if (value === undefined) return fallback;
    if (typeof value !== 'number' || !Number.isFinite(value)) {
      this.problems.push(`${path}.${key} must be a finite number, got ${JSON.stringify(value)}`);
      return fallback;
    }
    return value;
  }

  boolean(obj: Json | undefined, key: string, path: string, fallback: boolean): boolean {
    const value = obj?.[key];
    if (value === undefined) return fallback;
    if (typeof value !== 'boolean') {
      this.problems.push(`${path}.${key} must be true or false, got ${JSON.stringify(value)}`);
      return fallback;
    }
    return value;
  }

  choice<T extends string>(obj: Json | undefined, key: string, path: string, options: readonly T[], fallback: T): T {
    const value = obj?.[key];
    if (value === undefined) return fallback;
    if (typeof value !== 'string' || !options.includes(value as T)) {
      this.problems.push(`${path}.${key} must be one of ${options.map((o) => `"${o}"`).join(', ')}, got ${JSON.stringify(value)}`);
      return fallback;
    }
    return value as T;
  }

  strings(obj: Json | undefined, key: string, path: string): string[] {
    const value = obj?.[key];
    if (value === undefined) return [];
    if (!Array.isArray(value) || !value.every((s) => typeof s === 'string')) {
      this.problems.push(`${path}.${key} must be an array of strings`);
      return [];
    }
    return value as string[];
  }
}

/**
 * A pattern as an object ({kind: 'nm', n: 2, m: 4}) or text: "unstructured", "2:4" (N kept of M),
 * "64:2:8" (V:N:M).
 */
function readPattern(reader: Reader, value: unknown): RecipePattern {
  if (value === undefined) return { kind: 'unstructured' };
  if (typeof value === 'string') {
    if (value === 'unstructured') return { kind: 'unstructured' };
    const parts = value.split(':').map(Number);
    if (parts.every(Number.isFinite) && parts.length === 2) return { kind: 'nm', n: parts[0], m: parts[1] };
    if (parts.every(Number.isFinite) && parts.length === 3) return { kind: 'vnm', v: parts[0], n: parts[1] as 2, m: parts[2] };
    reader.problems.push(`pattern "${value}" is not "unstructured", "N:M" or "V:N:M"`);
    return { kind: 'unstructured' };
  }
  const kinds = ['unstructured', 'nm', 'vnm'] as const;
  const obj = reader.object(value, 'pattern', ['kind', 'n', 'm', 'v']);
  const kind = reader.choice(obj, 'kind', 'pattern', kinds, 'unstructured');
  if (obj && obj.kind === undefined) reader.problems.push('pattern.kind is required ("unstructured", "nm" or "vnm")');
  if (kind === 'unstructured') return { kind };
  const n = reader.number(obj, 'n', 'pattern', kind === 'vnm' ? 2 : NaN);
  const m = reader.number(obj, 'm', 'pattern', NaN);
  if (Number.isNaN(m) || Number.isNaN(n)) reader.problems.push(`pattern ${kind} needs numbers n and m`);
  if (kind === 'nm') return { kind, n, m };
  return { kind, v: reader.number(obj, 'v', 'pattern', NaN), n: n as 2, m };
}

export function parseRecipe(json: unknown): PruneRecipe {
  const reader = new Reader();
  const defaults = defaultRecipe();
  const top = reader.object(json ?? {}, 'recipe', [
    'version', 'method', 'magnitudeScope', 'pattern', 'sparsity', 'allocation', 'calibration', 'sparseGpt', 'layers',
  ]);
  if (top === undefined) throw new RecipeError(reader.problems);
  if (top.version !== undefined && top.version !== 1) reader.problems.push(`recipe.version ${JSON.stringify(top.version)} is not supported (this lab reads version 1)`);
  const pattern = readPattern(reader, top.pattern);
  const impliedSparsity = structuredSparsity(pattern);
  const allocation = reader.object(top.allocation, 'allocation', ['kind', 'tokenSelection']);
  const calibration = reader.object(top.calibration, 'calibration', ['samples', 'seed', 'mode', 'batchSize', 'outputSample']);
  const sparseGpt = reader.object(top.sparseGpt, 'sparseGpt', ['blockSize', 'percDamp']);
  const layers = reader.object(top.layers, 'layers', ['includeHead', 'skip']);
  const recipe: PruneRecipe = {
    version: 1,
    method: reader.choice(top, 'method', 'recipe', PRUNE_METHODS, defaults.method),
    magnitudeScope: reader.choice(top, 'magnitudeScope', 'recipe', MAGNITUDE_SCOPES, defaults.magnitudeScope),
    pattern,
    sparsity: reader.number(top, 'sparsity', 'recipe', impliedSparsity ?? defaults.sparsity),
    allocation: {
      kind: reader.choice(allocation, 'kind', 'allocation', ALLOCATION_KINDS, defaults.allocation.kind),
      tokenSelection: reader.boolean(allocation, 'tokenSelection', 'allocation', defaults.allocation.tokenSelection),
    },
    calibration: {
      samples: reader.number(calibration, 'samples', 'calibration', defaults.calibration.samples),
      seed: reader.number(calibration, 'seed', 'calibration', defaults.calibration.seed),
      mode: reader.choice(calibration, 'mode', 'calibration', CALIBRATION_MODES, defaults.calibration.mode),
      batchSize: reader.number(calibration, 'batchSize', 'calibration', defaults.calibration.batchSize),
      outputSample: reader.number(calibration, 'outputSample', 'calibration', defaults.calibration.outputSample),
    },
    sparseGpt: {
      blockSize: reader.number(sparseGpt, 'blockSize', 'sparseGpt', defaults.sparseGpt.blockSize),
      percDamp: reader.number(sparseGpt, 'percDamp', 'sparseGpt', defaults.sparseGpt.percDamp),
    },
    layers: {
      includeHead: reader.boolean(layers, 'includeHead', 'layers', defaults.layers.includeHead),
      skip: reader.strings(layers, 'skip', 'layers'),
    },
  };
  if (reader.problems.length > 0) throw new RecipeError(reader.problems);
  return recipe;
}
