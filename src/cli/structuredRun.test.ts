// `lab run` with the structured stage: the example recipes run on the bundled models and write a
// smaller dense model (ORT-readable shapes the analysis sees again); the same run twice writes the
// same bytes; an impossible recipe exits non-zero with one line naming the field.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { analyzeModel } from '../core/model/analyze';
import { readModel } from '../core/onnx';
import { runLab } from './testing';

const scratch = mkdtempSync(join(tmpdir(), 'lab-structured-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

function recipe(name: string, patch: (json: { calibration: { samples: number }; stages: Record<string, unknown>[] }) => void = () => {}): string {
  const json = JSON.parse(readFileSync(join('recipes', name), 'utf8'));
  json.calibration.samples = 8;
  patch(json);
  const path = join(scratch, name);
  writeFileSync(path, JSON.stringify(json));
  return path;
}

describe('lab run with a structured stage', () => {
  test('CFSP 30 % on the bundled LM: the stage line, a smaller file, the same bytes twice', async () => {
    const r = recipe('structured-cfsp-30.json');
    const [a, b] = [join(scratch, 'a.onnx'), join(scratch, 'b.onnx')];
    const first = await runLab('run', r, 'public/models/kjv-charlm', '-o', a, '--no-latency');
    expect(first.code).toBe(0);
    expect(first.stdout).toMatch(/stage 0 +structured: CFSP \(global ratio 0\.\d+\): neurons kept per block( \d+,){5} \d+ of 512; linear parameters 1194624 → \d+/);
    expect((await runLab('run', r, 'public/models/kjv-charlm', '-o', b, '--no-latency')).code).toBe(0);
    expect(Buffer.compare(readFileSync(a), readFileSync(b))).toBe(0);
    const downs = analyzeModel(readModel(new Uint8Array(readFileSync(a)))).linears.filter((l) => l.role === 'mlp.down');
    expect(downs.every((l) => l.inFeatures % 8 === 0 && l.inFeatures <= 512)).toBe(true);
    expect(downs.reduce((s, l) => s + l.inFeatures, 0)).toBeLessThanOrEqual(0.7 * 6 * 512);
  });

  test('an impossible recipe exits non-zero with one line naming the field', async () => {
    const r = recipe('structured-cfsp-30.json', (json) => (json.stages[0].remove = 'heads'));
    const result = await runLab('run', r, 'public/models/kjv-charlm', '-o', join(scratch, 'c.onnx'));
    expect(result.code).not.toBe(0);
    expect(result.stderr).toMatch(/stages\[0\]\.remove: CFSP prunes MLP neurons only/);
    expect(result.stderr).not.toMatch(/\n\s+at /);
  });
});
