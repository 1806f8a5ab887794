// `lab run <recipe> <bert-folder> --text F` as users run it, on a generated 2-block BERT folder
// (npm run gen:hf --preset bert-base, narrowed) and the bundled public-domain text: the masked-token
// accuracy is printed for the dense and the compressed model, calibration runs block by block, and
// the dense figures are those of the folder evaluated here on the same masked windows.
import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { openRunner } from '../core/calibrate/fixtures/models';
import { evaluateMaskedLm, maskedLmMetrics, maskingTokens, splitMaskedText } from '../core/hf/maskedLm';
import { openHfFolder } from '../core/hf/openFolder';
import { corpusText, diskEntries, generatedFolder } from '../core/hf/testing/generatedFolders';
import { writeModel } from '../core/onnx';
import { expectClose } from '../core/testing/expectClose';
import { hfRunScratch, runLab } from './testing';

const { scratch, textPath, recipe } = hfRunScratch('lab-hfenc-');

interface Interval {
  value: number;
  low: number;
  high: number;
}
interface Printed {
  metric: string;
  split: { calibWindows: number[]; evalWindows: number[]; maskedPositions: number };
  dense: { accuracy: Interval; nll: Interval; chosen: number };
  compressed: { accuracy: Interval; nll: Interval; chosen: number };
  report: { totals: { sparsity: number }; calibration: { sequence: string } };
}

describe('lab run on a BERT-style encoder folder', () => {
  test('Wanda 50 %: masked-token accuracy dense and compressed; the dense figures are the folder evaluated on the same masked windows', async () => {
    const result = await runLab('run', recipe('wanda-50.json'), generatedFolder('bert'), '--text', textPath, '--seq-len', '32', '--json');
    expect(result.code, result.stderr).toBe(0);
    const printed = JSON.parse(result.stdout) as Printed;
    expect(printed.metric).toBe('masked-token accuracy');
    expect(printed.report.calibration.sequence).toBe('blockwise');
    expect(printed.split.calibWindows.filter((w) => printed.split.evalWindows.includes(w))).toEqual([]);
    expect(printed.compressed.chosen).toBe(printed.split.maskedPositions);

    const opened = await openHfFolder(diskEntries(generatedFolder('bert')));
    const tokenizer = opened.tokenizer!.tokenizer;
    const split = splitMaskedText(corpusText(), tokenizer, maskingTokens(tokenizer, 'tokenizer_config.json'), { seqLen: 32, calibShare: 0.5, seed: 0 });
    const runner = await openRunner(writeModel(opened.model));
    const dense = maskedLmMetrics(await evaluateMaskedLm(runner, split.eval, 32));
    await runner.release();
    expectClose([dense.accuracy.value, dense.nll.value, dense.nll.low, dense.nll.high], [printed.dense.accuracy.value, printed.dense.nll.value, printed.dense.nll.low, printed.dense.nll.high], { rtol: 1e-9, atol: 0 }, 'dense figures');
    // The compressed model is not the dense one: pruning half of every block's weights moves the NLL.
    expect(printed.compressed.nll.value).not.toBe(printed.dense.nll.value);
  }, 180_000);

  test('GPTQ 4-bit: the printed lines name the metric, with intervals', async () => {
    const result = await runLab('run', recipe('gptq-4bit-g32.json'), generatedFolder('bert'), '--text', textPath, '--seq-len', '32');
    expect(result.code, result.stderr).toBe(0);
    for (const label of ['dense', 'compressed']) {
      expect(result.stdout).toMatch(new RegExp(`^${label}\\s+masked-token accuracy [\\d.]+ % \\[[\\d.]+ %, [\\d.]+ %\\] \\(95 % bootstrap over \\d+ windows, \\d+ positions\\), NLL [\\d.]+ \\[[\\d.]+, [\\d.]+\\] nats$`, 'm'));
    }
    expect(result.stdout).toMatch(/^masking\s+BERT's rule/m);
  }, 180_000);

  test('a tokenizer_config.json without mask_token is one line naming the file and the field', async () => {
    const folder = join(scratch, 'bert-no-mask');
    cpSync(generatedFolder('bert'), folder, { recursive: true });
    const config = JSON.parse(readFileSync(join(folder, 'tokenizer_config.json'), 'utf8'));
    delete config.mask_token;
    writeFileSync(join(folder, 'tokenizer_config.json'), JSON.stringify(config));
    const result = await runLab('run', recipe('wanda-50.json'), folder, '--text', textPath, '--seq-len', '32');
    expect(result.code).not.toBe(0);
    expect(result.stderr.trim().split('\n').at(-1)).toMatch(/tokenizer_config\.json: mask_token: required for masked-token accuracy/);
  }, 120_000);
});
