// AWQ's scale search against mit-han-lab/llm-awq _search_module_scale (fixtures/awq.json,
// fixtures/make_mx_awq_fixtures.py).
//
// Tolerances: candidate scales are float32 steps like the reference's, but torch's vectorised
// powf may differ from Math.pow by an ulp: rtol 3e-7 (2.5 float32 ulps). Errors: the reference's
// loss is a float32 mean of float32 matmul differences, the lab's a float64 sum: rtol 1e-5 (seen:
// 5e-7). The fixture script refuses cases whose best ratio is within 1e-3 of the runner-up, so α
// must match exactly, and the best scales then match to the bit.
import { describe, expect, test } from 'vitest';
import { activationScale, awqScales, foldInverseScale, searchAwqScale, searchAwqSharedScale } from './awq.ts';
import type { Matrix } from './types.ts';
import { f32, fixtureMatrix, readFixture, type AwqFixture } from './fixtures/mxAwqLoad.ts';
import { expectClose } from '../testing/expectClose.ts';
import { seededUniform } from '../testing/random.ts';

const fixture = readFixture<AwqFixture>('awq.json');
const inputs = fixtureMatrix(fixture.inputs);
const referenceActivation = f32(fixture.activationScale);
const SCALE_TOLERANCE = { atol: 0, rtol: 3e-7 };
const ERROR_TOLERANCE = { atol: 0, rtol: 1e-5 };

/** torch.round: half to even. */
function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return r - x === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/**
 * Test-only group RTN: llm-awq's pseudo_quantize_tensor (zero_point=True), in float32 steps.
 * scale = max(xmax − xmin, 1e-5) / (2^b − 1); zero = clamp(−round(xmin / scale), 0, 2^b − 1).
 */
function pseudoQuantize(weight: Matrix, bits: number, groupSize: number): Matrix {
  const { rows, cols, data } = weight;
  const maxInt = 2 ** bits - 1;
  const out = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++) {
    for (let g = 0; g < cols; g += groupSize) {
      const group = data.subarray(r * cols + g, r * cols + g + groupSize);
      let max = -Infinity;
      let min = Infinity;
      for (const v of group) {
        max = Math.max(max, v);
        min = Math.min(min, v);
      }
      const scale = Math.fround(Math.max(Math.fround(max - min), Math.fround(1e-5)) / maxInt);
      const zero = Math.min(Math.max(-roundHalfEven(Math.fround(min / scale)), 0), maxInt);
      group.forEach((v, k) => {
        const q = Math.min(Math.max(roundHalfEven(Math.fround(v / scale)) + zero, 0), maxInt);
        out[r * cols + g + k] = (q - zero) * scale;
      });
    }
  }
  return { rows, cols, data: out };
}

const { bits, groupSize } = fixture.quantizer;
const quantize = (w: Matrix) => pseudoQuantize(w, bits, groupSize);

describe('AWQ scale search matches _search_module_scale', () => {
  test('the fixture says how it was made; the test quantizer is pseudo_quantize_tensor', () => {
    expect(fixture.header.script).toBe('src/core/quant/fixtures/make_mx_awq_fixtures.py');
    expect(fixture.quantizer).toEqual({ bits: 4, groupSize: 32, zeroPoint: true });
    const q = quantize(fixtureMatrix(fixture.pseudoQuantize.weight));
    expectClose(q.data, f32(fixture.pseudoQuantize.quantized), { atol: 0, rtol: 0 }, 'pseudo_quantize_tensor');
  });

  test('s_X is get_act_scale (mean |x| per channel; the dead channel is 0)', () => {
    expectClose(activationScale(inputs), referenceActivation, { atol: 0, rtol: 2e-7 }, 's_X');
    expect(referenceActivation[29]).toBe(0);
  });

  test('the 20 candidate scale vectors', () => {
    const single = fixture.cases[0];
    (single.candidateScales ?? []).forEach((expected, i) => {
      expectClose(awqScales(referenceActivation, single.alphas[i]), f32(expected), SCALE_TOLERANCE, `α = ${single.alphas[i]}`);
    });
    expect(single.candidateScales?.length).toBe(20);
  });

  test.each(fixture.cases.map((c) => [c.name, c] as const))('%s: α, scales and the error of every α', (_, c) => {
    const weights = c.weights.map(fixtureMatrix);
    const result = searchAwqSharedScale(weights, inputs, referenceActivation, quantize);
    expect(Array.from(result.alphas)).toEqual(c.alphas);
    expectClose(result.errors, c.errors, ERROR_TOLERANCE, `${c.name} errors`);
    expect(result.alpha).toBe(c.alpha);
    expectClose(result.scales, f32(c.scales), SCALE_TOLERANCE, `${c.name} scales`);
    expectClose([result.error], [c.error], ERROR_TOLERANCE, `${c.name} best error`);
    expect(result.alpha).toBeGreaterThan(0); // the outlier channels make scaling worth it
  });
});

describe('AWQ search behaviour', () => {
  const random = seededUniform(11);
  const gaussian = () => Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
  const randomMatrix = (rows: number, cols: number, scale: number) => ({ rows, cols, data: Float32Array.from({ length: rows * cols }, () => gaussian() * scale) });

  /** mean over tokens and outputs of ((W − Ŵ) x)², written out plainly. */
  const plainError = (weight: Matrix, x: Matrix) => (q: readonly Matrix[]) => {
    let total = 0;
    for (let t = 0; t < x.rows; t++) {
      for (let r = 0; r < weight.rows; r++) {
        let dot = 0;
        for (let c = 0; c < weight.cols; c++) dot += (weight.data[r * weight.cols + c] - q[0].data[r * weight.cols + c]) * x.data[t * x.cols + c];
        total += dot * dot;
      }
    }
    return total / (x.rows * weight.rows);
  };

  test('default error: the Gram path (tokens > C_in) and the direct path (wasm float32 products) match the plain float64 sum', () => {
    const weight = randomMatrix(6, 32, 0.05);
    for (const tokens of [80, 16]) {
      const x = randomMatrix(tokens, 32, 1);
      const sX = activationScale(x);
      const fast = searchAwqScale(weight, x, sX, quantize);
      const plain = searchAwqScale(weight, x, sX, quantize, { blockError: plainError(weight, x) });
      // float32 products with float64 totals (docs/cpu-linalg.md): 2e-8 seen
      expectClose(fast.errors, plain.errors, { atol: 0, rtol: 1e-6 }, `${tokens} tokens`);
      expect(fast.alpha).toBe(plain.alpha);
    }
  });

  test('a quantizer that changes nothing: every α has error 0 and the first (α = 0) wins', () => {
    const weight = randomMatrix(4, 16, 1);
    const x = randomMatrix(20, 16, 1);
    const result = searchAwqScale(weight, x, activationScale(x), (w) => w);
    expect(result.alpha).toBe(0);
    expect(Array.from(result.scales).every((s) => s === 1)).toBe(true);
    expect(Math.max(...result.errors)).toBeLessThan(1e-12);
  });

  test('shapes and NaN are refused', () => {
    const weight = randomMatrix(4, 16, 1);
    const x = randomMatrix(20, 16, 1);
    expect(() => searchAwqSharedScale([], x, activationScale(x), quantize)).toThrow(RangeError);
    expect(() => searchAwqScale(randomMatrix(4, 8, 1), x, activationScale(x), quantize)).toThrow(RangeError);
    const bad = activationScale(x);
    bad[3] = NaN;
    expect(() => searchAwqScale(weight, x, bad, quantize)).toThrow(RangeError);
    expect(() => searchAwqScale(weight, x, activationScale(x), quantize, { blockError: () => NaN })).toThrow(/no candidate/);
  });
});

describe('foldInverseScale matches scale_ln_fcs and scale_fc_fc', () => {
  const { scales, before, after } = fixture.fold;
  const s = f32(scales);
  const EXACT = { atol: 0, rtol: 0 };

  test('LayerNorm weight and bias divided by s, consumers W·diag(s)', () => {
    const folded = foldInverseScale(s, { kind: 'norm', weight: f32(before.lnWeight), bias: f32(before.lnBias) }, before.fcs.map(fixtureMatrix));
    if (folded.source.kind !== 'norm') throw new Error('expected a norm');
    expectClose(folded.source.weight, f32(after.lnWeight), EXACT, 'ln weight');
    expectClose(folded.source.bias ?? [], f32(after.lnBias), EXACT, 'ln bias');
    folded.consumers.forEach((w, i) => expectClose(w.data, f32(after.fcs[i].data), EXACT, `fc ${i}`));
  });

  test('previous linear: output rows and bias divided by s', () => {
    const folded = foldInverseScale(s, { kind: 'linear', weight: fixtureMatrix(before.fc1Weight), bias: f32(before.fc1Bias) }, [fixtureMatrix(before.fc2Weight)]);
    if (folded.source.kind !== 'linear') throw new Error('expected a linear');
    expectClose(folded.source.weight.data, f32(after.fc1Weight.data), EXACT, 'fc1 weight');
    expectClose(folded.source.bias ?? [], f32(after.fc1Bias), EXACT, 'fc1 bias');
    expectClose(folded.consumers[0].data, f32(after.fc2Weight.data), EXACT, 'fc2 weight');
  });

  test('a fused producer: only its last C_in rows change; an activation gets an explicit 1/s', () => {
    const producer = randomRows(3 * s.length, 5);
    const folded = foldInverseScale(s, { kind: 'linear', weight: producer }, []);
    if (folded.source.kind !== 'linear') throw new Error('expected a linear');
    const split = 2 * s.length * 5;
    expect(Array.from(folded.source.weight.data.subarray(0, split))).toEqual(Array.from(producer.data.subarray(0, split)));
    expect(folded.source.weight.data[split]).toBe(Math.fround(producer.data[split] / s[0]));
    const activation = foldInverseScale(s, { kind: 'activation' }, []);
    expect(activation.source).toEqual({ kind: 'activation', divideOutputBy: s });
  });

  test('the folded pair computes the same function (up to float32 rounding)', () => {
    const ln = { kind: 'norm' as const, weight: f32(before.lnWeight), bias: f32(before.lnBias) };
    const fc = fixtureMatrix(before.fcs[0]);
    const folded = foldInverseScale(s, ln, [fc]);
    if (folded.source.kind !== 'norm') throw new Error('expected a norm');
    const xhat = Float32Array.from({ length: s.length }, (_, j) => Math.sin(j + 1));
    const out = (g: Float32Array, b: Float32Array, w: Matrix) =>
      Array.from({ length: w.rows }, (_, r) => xhat.reduce((sum, x, j) => sum + w.data[r * w.cols + j] * (x * g[j] + b[j]), 0));
    expectClose(out(folded.source.weight, folded.source.bias ?? ln.bias, folded.consumers[0]), out(ln.weight, ln.bias, fc), { atol: 1e-5, rtol: 1e-5 }, 'y');
  });
});

function randomRows(rows: number, cols: number): Matrix {
  const random = seededUniform(5);
  return { rows, cols, data: Float32Array.from({ length: rows * cols }, () => random() - 0.5) };
}
