// Bad input to the CLI (issue 7): paths in model.json and external_data locations that leave the
// model's folder are refused before anything is opened, no message quotes a file's contents,
// every failure is one short line on stderr with exit status 1 and no stack trace, and `prune`
// refuses a model that ONNX Runtime would refuse (data outside its folder, raw_data too short).
// Every file is generated here, in a scratch folder, from the bundled LM.
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { readModel, writeModel } from '../core/onnx';
import type { ModelProto, TensorProto } from '../core/onnx';
import { runLab, type LabOutcome } from './testing';

const scratch = mkdtempSync(join(tmpdir(), 'lab-hostile-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

const BUNDLED = 'public/models/kjv-charlm';
const SECRET = 'PRIVATE-KEY-0123456789abcdef';
mkdirSync(join(scratch, 'outside'));
writeFileSync(join(scratch, 'outside', 'secret'), `${SECRET}\n`);
writeFileSync(join(scratch, 'outside', 'weights.bin'), new Uint8Array(128 * 4));
writeFileSync(join(scratch, 'recipe.json'), JSON.stringify({ method: 'magnitude', magnitudeScope: 'layer', pattern: 'unstructured', sparsity: 0.5 }));

const lab = runLab;

/** A copy of the bundled LM's folder, with its card and model changed by the callbacks. */
function modelFolder(name: string, edit: { card?: (card: Record<string, unknown>) => void; model?: (model: ModelProto) => void } = {}): string {
  const dir = join(scratch, name);
  mkdirSync(dir);
  for (const file of ['eval.json', 'calib.json', 'vocab.json']) copyFileSync(join(BUNDLED, file), join(dir, file));
  const card = JSON.parse(readFileSync(join(BUNDLED, 'model.json'), 'utf8')) as Record<string, unknown>;
  edit.card?.(card);
  writeFileSync(join(dir, 'model.json'), JSON.stringify(card));
  if (edit.model) {
    const model = readModel(new Uint8Array(readFileSync(join(BUNDLED, 'model.onnx'))));
    edit.model(model);
    writeFileSync(join(dir, 'model.onnx'), writeModel(model));
  } else copyFileSync(join(BUNDLED, 'model.onnx'), join(dir, 'model.onnx'));
  return dir;
}

const setFile = (key: string, value: unknown) => (card: Record<string, unknown>) => {
  (card.files as Record<string, unknown>)[key] = value;
};

/** The first float initializer of the given rank (a LayerNorm weight for 1, a linear weight for 2). */
function floatInitializer(model: ModelProto, rank: number): TensorProto {
  return model.graph!.initializer!.find((t) => t.dims?.length === rank && t.dataType === 1 && t.rawData !== undefined)!;
}

/** One line of at most a few hundred characters, exit status 1, no stack trace, nothing secret. */
function expectRefusal(outcome: LabOutcome, message: RegExp): void {
  expect(outcome.code).toBe(1);
  const lines = outcome.stderr.trimEnd().split('\n');
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(/^error: /);
  expect(lines[0]).toMatch(message);
  expect(lines[0].length).toBeLessThanOrEqual(420);
  expect(outcome.stderr).not.toMatch(/\n\s+at /);
  expect(outcome.stderr + outcome.stdout).not.toContain('PRIVATE');
}

describe('model.json paths stay inside the model folder', () => {
  test.concurrent.each([
    ['files.model', '../outside/secret', /files\.model: "\.\.\/outside\/secret" climbs out of the model's folder/],
    ['files.eval', '../outside/secret', /files\.eval: .* climbs out of the model's folder/],
    ['files.calib', 'sub/../../outside/secret', /files\.calib: .* climbs out of the model's folder/],
    ['files.vocab', '/etc/passwd', /files\.vocab: "\/etc\/passwd" is an absolute path/],
    ['files.model', '/dev/zero', /files\.model: "\/dev\/zero" is an absolute path/],
    ['files.model', 'C:\\Windows\\win.ini', /files\.model: .* starts with a drive letter/],
  ])('%s = %s is refused before anything is opened', async (field, value, message) => {
    const dir = modelFolder(`path-${field}-${value.replace(/\W/g, '_')}`, { card: setFile(field.slice('files.'.length), value) });
    expectRefusal(await lab('info', dir), message);
  });

  test.concurrent.each([
    ['files.model = 5', setFile('model', 5), /files\.model: must be a string \(a path inside the model's folder\), not a number/],
    ['files missing', (card: Record<string, unknown>) => delete card.files, /: files: required object is missing/],
    ['task = 7', (card: Record<string, unknown>) => (card.task = 7), /: task: must be a string, not a number/],
    ['denseMetrics.top1 = "high"', (card: Record<string, unknown>) => ((card.denseMetrics as Record<string, unknown>).top1 = 'high'), /denseMetrics\.top1: must be a number, not a string/],
  ])('a model card with %s names the field', async (title, edit, message) => {
    const dir = modelFolder(`card-${title.replace(/\W/g, '_')}`, { card: edit });
    expectRefusal(await lab('info', dir), message);
  });
});

describe('files are read only as what they should be', () => {
  test.concurrent('an eval.json that is not JSON is named, never quoted', async () => {
    const dir = modelFolder('eval-not-json');
    writeFileSync(join(dir, 'eval.json'), `${SECRET}\n`);
    expectRefusal(await lab('eval', dir), /eval\.json: not valid JSON at line 1, column 1 \(expected an evaluation set\)/);
  });

  test.concurrent('a recipe that is not JSON is named, never quoted', async () => {
    expectRefusal(await lab('prune', '--recipe', join(scratch, 'outside', 'secret'), BUNDLED, '-o', join(scratch, 'never.onnx')), /secret: not valid JSON at line 1, column 1 \(expected a recipe\)/);
  });

  test.concurrent('a recipe nested 100 000 levels deep is refused at its depth, not by a stack overflow', async () => {
    const deep = join(scratch, 'deep-recipe.json');
    writeFileSync(deep, `{"method": "magnitude", "pattern": ${'['.repeat(100_000)}${']'.repeat(100_000)}}`);
    expectRefusal(await lab('prune', '--recipe', deep, BUNDLED, '-o', join(scratch, 'never.onnx')), /deep-recipe\.json: JSON nested deeper than 100 levels at line 1, column 135 \(expected a recipe\); refused/);
  });

  test.concurrent('a device is refused as not a regular file', async () => {
    expectRefusal(await lab('info', '/dev/zero'), /\/dev\/zero: is a device, not a regular file \(expected an ONNX model\); refused/);
    expectRefusal(await lab('eval', BUNDLED, '--dataset', '/dev/zero'), /\/dev\/zero: is a device, not a regular file \(expected an evaluation set\)/);
  });
});

describe('prune refuses what ONNX Runtime would refuse', () => {
  test.concurrent('a weight whose external_data points outside the folder', async () => {
    const dir = modelFolder('external-outside', {
      model: (model) => {
        const tensor = floatInitializer(model, 1);
        delete tensor.rawData;
        tensor.dataLocation = 1;
        tensor.externalData = [{ key: 'location', value: '../outside/weights.bin' }, { key: 'length', value: String(128 * 4) }];
      },
    });
    const out = join(scratch, 'external-outside.onnx');
    expectRefusal(await lab('prune', '--recipe', join(scratch, 'recipe.json'), dir, '-o', out), /external_data "location" "\.\.\/outside\/weights\.bin" climbs out of the model's folder/);
    expect(existsSync(out)).toBe(false);
  });

  test.concurrent('a weight whose external_data file sits in the folder is read', async () => {
    const source = readModel(new Uint8Array(readFileSync(join(BUNDLED, 'model.onnx'))));
    const payload = floatInitializer(source, 2).rawData!.slice();
    const dir = modelFolder('external-inside', {
      model: (model) => {
        const tensor = floatInitializer(model, 2);
        delete tensor.rawData;
        tensor.dataLocation = 1;
        tensor.externalData = [{ key: 'location', value: './weights.bin' }];
      },
    });
    writeFileSync(join(dir, 'weights.bin'), payload);
    const outcome = await lab('info', dir, '--json');
    expect(outcome.code).toBe(0);
    expect((JSON.parse(outcome.stdout) as { analysis: { linears: unknown[] } }).analysis.linears).toHaveLength(37);
  });

  test.concurrent('a LayerNorm weight whose raw_data is shorter than its shape', async () => {
    const dir = modelFolder('short-raw-data', {
      model: (model) => {
        const tensor = floatInitializer(model, 1);
        tensor.rawData = tensor.rawData!.subarray(0, 12);
      },
    });
    const out = join(scratch, 'short-raw-data.onnx');
    expectRefusal(await lab('prune', '--recipe', join(scratch, 'recipe.json'), dir, '-o', out), /raw_data has 12 bytes, but dims \[128\] of float32 need 512/);
    expect(existsSync(out)).toBe(false);
  });

  test.concurrent('a message about a tensor with a 98 630-character name stays short', async () => {
    const dir = modelFolder('long-name', {
      model: (model) => {
        const tensor = floatInitializer(model, 1);
        const long = 'blocks.0.ln.weight'.repeat(5480).slice(0, 98_630);
        for (const node of model.graph!.node!) node.input = node.input?.map((input) => (input === tensor.name ? long : input));
        tensor.name = long;
        tensor.rawData = tensor.rawData!.subarray(0, 12);
      },
    });
    expectRefusal(await lab('prune', '--recipe', join(scratch, 'recipe.json'), dir, '-o', join(scratch, 'long-name.onnx')), /TensorProto "blocks\.0\.ln\.weight.*….*\(98,630 characters\)": raw_data has 12 bytes/);
  });
});
