// The program abstraction's pure parts: cache keys, uniform packing, dispatch folding, row ranges.
import { describe, expect, test } from 'vitest';
import { defineProgram, foldWorkgroups, packUniforms, rowRangesWithinBinding } from './program';

const spec = {
  label: 'demo',
  shader: '// demo',
  entryPoint: 'main',
  uniforms: [
    { name: 'rows', type: 'u32' },
    { name: 'scale', type: 'f32' },
  ],
  storage: [{ name: 'data', binding: 1, access: 'read_write' }],
  workgroupSize: [16, 4],
} as const;

describe('defineProgram', () => {
  test('workgroup size becomes WG_X/WG_Y overrides; the key depends on overrides and source, not shapes', () => {
    const p = defineProgram(spec);
    expect(p.constants).toEqual({ WG_X: 16, WG_Y: 4 });
    expect(defineProgram(spec).cacheKey).toBe(p.cacheKey);
    expect(defineProgram({ ...spec, workgroupSize: [8, 4] }).cacheKey).not.toBe(p.cacheKey);
    expect(defineProgram({ ...spec, constants: { TILE: 2 } }).cacheKey).not.toBe(p.cacheKey);
    expect(defineProgram({ ...spec, shader: '// other' }).cacheKey).not.toBe(p.cacheKey);
  });

  test('rejects a binding used twice (0 is the uniform struct)', () => {
    expect(() => defineProgram({ ...spec, storage: [{ name: 'a', binding: 0, access: 'read' }] })).toThrow(/binding 0 is used twice/);
  });
});

describe('packUniforms', () => {
  test('4 bytes per field in order, padded to 16, f32 fields as floats', () => {
    const bytes = packUniforms(defineProgram(spec), { rows: 7, scale: 0.5 });
    expect(bytes.byteLength).toBe(16);
    expect(new Uint32Array(bytes)[0]).toBe(7);
    expect(new Float32Array(bytes)[1]).toBe(0.5);
  });

  test('names the missing, unknown or non-u32 field', () => {
    const p = defineProgram(spec);
    expect(() => packUniforms(p, { rows: 1 })).toThrow(/'scale' was not given/);
    expect(() => packUniforms(p, { rows: 1, scale: 1, cols: 2 })).toThrow(/unknown uniform 'cols'/);
    expect(() => packUniforms(p, { rows: -1, scale: 1 })).toThrow(/'rows' = -1 is not a u32/);
  });
});

describe('foldWorkgroups', () => {
  test('a line within the limit stays a line', () => expect(foldWorkgroups(65535, 65535)).toEqual([65535, 1, 1]));
  test('over the limit it becomes a grid covering the count with under one row of padding', () => {
    const [x, y] = foldWorkgroups(70000, 65535);
    expect(x).toBeLessThanOrEqual(65535);
    expect(x * y).toBeGreaterThanOrEqual(70000);
    expect(x * y - 70000).toBeLessThan(x);
  });
  test('beyond max² it throws', () => expect(() => foldWorkgroups(50, 7)).toThrow(/do not fit/));
});

describe('rowRangesWithinBinding', () => {
  test('consecutive ranges, each within the binding', () => {
    expect(rowRangesWithinBinding(10, 400, 1200, 't')).toEqual([[0, 3], [3, 6], [6, 9], [9, 10]]);
  });
  test('one row over the binding is an error that says so', () => {
    expect(() => rowRangesWithinBinding(2, 4000, 1200, 'wanda')).toThrow(/wanda: one row needs 4000 bytes/);
  });
});
