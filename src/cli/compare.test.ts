// `lab compare <baseline> <candidate>`: the bundled LM against its 50 % magnitude-pruned copy
// written by `lab run recipes/magnitude-50.json` gives a perplexity change whose paired interval
// excludes 0, and the same numbers as pairedBootstrap on evaluateWithSamples in process; the text
// verdict; a bad seed is one short error.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { bundledModel, openRunner } from '../core/calibrate/fixtures/models.ts';
import { pairedBootstrap, type PairedInterval } from '../core/eval/bootstrap.ts';
import { evaluateWithSamples } from '../core/eval/evaluate.ts';
import { describeInterval } from './compare.ts';
import { runLab } from './testing';

const scratch = mkdtempSync(join(tmpdir(), 'lab-compare-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

const lab = runLab;

const lmDir = 'public/models/kjv-charlm';

describe('lab compare', () => {
  test('dense LM vs its 50 % magnitude copy: perplexity Δ outside noise, as computed in process', async () => {
    const pruned = join(scratch, 'magnitude-50.onnx');
    expect((await lab('run', 'recipes/magnitude-50.json', lmDir, '-o', pruned)).code).toBe(0);
    const cmp = await lab('compare', lmDir, pruned, '--dataset', join(lmDir, 'eval.json'), '--seed', '11', '--json');
    expect(cmp.code).toBe(0);
    const out = JSON.parse(cmp.stdout) as { intervals: PairedInterval[] };
    const ppl = out.intervals.find((r) => r.metric === 'perplexity')!;
    expect(ppl.withinNoise).toBe(false);
    expect(ppl.low).toBeGreaterThan(0);
    expect(ppl.seed).toBe(11);

    const lm = bundledModel('kjv-charlm');
    const evalSamples = async (bytes: Uint8Array) => {
      const runner = await openRunner(bytes);
      try {
        return (await evaluateWithSamples(runner, lm.eval)).samples;
      } finally {
        await runner.release();
      }
    };
    const expected = pairedBootstrap(await evalSamples(lm.bytes), await evalSamples(new Uint8Array(readFileSync(pruned))), { seed: 11 });
    expect(ppl).toEqual(expected);
  }, 60_000);

  test('the text report says whether a change is within noise', () => {
    const base = { metric: 'perplexity' as const, resamples: 2000, level: 0.95, seed: 0, samples: 32 };
    expect(describeInterval({ ...base, delta: 0.28941, low: 0.23171, high: 0.35966, withinNoise: false })).toBe('Δ +0.2894 [+0.2317, +0.3597] outside noise');
    expect(describeInterval({ ...base, delta: -0.001, low: -0.0123, high: 0.004, withinNoise: true })).toBe('Δ −0.0010 [−0.0123, +0.0040] within noise');
  });

  test('a seed that is not an integer is refused in one line', async () => {
    const r = await lab('compare', lmDir, lmDir, '--seed', 'x');
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^error: --seed must be a non-negative integer/);
  });
});
