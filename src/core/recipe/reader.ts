// Reading untrusted JSON (a file, a URL parameter, a worker message) field by field, each problem
// named by its path: `stages[0].sparsity: must be a number, got a string ("50%")`. A field that
// is present but never read is reported as `<path>: unknown field` when the object is finished.
// The reader only descends where the schema does, and describes values without serialising
// them, so deeply nested garbage costs one short message, never a stack overflow.

export type JsonObject = Record<string, unknown>;
export const isJsonObject = (v: unknown): v is JsonObject => typeof v === 'object' && v !== null && !Array.isArray(v);

const PREVIEW = 40;

/** A name from the input, short and on one line (a 1 MB key must not make a 1 MB message). */
export function clipName(name: string): string {
  const oneLine = name.replace(/[\u0000-\u001f]/g, '?');
  return oneLine.length > PREVIEW ? `${oneLine.slice(0, PREVIEW)}…` : oneLine;
}

/** "quoted", clipped. */
export const quoted = (text: string): string => JSON.stringify(clipName(text));

/** `a.b`, `stages[0].c`; an empty parent is the recipe's top level. */
export const fieldPath = (parent: string, key: string | number): string =>
  typeof key === 'number' ? `${parent}[${key}]` : parent === '' ? clipName(key) : `${parent}.${clipName(key)}`;

/** A short description of any value, safe on huge or deeply nested input. */
export function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return `an array of ${value.length}`;
  switch (typeof value) {
    case 'string':
      return `a string (${JSON.stringify(value.length > PREVIEW ? `${value.slice(0, PREVIEW)}…` : value)})`;
    case 'number':
    case 'boolean':
      return String(value);
    case 'object':
      return 'an object';
    default:
      return typeof value;
  }
}

/** A file's SHA-256 as the lab writes it: 64 lower-case hex digits. */
export const SHA256_HEX = /^[0-9a-f]{64}$/;

/** Reports `value` under `key` when it is not a SHA-256 in hex (recipes, records and links name files by it). */
export function checkSha256(fields: FieldReader, key: string, value: string): void {
  if (!SHA256_HEX.test(value)) fields.problem(key, `must be 64 lower-case hex digits, got ${describeValue(value)}`);
}

/** Collects the problems found while reading one recipe. */
export class RecipeProblems {
  readonly list: string[] = [];
  add(path: string, message: string): void {
    this.list.push(path === '' ? message : `${path}: ${message}`);
  }
}

/** One JSON object being read; each getter marks its key as known. */
export class FieldReader {
  private readonly read = new Set<string>();

  constructor(
    readonly json: JsonObject,
    readonly path: string,
    readonly problems: RecipeProblems,
  ) {}

  /** A reader over `value` if it is an object (or undefined when absent); a problem otherwise. */
  static of(value: unknown, path: string, problems: RecipeProblems): FieldReader | undefined {
    if (value === undefined) return undefined;
    if (!isJsonObject(value)) {
      problems.add(path, `must be an object, got ${describeValue(value)}`);
      return undefined;
    }
    return new FieldReader(value, path, problems);
  }

  pathOf(key: string): string {
    return fieldPath(this.path, key);
  }

  /** The raw value of `key` (marked as known). */
  raw(key: string): unknown {
    this.read.add(key);
    return this.json[key];
  }

  has(key: string): boolean {
    return this.json[key] !== undefined;
  }

  problem(key: string, message: string): void {
    this.problems.add(this.pathOf(key), message);
  }

  number(key: string, fallback: number): number {
    const value = this.raw(key);
    if (value === undefined) return fallback;
    if (typeof value !== 'number' || !Number.isFinite(value)) {
      this.problem(key, `must be a finite number, got ${describeValue(value)}`);
      return fallback;
    }
    return value;
  }

  boolean(key: string, fallback: boolean): boolean {
    const value = this.raw(key);
    if (value === undefined) return fallback;
    if (typeof value !== 'boolean') {
      this.problem(key, `must be true or false, got ${describeValue(value)}`);
      return fallback;
    }
    return value;
  }

  string(key: string): string | undefined {
    const value = this.raw(key);
    if (value === undefined) return undefined;
    if (typeof value !== 'string') {
      this.problem(key, `must be a string, got ${describeValue(value)}`);
      return undefined;
    }
    return value;
  }

  choice<T extends string>(key: string, options: readonly T[], fallback: T): T {
    const value = this.raw(key);
    if (value === undefined) return fallback;
    if (typeof value !== 'string' || !options.includes(value as T)) {
      this.problem(key, `must be one of ${options.map((o) => `"${o}"`).join(', ')}, got ${describeValue(value)}`);
      return fallback;
    }
    return value as T;
  }

  strings(key: string): string[] {
    const value = this.raw(key);
    if (value === undefined) return [];
    if (!Array.isArray(value)) {
      this.problem(key, `must be an array of strings, got ${describeValue(value)}`);
      return [];
    }
    const bad = value.findIndex((s) => typeof s !== 'string');
    if (bad >= 0) {
      this.problems.add(fieldPath(this.pathOf(key), bad), `must be a string, got ${describeValue(value[bad])}`);
      return [];
    }
    return value as string[];
  }

  /** A nested object's reader (undefined when absent or not an object). */
  object(key: string): FieldReader | undefined {
    return FieldReader.of(this.raw(key), this.pathOf(key), this.problems);
  }

  /** Reports every present key nobody read as an unknown field. */
  finish(): void {
    for (const key of Object.keys(this.json)) if (!this.read.has(key)) this.problem(key, 'unknown field');
  }
}
