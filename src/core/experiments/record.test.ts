// Experiment records through JSON: a real run's record (magnitude 50 % on the bundled LM, its
// report as compressModel wrote it) survives export and import unchanged; a malformed file or one
// of an unknown format or version is refused with the field's path.
import { describe, expect, test } from 'vitest';
import { bundledModel } from '../calibrate/fixtures/models.ts';
import { compressModel } from '../compress/pipeline.ts';
import { sha256Hex } from '../compress/sha256.ts';
import { writeModel } from '../onnx/write.ts';
import { parseRecipe, RecipeError } from '../recipe/index.ts';
import { experimentsFile, readExperimentsFile, readExperimentsText, type ExperimentRecord } from './record.ts';

const lm = bundledModel('kjv-charlm');
const recipe = parseRecipe({ version: 2, seed: 0, calibration: { samples: 8 }, stages: [{ kind: 'prune', method: 'magnitude', pattern: { kind: 'unstructured', sparsity: 0.5 } }] });

async function realRecord(): Promise<ExperimentRecord> {
  const bytes = writeModel(lm.model);
  const { report } = await compressModel({ model: lm.model, analysis: lm.analysis, recipe });
  return {
    id: 'exp-1',
    number: 1,
    status: 'done',
    startedAt: 1_800_000_000_000,
    finishedAt: 1_800_000_004_000,
    labVersion: '0.1.0',
    model: { label: 'KJV char LM', source: { kind: 'bundled', id: 'kjv-charlm' }, sha256: await sha256Hex(bytes), sizeBytes: bytes.byteLength },
    recipe,
    compute: { backend: 'cpu', poolSize: 2 },
    report,
    dense: { task: 'causal-lm', perplexity: 3.49, bitsPerChar: 1.8, top1: 0.6, meanNll: 1.25, evalTokens: 4064 },
    metrics: { task: 'causal-lm', perplexity: 4.1, bitsPerChar: 2.03, top1: 0.55, meanNll: 1.41, evalTokens: 4064 },
    interval: { metric: 'perplexity', delta: 0.61, low: 0.55, high: 0.68 },
  };
}

const problemsOf = (json: unknown): string[] => {
  try {
    readExperimentsFile(json);
  } catch (e) {
    if (e instanceof RecipeError) return e.problems;
    throw e;
  }
  return [];
};

describe('experiment records', () => {
  test('a real run’s record survives JSON export and import unchanged', async () => {
    const record = await realRecord();
    const interrupted: ExperimentRecord = { ...record, id: 'exp-2', number: 2, status: 'interrupted', report: undefined, metrics: undefined, interval: undefined, finishedAt: undefined };
    delete interrupted.report;
    delete interrupted.metrics;
    delete interrupted.interval;
    delete interrupted.finishedAt;
    const text = JSON.stringify(experimentsFile([record, interrupted]));
    expect(readExperimentsText(text)).toEqual([record, interrupted]);
  });

  test('unknown format or version, and every malformed field, is refused with its path', async () => {
    const record = await realRecord();
    const file = JSON.parse(JSON.stringify(experimentsFile([record])));
    expect(problemsOf({ ...file, format: 'something-else' })[0]).toMatch(/^format: not a Compression Lab experiments file/);
    expect(problemsOf({ ...file, version: 2 })[0]).toMatch(/^version: this lab reads experiments files of version 1, got 2/);
    const broken = (edit: (r: Record<string, any>) => void) => {
      const copy = structuredClone(file);
      edit(copy.records[0]);
      return problemsOf(copy).join('\n');
    };
    expect(broken((r) => (r.model.sha256 = 'xyz'))).toMatch(/records\[0\]\.model\.sha256: must be 64 lower-case hex digits/);
    expect(broken((r) => (r.status = 'finished'))).toMatch(/records\[0\]\.status: must be one of "running", "done"/);
    expect(broken((r) => (r.recipe.stages[0].pattern.sparsity = 'half'))).toMatch(/records\[0\]\.recipe: stages\[0\]\.pattern\.sparsity: must be a finite number/);
    expect(broken((r) => (r.report.layers[3].id = 7))).toMatch(/records\[0\]\.report\.layers\[3\]\.id: must be a string/);
    expect(broken((r) => (r.metrics.perplexity = -1))).toMatch(/records\[0\]\.metrics\.perplexity: must be ≥ 0/);
    expect(broken((r) => delete r.metrics)).toMatch(/records\[0\]: a finished run \(status "done"\) must hold its report and metrics/);
    expect(broken((r) => (r.extra = 1))).toMatch(/records\[0\]\.extra: unknown field/);
    expect(broken((r) => (r.number = 0))).toMatch(/records\[0\]\.number: must be an integer ≥ 1/);
    const twice = structuredClone(file);
    twice.records.push(structuredClone(twice.records[0]));
    expect(problemsOf(twice).join('\n')).toMatch(/records\[1\]\.id: "exp-1" appears twice/);
    expect(() => readExperimentsText('{"format":')).toThrow(/not valid JSON/);
  });
});
