// MX against microsoft/microxcaling _quantize_mx (fixtures/mx.json, fixtures/make_mx_awq_fixtures.py).
// MX dequantization is exact arithmetic (powers of two, few-bit elements), so every comparison
// with the reference is exact: atol 0, rtol 0.
import { describe, expect, test } from 'vitest';
import {
  castToMxElement,
  floorLog2,
  MX_BLOCK_SIZE,
  MX_FORMAT_NAMES,
  MX_FORMATS,
  MX_SCALE_NAN_EXPONENT,
  mxElementValues,
  mxQuantize,
  mxSharedExponent,
  type MxFormat,
} from './mx.ts';
import { f32, fixtureMatrix, readFixture, type MxFixture } from './fixtures/mxAwqLoad.ts';
import { expectClose } from '../testing/expectClose.ts';
import { MX_FORMAT_NAMES as RECIPE_MX_FORMAT_NAMES } from '../recipe/stages/quantize.ts';
import { seededUniform } from '../testing/random.ts';

const fixture = readFixture<MxFixture>('mx.json');
const EXACT = { atol: 0, rtol: 0 };

/** The fixture names formats by their microxcaling element format. */
const REFERENCE_NAME: Record<MxFormat, string> = {
  mxfp4: 'fp4_e2m1',
  'mxfp6-e2m3': 'fp6_e2m3',
  'mxfp6-e3m2': 'fp6_e3m2',
  'mxfp8-e4m3': 'fp8_e4m3',
  'mxfp8-e5m2': 'fp8_e5m2',
  mxint8: 'int8',
};
const formatOf = (referenceName: string): MxFormat => {
  const format = MX_FORMAT_NAMES.find((f) => REFERENCE_NAME[f] === referenceName);
  if (!format) throw new Error(`fixture format ${referenceName} unknown`);
  return format;
};

describe('MX element formats', () => {
  test('the fixture says how it was made', () => {
    expect(fixture.header.script).toBe('src/core/quant/fixtures/make_mx_awq_fixtures.py');
    expect(fixture.header.torch).toMatch(/^1\.13/);
    expect(fixture.blockSize).toBe(MX_BLOCK_SIZE);
  });

  test('the formats are the recipe\'s MX formats', () => {
    expect(MX_FORMAT_NAMES).toEqual(RECIPE_MX_FORMAT_NAMES);
  });

  test.each(MX_FORMAT_NAMES)('%s has the reference parameters', (name) => {
    const ref = fixture.formats[REFERENCE_NAME[name]];
    const f = MX_FORMATS[name];
    expect({ ebits: f.ebits, mbits: f.mbits, emax: f.emax, max: f.max, elementBits: f.elementBits }).toEqual({
      ebits: ref.ebits,
      mbits: ref.mbits,
      emax: ref.emax,
      max: ref.max,
      elementBits: ref.elementBits,
    });
    if (f.ebits > 0) expect(2 ** f.emin).toBe(ref.minNormal);
  });

  test('value tables: the spec counts, every value is its own cast, the largest is max', () => {
    const counts: Record<MxFormat, number> = { mxfp4: 8, 'mxfp6-e2m3': 32, 'mxfp6-e3m2': 32, 'mxfp8-e4m3': 127, 'mxfp8-e5m2': 124, mxint8: 128 };
    for (const name of MX_FORMAT_NAMES) {
      const values = mxElementValues(name);
      expect(values.length, name).toBe(counts[name]);
      expect(values[values.length - 1], name).toBe(MX_FORMATS[name].max);
      for (const v of values) expect(castToMxElement(v, name)).toBe(v);
    }
    expect(Array.from(mxElementValues('mxfp4'))).toEqual([0, 0.5, 1, 1.5, 2, 3, 4, 6]);
  });

  test.each(MX_FORMAT_NAMES)('%s casts match the reference with round=even (ties, subnormals, saturation)', (name) => {
    const casts = fixture.casts[REFERENCE_NAME[name]];
    const inputs = f32(casts.inputs);
    const actual = Float32Array.from(inputs, (v) => castToMxElement(v, name));
    expectClose(actual, f32(casts.even), EXACT, `${name} casts`);
  });

  test.each(MX_FORMAT_NAMES)('%s: the reference default (ties away from zero) differs only at ties', (name) => {
    const casts = fixture.casts[REFERENCE_NAME[name]];
    const inputs = f32(casts.inputs);
    const nearest = f32(casts.nearestAt);
    expect(casts.nearestDiffers.length).toBeGreaterThan(0);
    casts.nearestDiffers.forEach((index, k) => {
      const even = castToMxElement(inputs[index], name);
      expect(Math.abs(nearest[k] - inputs[index])).toBe(Math.abs(even - inputs[index]));
      expect(Math.abs(nearest[k])).toBeGreaterThan(Math.abs(even));
    });
  });

  test('hand cases: ties to even, saturation, non-finite values', () => {
    expect(castToMxElement(2.5, 'mxfp4')).toBe(2); // between 2 and 3: even mantissa
    expect(castToMxElement(3.5, 'mxfp4')).toBe(4);
    expect(castToMxElement(-0.25, 'mxfp4')).toBe(-0); // half the smallest subnormal
    expect(castToMxElement(0.75, 'mxfp4')).toBe(1);
    expect(castToMxElement(464, 'mxfp8-e4m3')).toBe(448); // tie with 480, which E4M3 lacks
    expect(castToMxElement(1e9, 'mxfp8-e5m2')).toBe(57344);
    expect(castToMxElement(-1.9999, 'mxint8')).toBe(-127 / 64); // symmetric saturation, never −2
    expect(castToMxElement(Infinity, 'mxfp8-e4m3')).toBe(448);
    expect(castToMxElement(-Infinity, 'mxfp8-e5m2')).toBe(-57344);
    expect(castToMxElement(NaN, 'mxfp6-e3m2')).toBeNaN();
    expect(castToMxElement(2 ** -9, 'mxfp8-e4m3')).toBe(2 ** -9); // smallest E4M3 subnormal
    expect(castToMxElement(2 ** -10, 'mxfp8-e4m3')).toBe(0); // its half: tie to zero
  });

  test('floorLog2 is exact at and one ulp around powers of two, and for float32 extremes', () => {
    for (let k = -149; k <= 127; k++) expect(floorLog2(2 ** k)).toBe(k);
    for (let k = -125; k <= 128; k++) {
      const below = Math.fround(2 ** k * (1 - 2 ** -24)); // the float32 just below 2^k (normal range)
      expect(below).toBeLessThan(2 ** k);
      expect(floorLog2(below)).toBe(k - 1);
    }
    expect(floorLog2(Math.fround(3.4028234663852886e38))).toBe(127);
    expect(floorLog2(Math.fround(7.9999995))).toBe(2);
    expect(floorLog2(1.401298464324817e-45)).toBe(-149);
  });

  test('shared exponent: spec rule, zero blocks, clamping, NaN', () => {
    expect(mxSharedExponent(1, 'mxfp4')).toBe(-2);
    expect(mxSharedExponent(6, 'mxfp4')).toBe(0);
    expect(mxSharedExponent(448, 'mxfp8-e4m3')).toBe(0);
    expect(mxSharedExponent(0, 'mxfp8-e4m3')).toBe(-127);
    expect(mxSharedExponent(0, 'mxint8')).toBe(-126);
    expect(mxSharedExponent(1e-40, 'mxfp6-e2m3')).toBe(-127);
    expect(mxSharedExponent(Infinity, 'mxint8')).toBe(MX_SCALE_NAN_EXPONENT);
    expect(mxSharedExponent(NaN, 'mxint8')).toBe(MX_SCALE_NAN_EXPONENT);
  });
});

describe('mxQuantize matches _quantize_mx', () => {
  test.each(fixture.matrices.map((c) => [formatOf(c.format), c] as const))('seeded 16 x 64, %s', (format, c) => {
    const q = mxQuantize(fixtureMatrix(c.weight), format);
    expectClose(q.weight.data, f32(c.dequantized), EXACT, `${format} dequantized`);
    expect(Array.from(q.scaleExponents)).toEqual(c.scaleExponents);
    expect(q.blocksPerRow).toBe(2);
    expect(q.bitsPerWeight).toBe(MX_FORMATS[format].elementBits + 0.25);
  });

  test.each(fixture.hostile.map((c) => [formatOf(c.format), c] as const))('hostile 6 x 40 (short last block, zero row, NaN, Inf, subnormals, float32 max, ties), %s', (format, c) => {
    const weight = fixtureMatrix(c.weight);
    const q = mxQuantize(weight, format);
    expectClose(q.weight.data, f32(c.dequantized), EXACT, `${format} dequantized`);
    expect(Array.from(q.scaleExponents)).toEqual(c.scaleExponents);
    // Row 0 is all zero, row 1 has a NaN in its short block, row 2 an infinity in each block.
    expect(Array.from(q.weight.data.subarray(0, 40)).every((v) => v === 0)).toBe(true);
    expect(q.scaleExponents[1 * 2 + 1]).toBe(MX_SCALE_NAN_EXPONENT);
    expect(Array.from(q.weight.data.subarray(40 + 32, 80)).every(Number.isNaN)).toBe(true);
    expect(Array.from(q.weight.data.subarray(80, 120)).every(Number.isNaN)).toBe(true);
  });

  test('the float32 reference differs only where amax is one ulp below a power of two', () => {
    for (const c of fixture.hostile) {
      const weight = fixtureMatrix(c.weight);
      const reference32 = f32(c.dequantizedFloat32Reference ?? []);
      const mine = f32(c.dequantized);
      const blocks = c.float32DifferentBlocks ?? [];
      expect(blocks.length).toBeGreaterThan(0);
      for (const [r, b] of blocks) {
        const start = r * weight.cols + b * MX_BLOCK_SIZE;
        const end = r * weight.cols + Math.min((b + 1) * MX_BLOCK_SIZE, weight.cols);
        const amax = Math.max(...Array.from(weight.data.subarray(start, end), Math.abs));
        expect(amax / 2 ** (floorLog2(amax) + 1)).toBe(1 - 2 ** -24);
        for (let i = start; i < end; i++) mine[i] = reference32[i] = 0;
      }
      expectClose(mine, reference32, EXACT, `${c.format}: float32 run outside the listed blocks`);
    }
  });
});

describe('mxQuantize invariants', () => {
  const random = seededUniform(7);
  const rows = 9;
  const cols = 75; // 32 + 32 + 11
  const data = Float32Array.from({ length: rows * cols }, () => (random() - 0.5) * 2 ** Math.floor(random() * 12 - 6));
  const weight = { rows, cols, data };

  test.each(MX_FORMAT_NAMES)('%s: elements on the grid, amax of each block lands in [2^emax, 2^(emax+1))', (format) => {
    const q = mxQuantize(weight, format);
    const grid = new Set(mxElementValues(format));
    const f = MX_FORMATS[format];
    expect(q.blocksPerRow).toBe(3);
    for (let r = 0; r < rows; r++) {
      for (let b = 0; b < q.blocksPerRow; b++) {
        const scale = 2 ** q.scaleExponents[r * q.blocksPerRow + b];
        let amax = 0;
        for (let c = b * MX_BLOCK_SIZE; c < Math.min((b + 1) * MX_BLOCK_SIZE, cols); c++) {
          const element = q.weight.data[r * cols + c] / scale;
          expect(grid.has(Math.abs(element))).toBe(true);
          amax = Math.max(amax, Math.abs(data[r * cols + c]) / scale);
        }
        expect(amax).toBeGreaterThanOrEqual(2 ** f.emax);
        expect(amax).toBeLessThan(2 ** (f.emax + 1));
      }
    }
  });

  test('block maxima past max·X saturate (the spec\'s floor scale rule)', () => {
    // amax / X = 1.99 · 2^emax, above every format's max (E2M1 1.5 · 4, E4M3 1.75 · 256, INT8 127/64).
    const block = Float32Array.from({ length: 32 }, (_, i) => (i === 0 ? 1.99 : 0.01 * i));
    for (const format of MX_FORMAT_NAMES) {
      const q = mxQuantize({ rows: 1, cols: 32, data: block }, format);
      expect(q.weight.data[0], format).toBe(MX_FORMATS[format].max * 2 ** q.scaleExponents[0]);
    }
  });

  test('error follows the element bits when no block saturates; 1 x 1 works', () => {
    const unsaturated = Float32Array.from(data);
    for (let r = 0; r < rows; r++) {
      for (let c = 0; c < cols; c += MX_BLOCK_SIZE) unsaturated[r * cols + c] = 2 ** 5; // every block's amax a power of two
    }
    const mse = (format: MxFormat) => {
      const q = mxQuantize({ rows, cols, data: unsaturated }, format).weight.data;
      return unsaturated.reduce((sum, v, i) => sum + (v - q[i]) ** 2, 0) / unsaturated.length;
    };
    // Same exponent bits, more mantissa bits: less error. Same mantissa, more exponent bits: no
    // more error (the extra range only helps the small values of a block).
    expect(mse('mxfp4')).toBeGreaterThan(mse('mxfp6-e2m3'));
    expect(mse('mxfp4')).toBeGreaterThan(mse('mxfp6-e3m2'));
    expect(mse('mxfp8-e5m2')).toBeGreaterThan(mse('mxfp8-e4m3'));
    expect(mse('mxfp6-e3m2')).toBeGreaterThanOrEqual(mse('mxfp8-e5m2'));
    const one = mxQuantize({ rows: 1, cols: 1, data: Float32Array.of(-0.3) }, 'mxfp4');
    expect(Array.from(one.weight.data)).toEqual([-0.25]); // X = 2^-4; −0.3 / X = −4.8, nearer −4 than −6
    expect(Array.from(one.scaleExponents)).toEqual([-4]);
  });
});
