// `lab run <recipe> <hf-folder> --text F` on a BERT-style encoder: masked-token accuracy (and the
// masked-LM NLL) on the user's text instead of perplexity, for the dense and the compressed model.
// The text's windows are wrapped and masked by src/core/hf/maskedLm.ts; calibration runs on the
// calibration share (masked the same way), block by block through the same compressOnDisk.
import { join, resolve } from 'node:path';
import type { Recipe } from '../core/recipe';
import type { BackendPreference } from '../core/eval/runner';
import { evaluateMaskedLm, maskedLmMetrics, maskingTokens, splitMaskedText, type MaskedLmMetrics, type MaskedTextSplit } from '../core/hf/maskedLm';
import type { OpenedHfFolder } from '../core/hf/openFolder';
import type { Progress } from '../core/job';
import { writeModel } from '../core/onnx';
import { createRunner } from '../runtime/ort';
import { showPath } from './files';
import { fitCalibrationSamples } from './hfFolder';
import { compressOnDisk, printReport } from './run';

export interface EncoderRunOptions {
  text: string;
  seqLen: number;
  calibShare: number;
  backend: BackendPreference;
  json: boolean;
}

async function maskedFigures(bytes: Uint8Array, split: MaskedTextSplit, backend: BackendPreference, seed: number): Promise<MaskedLmMetrics> {
  const { runner } = await createRunner(bytes, { backend, numThreads: 1 });
  try {
    return maskedLmMetrics(await evaluateMaskedLm(runner, split.eval, split.seqLen), { seed });
  } finally {
    await runner.release();
  }
}

const pct = (v: number) => `${(100 * v).toFixed(2)} %`;
const line = (label: string, m: MaskedLmMetrics) =>
  `${label.padEnd(16)}masked-token accuracy ${pct(m.accuracy.value)} [${pct(m.accuracy.low)}, ${pct(m.accuracy.high)}] (95 % bootstrap over ${m.windows} windows, ${m.chosen} positions), NLL ${m.nll.value.toFixed(4)} [${m.nll.low.toFixed(4)}, ${m.nll.high.toFixed(4)}] nats`;

export async function maskedLmRun(folder: string, opened: OpenedHfFolder, asWritten: Recipe, options: EncoderRunOptions): Promise<void> {
  if (!opened.tokenizer) throw new Error(`${showPath(folder)}: no tokenizer.json: you can still compress the weights, but not evaluate masked tokens on text`);
  const tokenizer = opened.tokenizer.tokenizer;
  const tokens = maskingTokens(tokenizer, showPath(join(folder, opened.plan.pieces.tokenizerConfig?.path ?? 'tokenizer_config.json')));
  const split = splitMaskedText(options.text, tokenizer, tokens, { seqLen: options.seqLen, calibShare: options.calibShare, seed: asWritten.seed });
  const log = (text: string) => (options.json ? console.error(text) : console.log(text));
  const recipe = fitCalibrationSamples(asWritten, split.calib.sequences.length, log);
  log(`folder          ${showPath(folder)}: ${opened.plan.model.path}, ${opened.config?.config.modelType ?? 'encoder'} (masked LM)`);
  log(`text            ${split.tokens.toLocaleString('en')} tokens → ${split.calibWindows.length + split.evalWindows.length} windows of ${options.seqLen} (with ${tokens.template.prefix.length + tokens.template.suffix.length} special): ${split.calibWindows.length} for calibration, ${split.evalWindows.length} for evaluation (disjoint; ${split.leftOver} tokens left over)`);
  log(`masking         BERT's rule (DataCollatorForLanguageModeling): 15 % of positions chosen, of them 80 % [MASK], 10 % random, 10 % kept; ${split.maskedPositions} positions scored`);
  const denseBytes = writeModel(opened.model);
  const onDisk = { onnxPath: join(folder, opened.plan.model.path), bytes: denseBytes, model: opened.model };
  const outcome = await compressOnDisk(onDisk, recipe, split.calib, options.backend, (p: Progress) => {
    if (!options.json && p.done === p.total && p.phase !== 'report') console.error(`  ${p.phase}: ${p.label} (${p.total})`);
  });
  const dense = await maskedFigures(denseBytes, split, options.backend, recipe.seed);
  const compressed = await maskedFigures(outcome.bytes, split, options.backend, recipe.seed);
  if (options.json) {
    console.log(JSON.stringify({ folder: resolve(folder), model: opened.plan.model.path, metric: 'masked-token accuracy', split: { calibWindows: split.calibWindows, evalWindows: split.evalWindows, seqLen: options.seqLen, maskedPositions: split.maskedPositions }, dense, compressed, report: outcome.report }, null, 2));
    return;
  }
  printReport(outcome.report, null);
  console.log('');
  console.log(line('dense', dense));
  console.log(line('compressed', compressed));
}
