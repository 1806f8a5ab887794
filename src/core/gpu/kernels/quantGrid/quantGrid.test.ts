// quantGrid (GPTQ's quantiser grid on the device) against its CPU reference (quant/rtn.ts's own
// functions), the shipped RTN (wasm ranges and codes), and PyTorch (fixtures/rtn.json, made by
// scripts/fixtures/quant_reference.py from IST-DASLab/gptq quant.py).
import { expect, test } from 'vitest';
import { describeGpu } from '../../testing/describeGpu';
import { quantGridCases, quantGridViolation, type QuantGridCase } from '../../testing/cases/quantGrid';
import { encodeFitGroups, quantGridGpu } from './quantGrid.gpu';
import { fitGroupsRef, quantGridRef } from './quantGrid.ref';
import { quantizeRtn, QuantError } from '../../../quant/rtn';
import { describeGranularity, hexCodes, readQuantFixture, type RtnFixture } from '../../../quant/fixtures/load';
import { expectClose } from '../../../testing/expectClose';
import { normalArray } from '../../testing/random';

const EXACT = { atol: 0, rtol: 0 };
const small = quantGridCases.filter((c) => c.weight.rows * c.weight.cols < 100_000);

test('reference on hand-computed values: halves to even at scale 1', () => {
  const c = quantGridCases.find((k) => k.name.startsWith('exact halves'))!;
  const ref = quantGridRef(c.weight, c.grid, c.granularity);
  expect(Array.from(ref.params.scales)).toEqual([1, 1]);
  expectClose(ref.params.zeroPoints, [0, 0], EXACT, 'zero points'); // −0 (torch.round(−0/1)) equals 0
  expect(Array.from(ref.codes)).toEqual([0, 0, 1, 2, 2, 2, 3, 0, 3, 2, 2, 2, 1, 0, 0, 0]);
});

test.each(small.map((c) => [c.name, c] as const))('reference = shipped quantizeRtn (wasm ranges and codes), bit for bit: %s', (_, c) => {
  const ref = quantGridRef(c.weight, c.grid, c.granularity);
  const shipped = quantizeRtn(c.weight, c.grid, c.granularity);
  expectClose(ref.params.scales, shipped.scales, EXACT, 'scales');
  expectClose(ref.params.zeroPoints, shipped.zeroPoints, EXACT, 'zero points');
  expectClose(ref.codes, shipped.codes, EXACT, 'codes');
});

describeGpu('quantGrid kernels vs reference', (gpu) => {
  test.each(quantGridCases.map((c) => [c.name, c] as const))('%s', async (_, c) => {
    const got = await quantGridGpu(gpu(), c.weight, c.grid, c.granularity);
    const ref = quantGridRef(c.weight, c.grid, c.granularity);
    const { flips } = quantGridViolation(got, ref, c);
    // The contract admits flips at near-ties; this adapter divides correctly rounded: none, and bit-identical.
    expect(flips).toBe(0);
    expectClose(got.params.scales, ref.params.scales, EXACT, 'scales');
    expectClose(got.dequantized, ref.dequantized, EXACT, 'dequantized');
  });

  test('PyTorch quant.py (fixtures/rtn.json): every case without the MSE search, codes, scales and zero points equal', async () => {
    const fixture = readQuantFixture<RtnFixture>('rtn.json');
    const { rows, cols } = fixture.layer;
    const weight = { rows, cols, data: Float32Array.from(fixture.layer.weight) };
    const cases = fixture.cases.filter((k) => !k.mseClip);
    expect(cases.length).toBe(24);
    for (const k of cases) {
      const label = `${k.bits}-bit ${k.symmetric ? 'sym' : 'asym'} ${describeGranularity(k.granularity)}`;
      const got = await quantGridGpu(gpu(), weight, { bits: k.bits, symmetric: k.symmetric }, k.granularity);
      expectClose(got.codes, hexCodes(k.codes), EXACT, `${label}: codes`);
      expectClose(got.params.scales, Float32Array.from(k.scales), EXACT, `${label}: scales`);
      expectClose(got.params.zeroPoints, k.zeroPoints, EXACT, `${label}: zero points`);
    }
  });

  test("GPTQ's dynamic refit: groups 2 and 3 (columns 64…127) of a 9 × 150 layer, the rest of the tables untouched", async () => {
    const [rows, cols, groupSize, groups] = [9, 150, 32, 5];
    const grid = { bits: 3, symmetric: false };
    const data = normalArray(rows * cols, 70, 0.05);
    const ctx = gpu();
    const weights = ctx.upload('test.weights', data);
    const before = new Float32Array(rows * groups).fill(7);
    const scales = ctx.upload('test.scales', before);
    const zeros = ctx.upload('test.zeros', before);
    try {
      await encodeFitGroups(ctx, { weights, scales, zeros }, { rows, cols, groupSize, groups, grid }, 64, 2);
      const expected = { scales: before.slice(), zeros: before.slice(), groups };
      fitGroupsRef(data, rows, cols, groupSize, grid, expected, 64, 2);
      expectClose(await ctx.readFloat32(scales, rows * groups), expected.scales, EXACT, 'scales');
      expectClose(await ctx.readFloat32(zeros, rows * groups), expected.zeros, EXACT, 'zeros');
    } finally {
      for (const b of [weights, scales, zeros]) ctx.release(b);
    }
  });

  test('a range that overflows float32 is a QuantError, as on the CPU', async () => {
    const weight = { rows: 2, cols: 2, data: new Float32Array([3e38, -3e38, 1, 2]) };
    await expect(quantGridGpu(gpu(), weight, { bits: 4, symmetric: false }, { kind: 'row' })).rejects.toThrow(QuantError);
    expect(() => quantizeRtn(weight, { bits: 4, symmetric: false }, { kind: 'row' })).toThrow(QuantError);
  });
});

test('the check fails on a code flip away from a near-tie, and on a zero point flip', () => {
  const c: QuantGridCase = quantGridCases.find((k) => k.name.startsWith('ragged: 13 × 200, 3-bit'))!;
  const ref = quantGridRef(c.weight, c.grid, c.granularity);
  const copy = () => ({ params: { ...ref.params, scales: ref.params.scales.slice(), zeroPoints: ref.params.zeroPoints.slice() }, codes: ref.codes.slice(), dequantized: ref.dequantized.slice() });
  expect(quantGridViolation(copy(), ref, c).flips).toBe(0);
  const code = copy();
  const i = ref.codes.findIndex((v) => v > 0 && v < 7);
  code.codes[i] += 1;
  expect(() => quantGridViolation(code, ref, c)).toThrow(/not a near-tie/);
  const zero = copy();
  zero.params.zeroPoints[3] += 1;
  expect(() => quantGridViolation(zero, ref, c)).toThrow(/zero point/);
});
