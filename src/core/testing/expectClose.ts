// The project's one tolerance helper, and structural equality for round-trip tests.
// Framework-free (plain Error): usable from vitest, Node scripts and the browser e2e run.

export interface Tolerance {
  /** Absolute tolerance. */
  atol: number;
  /** Relative tolerance, scaled by |expected|. */
  rtol: number;
}

const MAX_LISTED_MISMATCHES = 5;

/** numpy.allclose's rule: |actual - expected| <= atol + rtol * |expected|; NaN matches NaN. */
function isClose(actual: number, expected: number, { atol, rtol }: Tolerance): boolean {
  if (Number.isNaN(actual) || Number.isNaN(expected)) return Number.isNaN(actual) && Number.isNaN(expected);
  if (actual === expected) return true; // also equal infinities
  return Math.abs(actual - expected) <= atol + rtol * Math.abs(expected);
}

/** What a passing expectClose measured (NaN against NaN and equal infinities count as 0). */
export interface CloseReport {
  maxAbsError: number;
  maxRelError: number;
}

/**
 * Throws unless every element is within tolerance. The message gives the max absolute and
 * relative error and the first mismatches (index, actual, expected); a pass returns those maxima.
 */
export function expectClose(
  actual: ArrayLike<number>,
  expected: ArrayLike<number>,
  tolerance: Tolerance,
  label = 'values',
): CloseReport {
  if (actual.length !== expected.length) {
    throw new Error(`${label}: length ${actual.length} differs from expected length ${expected.length}`);
  }
  let maxAbs = 0;
  let maxRel = 0;
  let mismatchCount = 0;
  const listed: string[] = [];
  for (let i = 0; i < actual.length; i++) {
    const a = Number(actual[i]);
    const e = Number(expected[i]);
    // Equal values (incl. infinities, NaN vs NaN) have error 0; NaN against a number is Infinity.
    const bothNaN = Number.isNaN(a) && Number.isNaN(e);
    const difference = a === e || bothNaN ? 0 : Math.abs(a - e);
    const error = Number.isNaN(difference) ? Infinity : difference;
    maxAbs = Math.max(maxAbs, error);
    if (e !== 0 && Number.isFinite(e) && error > 0) maxRel = Math.max(maxRel, error / Math.abs(e));
    if (isClose(a, e, tolerance)) continue;
    mismatchCount++;
    if (listed.length < MAX_LISTED_MISMATCHES) listed.push(`  [${i}] actual ${a}, expected ${e}`);
  }
  if (mismatchCount === 0) return { maxAbsError: maxAbs, maxRelError: maxRel };
  throw new Error(
    `${label}: ${mismatchCount} of ${actual.length} elements differ beyond atol ${tolerance.atol}, rtol ${tolerance.rtol} ` +
      `(max abs error ${maxAbs}, max rel error ${maxRel})\n` +
      `first mismatches:\n${listed.join('\n')}`,
  );
}

type TypedArray =
  | Int8Array
  | Uint8Array
  | Uint8ClampedArray
  | Int16Array
  | Uint16Array
  | Int32Array
  | Uint32Array
  | Float32Array
  | Float64Array
  | BigInt64Array
  | BigUint64Array;

const tagOf = (value: unknown): string => Object.prototype.toString.call(value);

function describeValue(value: unknown): string {
  if (typeof value === 'bigint') return `${value}n`;
  if (typeof value === 'string') return JSON.stringify(value.length > 60 ? `${value.slice(0, 60)}…` : value);
  if (ArrayBuffer.isView(value)) return `${tagOf(value).slice(8, -1)}(${(value as TypedArray).length})`;
  if (Array.isArray(value)) return `Array(${value.length})`;
  if (value !== null && typeof value === 'object') return '{…}';
  return Object.is(value, -0) ? '-0' : String(value);
}

/** Typed arrays of the same kind compare bit for bit (so -0 ≠ 0 and NaN payloads count). */
function typedArrayDifference(a: TypedArray, b: TypedArray, path: string): string | null {
  if (a.length !== b.length) return `${path}: length ${a.length} vs ${b.length}`;
  const bytesA = new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
  const bytesB = new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
  for (let i = 0; i < bytesA.length; i++) {
    if (bytesA[i] !== bytesB[i]) {
      const index = Math.floor(i / a.BYTES_PER_ELEMENT);
      return `${path}[${index}]: ${describeValue(a[index])} vs ${describeValue(b[index])}`;
    }
  }
  return null;
}

/**
 * The first place where two values differ structurally, as "path: a vs b", or null if equal.
 * Own enumerable keys must match exactly (a key set to undefined differs from an absent key);
 * numbers compare with Object.is; bigint 5n differs from number 5; typed arrays must be the
 * same kind (a Node Buffer counts as a Uint8Array) and equal bit for bit.
 */
export function firstDifference(a: unknown, b: unknown, path = '$'): string | null {
  if (typeof a !== typeof b) return `${path}: ${describeValue(a)} (${typeof a}) vs ${describeValue(b)} (${typeof b})`;
  if (typeof a !== 'object' || a === null || b === null) {
    return Object.is(a, b) ? null : `${path}: ${describeValue(a)} vs ${describeValue(b)}`;
  }
  if (tagOf(a) !== tagOf(b)) return `${path}: ${tagOf(a)} vs ${tagOf(b)}`;
  if (ArrayBuffer.isView(a)) return typedArrayDifference(a as TypedArray, b as TypedArray, path);
  if (Array.isArray(a)) {
    const other = b as unknown[];
    if (a.length !== other.length) return `${path}: length ${a.length} vs ${other.length}`;
    for (let i = 0; i < a.length; i++) {
      const d = firstDifference(a[i], other[i], `${path}[${i}]`);
      if (d !== null) return d;
    }
    return null;
  }
  const objA = a as Record<string, unknown>;
  const objB = b as Record<string, unknown>;
  const keysA = Object.keys(objA);
  const keysB = Object.keys(objB);
  for (const key of keysA) if (!Object.hasOwn(objB, key)) return `${path}.${key}: present vs absent`;
  for (const key of keysB) if (!Object.hasOwn(objA, key)) return `${path}.${key}: absent vs present`;
  for (const key of keysA) {
    const d = firstDifference(objA[key], objB[key], `${path}.${key}`);
    if (d !== null) return d;
  }
  return null;
}

/** Throws an Error naming the first differing path unless `actual` and `expected` are structurally equal. */
export function expectDeepEqual(actual: unknown, expected: unknown, label = 'value'): void {
  const difference = firstDifference(actual, expected);
  if (difference !== null) throw new Error(`${label} differs at ${difference} (actual vs expected)`);
}
