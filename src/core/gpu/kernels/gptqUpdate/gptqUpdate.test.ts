// The GPTQ sweep on the device against the CPU GPTQ (quant/gptq.ts, its reference) on seeded
// layers, and against PyTorch running fasterquant (quant/fixtures/gptq.json, made by
// scripts/fixtures/quant_reference.py) under gptq.test.ts's own near-tie rule.
import { expect, test } from 'vitest';
import { describeGpu } from '../../testing/describeGpu';
import { FLIPPED_ROWS_ALLOWED as CASE_FLIPS_ALLOWED, gptqKernelCases, gptqViolation } from '../../testing/cases/gptqUpdate';
import { gptqGpuProblem, gptqQuantizeGpu } from './gptqUpdate.gpu';
import { gptqQuantizeRef } from './gptqUpdate.ref';
import { expectClose } from '../../../testing/expectClose';
import { describeGranularity, gptqLayer, readQuantFixture, type GptqCase, type GptqFixture } from '../../../quant/fixtures/load';
import { expectSelfConsistent, expectWeightsClose, FLIPPED_ROWS_ALLOWED, referenceOf, rowsFlippedAtTies } from '../../../quant/fixtures/gptqCompare';

const EXACT = { atol: 0, rtol: 0 };

describeGpu('gptqUpdate kernels vs the CPU GPTQ', (gpu) => {
  test.each(gptqKernelCases.map((c) => [c.name, c] as const))('%s', async (_, c) => {
    const got = await gptqQuantizeGpu(gpu(), c.weight, c.hessian, c.options);
    const ref = gptqQuantizeRef(c.weight, c.hessian, c.options);
    expect(gptqViolation(got, ref, c).flippedRows).toBe(0);
    // This adapter's f32 arithmetic is IEEE without contraction: bit-identical.
    expectClose(got.quantized.codes, ref.quantized.codes, EXACT, 'codes');
    expectClose(got.quantized.scales, ref.quantized.scales, EXACT, 'scales');
    expectClose(got.weight.data, ref.weight.data, EXACT, 'weights');
    expectSelfConsistent(got);
  });

  const fixture = readQuantFixture<GptqFixture>('gptq.json');
  const { weight, hessian } = gptqLayer(fixture);
  const cases = fixture.cases.filter((c): c is GptqCase => c.kind === 'gptq' && c.factorisation === 'float64' && !(c.mseClip && c.granularity.kind === 'group' && !c.staticGroups));
  test(`PyTorch fasterquant (fixtures/gptq.json): ${cases.length} settings, float64 factorisation, near-tie rule of gptq.test.ts`, async () => {
    expect(cases.length).toBe(14);
    for (const c of cases) {
      const label = `${c.bits}-bit ${describeGranularity(c.granularity)}${c.actOrder ? ' act-order' : ''}${c.staticGroups ? ' static' : ''}`;
      const options = { grid: { bits: c.bits, symmetric: c.symmetric }, granularity: c.granularity, blockSize: fixture.blockSize, percDamp: fixture.percDamp, actOrder: c.actOrder, staticGroups: c.staticGroups, mseClip: c.mseClip };
      const got = await gptqQuantizeGpu(gpu(), weight, hessian, options);
      const ref = referenceOf(fixture, c);
      const order = c.perm ?? Array.from({ length: weight.cols }, (_, j) => j);
      const flipped = rowsFlippedAtTies(got.quantized, ref, c, order);
      expect(flipped.length, label).toBeLessThanOrEqual(FLIPPED_ROWS_ALLOWED);
      expectWeightsClose(got.weight, ref, flipped);
      if (ref.groupIndex) expect(Array.from(got.quantized.groupIndex ?? []), label).toEqual(Array.from(ref.groupIndex));
    }
  });

  test('progress after every block, and a throw between blocks (cancel) ends the sweep', async () => {
    const c = gptqKernelCases.find((k) => k.name.startsWith('13 × 200, 3-bit'))!;
    const ends: number[] = [];
    await gptqQuantizeGpu(gpu(), c.weight, c.hessian, c.options, (end) => ends.push(end));
    expect(ends).toEqual([64, 128, 192, 200]);
    const cancelAt = (end: number) => {
      if (end >= 128) throw new Error('cancelled');
    };
    await expect(gptqQuantizeGpu(gpu(), c.weight, c.hessian, c.options, cancelAt)).rejects.toThrow('cancelled');
  });
});

test('what has no kernel is named: blocks over 128, the MSE search of dynamic groups', () => {
  const grid = { bits: 4, symmetric: false };
  expect(gptqGpuProblem({ grid, granularity: { kind: 'row' }, blockSize: 256 })).toMatch(/blocks over 128/);
  expect(gptqGpuProblem({ grid, granularity: { kind: 'group', size: 32 }, mseClip: true })).toMatch(/MSE clip search/);
  expect(gptqGpuProblem({ grid, granularity: { kind: 'group', size: 32 }, mseClip: true, staticGroups: true })).toBeNull();
  expect(gptqGpuProblem({ grid, granularity: { kind: 'row' }, mseClip: true })).toBeNull();
});

test('the check fails when more rows flip than the contract allows, or a kept row drifts', () => {
  const c = gptqKernelCases.find((k) => k.name.startsWith('24 × 160'))!;
  const ref = gptqQuantizeRef(c.weight, c.hessian, c.options);
  const copy = () => ({ quantized: { ...ref.quantized, codes: ref.quantized.codes.slice() }, weight: { ...ref.weight, data: ref.weight.data.slice() } });
  const flipped = copy();
  for (let r = 0; r <= CASE_FLIPS_ALLOWED; r++) flipped.quantized.codes[r * 160 + 7] ^= 1;
  expect(() => gptqViolation(flipped, ref, c)).toThrow(/codes differ in 2 rows/);
  const drifted = copy();
  drifted.weight.data[3 * 160 + 50] += 1e-3;
  expect(() => gptqViolation(drifted, ref, c)).toThrow(/weights/);
});
