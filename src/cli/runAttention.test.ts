// `lab run recipes/act-vit.json <digits-vit> -o out.onnx`: the attention stage's head table is
// printed (every candidate of layer 2 with its calibration NLL alone, Δ and Δ's 95 % interval, the
// guard, the selected set), and
// the written file opens with the ACT nodes when a head was selected.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, test } from 'vitest';
import { readModel } from '../core/onnx/read';
import { runLab } from './testing';

const scratch = mkdtempSync(join(tmpdir(), 'lab-run-act-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

test('lab run with an attention stage prints the head table and writes the calibrated file', async () => {
  const out = join(scratch, 'act.onnx');
  const { code, stdout, stderr } = await runLab('run', 'recipes/act-vit.json', 'public/models/digits-vit', '-o', out);
  expect(code, stderr).toBe(0);
  expect(stdout).toMatch(/search {8}mean NLL on calibration samples \(lower is better\), 128 samples; \d+ sets scored; layers skipped: 0, 1, 3/);
  expect(stdout).toMatch(/guard {9}interval: a head improves when the 95 % interval of its change lies below 0/);
  expect(stdout).toMatch(/layer {2}head {2}NLL alone\s+delta\s+95 % interval {2}improves {2}selected/);
  const rows = stdout.split('\n').filter((line) => /^\s+2\s+[0-3]\s+\d\.\d{4}\s+[+-]\d\.\d{4}\s+\[[+-]\d\.\d{4}, [+-]\d\.\d{4}\]\s+(yes|no)/.test(line));
  expect(rows).toHaveLength(4);
  const selected = /selected {6}(.*)/.exec(stdout)![1];
  const nodes = readModel(new Uint8Array(readFileSync(out))).graph!.node!;
  const actNodes = nodes.filter((n) => (n.name ?? '').includes('/act/')).length;
  if (selected.startsWith('none')) expect(actNodes).toBe(0);
  else expect(actNodes).toBeGreaterThan(0);
}, 60_000);
