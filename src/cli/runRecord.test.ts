// `lab run … --json` prints the run's experiment record; `lab run "<share link>"` runs the link's
// recipe on its model and confirms the weights hash; a hostile or malformed link is one line on
// stderr and exit status 1, never a stack trace.
import { describe, expect, test } from 'vitest';
import { experimentsFile, readExperimentsFile, shareUrl, SHARE_LINK_VERSION, type ExperimentRecord, type SharePayload } from '../core/experiments';
import { parseRecipe } from '../core/recipe';
import { runLab } from './testing';

const recipe = parseRecipe({ version: 2, seed: 0, calibration: { samples: 8 }, stages: [{ kind: 'prune', method: 'magnitude', pattern: { kind: 'unstructured', sparsity: 0.5 } }] });

describe('lab run: records and share links', () => {
  test('--json prints a record the import reader accepts; a share link of it reproduces the weights hash', async () => {
    const { writeFileSync, mkdtempSync } = await import('node:fs');
    const { join } = await import('node:path');
    const { tmpdir } = await import('node:os');
    const dir = mkdtempSync(join(tmpdir(), 'lab-record-'));
    const recipePath = join(dir, 'recipe.json');
    writeFileSync(recipePath, JSON.stringify(recipe));
    const ran = await runLab('run', recipePath, 'public/models/kjv-charlm', '--json');
    expect(ran.code, ran.stderr).toBe(0);
    const record = JSON.parse(ran.stdout).record as ExperimentRecord;
    expect(readExperimentsFile(JSON.parse(JSON.stringify(experimentsFile([record]))))).toEqual([record]);
    expect(record.metrics!.task).toBe('causal-lm');
    expect(record.interval!.low).toBeLessThanOrEqual(record.interval!.delta);
    expect(record.interval!.delta).toBeLessThanOrEqual(record.interval!.high);

    const payload: SharePayload = {
      v: SHARE_LINK_VERSION,
      model: { kind: 'bundled', id: 'kjv-charlm' },
      recipe,
      view: { tab: 'Overview' },
      result: { metric: 'perplexity', dense: 3.49, value: 3.78, sizeBytes: 4_978_830, denseSizeBytes: 4_978_830, weightsSha256: record.report!.weightsSha256, compute: 'cpu', labVersion: record.labVersion },
    };
    const link = shareUrl('http://localhost:5173/', payload);
    const shared = await runLab('run', link, '--json');
    expect(shared.code, shared.stderr).toBe(0);
    expect(JSON.parse(shared.stdout).reproduced).toMatchObject({ match: true, ok: true });

    const wrong = shareUrl('http://localhost:5173/', { ...payload, result: { ...payload.result!, weightsSha256: '0'.repeat(64) } });
    const mismatch = await runLab('run', wrong, '-o', join(dir, 'out.onnx'));
    expect(mismatch.code).toBe(1);
    expect(mismatch.stderr.trim().split('\n').at(-1)).toMatch(/^error: not reproduced: weights SHA-256 [0-9a-f]{16}… differs from the shared run's 0000000000000000…/);
  }, 120_000);

  test('hostile and malformed links: one line, exit 1, no stack trace', async () => {
    const good = shareUrl('http://x/', { v: SHARE_LINK_VERSION, model: { kind: 'bundled', id: 'kjv-charlm' }, recipe, view: {} });
    const cases: [string, RegExp][] = [
      ['http://x/#share=1.@@@', /characters a share link never has/],
      [good.slice(0, good.length - 12), /cut short|damaged/],
      ['http://x/#share=9.abc', /format version 9/],
      [shareUrl('http://x/', { v: SHARE_LINK_VERSION, model: { kind: 'bundled', id: 'no-such-model' }, recipe, view: {} }), /"no-such-model" is not one of this lab's bundled models/],
      [shareUrl('http://x/', { v: SHARE_LINK_VERSION, model: { kind: 'file', name: 'mine.onnx', sha256: 'a'.repeat(64) }, recipe, view: {} }), /made with your own model "mine\.onnx": pass that file/],
    ];
    for (const [link, message] of cases) {
      const out = await runLab('run', link, '--json');
      expect(out.code).toBe(1);
      const lines = out.stderr.trim().split('\n');
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(/^error: /);
      expect(lines[0]).toMatch(message);
    }
    const wrongFile = await runLab('run', shareUrl('http://x/', { v: SHARE_LINK_VERSION, model: { kind: 'file', name: 'mine.onnx', sha256: 'a'.repeat(64) }, recipe, view: {} }), 'public/models/kjv-charlm/model.onnx', '--json');
    expect(wrongFile.code).toBe(1);
    expect(wrongFile.stderr).toMatch(/has SHA-256 [0-9a-f]{12}…, but the link's model "mine\.onnx" has aaaaaaaaaaaa…/);
  }, 120_000);

  test('lab sweep: one record per value, the dense model once, the table; a bad value named with its path', async () => {
    const { mkdtempSync, writeFileSync } = await import('node:fs');
    const { join } = await import('node:path');
    const { tmpdir } = await import('node:os');
    const recipePath = join(mkdtempSync(join(tmpdir(), 'lab-sweep-')), 'recipe.json');
    writeFileSync(recipePath, JSON.stringify(recipe));
    const out = await runLab('sweep', recipePath, 'public/models/kjv-charlm', '--param', 'stages[0].pattern.sparsity', '--values', '0.2,0.6', '--json');
    expect(out.code, out.stderr).toBe(0);
    const { records, values } = JSON.parse(out.stdout) as { records: ExperimentRecord[]; values: number[] };
    expect(values).toEqual([0.2, 0.6]);
    expect(records.map((r) => r.report!.totals.achievedSparsityPruned.toFixed(2))).toEqual(['0.20', '0.60']);
    expect(records[0].dense).toEqual(records[1].dense);
    const p = (r: ExperimentRecord) => (r.metrics as { perplexity: number }).perplexity;
    expect(p(records[1])).toBeGreaterThan(p(records[0]));
    const bad = await runLab('sweep', recipePath, 'public/models/kjv-charlm', '--param', 'stages[0].pattern.sparsity', '--values', '0.5,1.5');
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/^error: invalid recipe: value 1\.5: stages\[0\]\.pattern: sparsity must be in \[0, 1\)/);
  }, 120_000);
});
