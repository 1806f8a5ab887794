// Issue 15: a model file evaluated away from its folder, on its set named with --dataset, must be
// fed exactly as in its folder. The preprocessing travels with the set, never with the card, so a
// byte copy of the ViT gets the card's 99.17 %, not the 16 % that raw pixels give.
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { runLab } from './testing';

const scratch = mkdtempSync(join(tmpdir(), 'lab-eval-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

const lab = runLab;

const metricsOf = (stdout: string) => (JSON.parse(stdout) as { metrics: Record<string, number> }).metrics;

describe('lab eval <copy.onnx> --dataset <set>', () => {
  for (const id of ['digits-vit', 'kjv-charlm']) {
    test(`a byte copy of ${id} outside its folder gets its card's metrics`, async () => {
      const folder = join('public/models', id);
      const card = JSON.parse(readFileSync(join(folder, 'model.json'), 'utf8')) as { denseMetrics: Record<string, number> };
      const copy = join(scratch, `${id}-copy.onnx`);
      copyFileSync(join(folder, 'model.onnx'), copy);
      const [inFolder, away] = await Promise.all([lab('eval', folder, '--json'), lab('eval', copy, '--dataset', join(folder, 'eval.json'), '--json')]);
      expect(away.code).toBe(0);
      const metrics = metricsOf(away.stdout);
      // Same bytes, same set, same feeding: the same numbers as in the folder, bit for bit.
      expect(metrics).toEqual(metricsOf(inFolder.stdout));
      // And the card's (PyTorch) numbers: top-1 exactly, the NLL to ORT-vs-PyTorch rounding.
      expect(metrics.top1).toBe(card.denseMetrics.top1);
      expect(Math.abs(metrics.meanNll - card.denseMetrics.meanNll)).toBeLessThan(1e-5);
    }, 60_000);
  }

  test('an image set that does not say how to feed its values is refused in one line', async () => {
    const set = JSON.parse(readFileSync('public/models/digits-vit/eval.json', 'utf8')) as Record<string, unknown>;
    delete set.preprocess;
    const bare = join(scratch, 'no-preprocess.json');
    writeFileSync(bare, JSON.stringify(set));
    const copy = join(scratch, 'vit.onnx');
    copyFileSync('public/models/digits-vit/model.onnx', copy);
    const { code, stdout, stderr } = await lab('eval', copy, '--dataset', bare);
    expect(code).not.toBe(0);
    expect(stdout).not.toMatch(/accuracy/i);
    const lines = stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/no-preprocess\.json: image set lacks "preprocess".*refusing to guess/);
  }, 60_000);
});
