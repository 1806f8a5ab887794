// `npm run lab -- <command>`: the lab's command line, on the same core as the browser.
import { parseArgs } from 'node:util';
import { analyzeModel } from '../core/model';
import { evaluate } from '../core/eval/evaluate';
import type { BackendPreference } from '../core/eval/runner';
import { metricRows } from '../core/report/metricRows';
import { createRunner } from '../runtime/ort';
import { compareMain } from './compare';
import { loadModelFromDisk } from './loadModelDir';
import { printAnalysis } from './printAnalysis';
import { runCommand } from './run';
import { attentionCommand } from './attention';
import { sweepCommand } from './sweep';
import { exportLlmCompressorMain } from './exportLlmCompressor';
import { hfImageRunCommand } from './hfImageRun';
import { hfGenerateCommand, hfInfoCommand, hfRunCommand } from './hfRun';
import { isHfFolder } from './hfFolder';

const usage = `Usage:
  npm run lab -- info <model.onnx | model-dir | hf-folder> [--json]
  npm run lab -- eval <model-dir | model.onnx> [--dataset eval.json] [--backend wasm] [--json]
  npm run lab -- compare <baseline> <candidate> [--dataset eval.json] [--seed 0] [--resamples 2000] [--json]
  npm run lab -- run <recipe.json> <model-dir | model.onnx> [-o out.onnx] [--calib calib.json] [--no-latency] [--json]
  npm run lab -- run <recipe.json> <hf-folder> --text FILE.txt|.jsonl [--seq-len 128] [--calib-share 0.5] [--export-folder OUT] [--streamed | --whole] [--json]
  npm run lab -- run <recipe.json> <vit-folder> --images DIR (one subfolder of .png/.jpg per label) [--calib-share 0.5] [--json]
  npm run lab -- generate <hf-folder> --prompt "…" [--max-new 20] [--compressed <folder | model.onnx>]
  npm run lab -- run "<share link>" [model.onnx] [-o out.onnx] [--json]
  npm run lab -- prune --recipe recipe.json <model-dir | model.onnx> -o out.onnx   (alias of run)
  npm run lab -- attention <model-dir | model.onnx> (--text "…" | --image N | --samples N) [--dataset eval.json] [--tau 0.1 | --alpha A] [--json]
  npm run lab -- export-llmcompressor <recipe.json> [--script]
  npm run lab -- sweep <recipe.json> <model-dir | model.onnx> --param <path> --values <a,b,c | from:to:step> [--json]

A model-dir is a folder with model.json (model card), its .onnx and its evaluation set,
like public/models/kjv-charlm. An .onnx file is evaluated with the eval set named by a
model.json beside it, or by --dataset. attention prints every layer's and head's attention
sinks, sink mass and entropy for one text (through the model's vocab.json) or evaluation image,
or averaged over the first N items of the evaluation set. An hf-folder is a Hugging Face export
(model.onnx or decoder_model_merged.onnx, external data, config.json, tokenizer.json, as Optimum or a
transformers.js repository lays it out): run calibrates on a share of the windows of your text and
evaluates dense and compressed on the rest (perplexity with its 95 % bootstrap interval, bits per
byte), and --export-folder writes the result as a folder transformers.js loads; generate prints
greedy continuations, using the model's KV cache when it has one. A recipe is a staged JSON document (recipes/ has
examples; docs/recipe.md); version-1 pruning recipes are read too. run --json prints the run's
experiment record (both models evaluated, the change with its 95 % interval); run also times the
dense and the compressed model on its backend (MEASURED, median of 20 runs on a window of the
context; --no-latency skips it); run with a share
link runs its recipe on its model (a bundled one, or the file you pass, checked by SHA-256) and
says whether the weights hash equals the shared run's. export-llmcompressor prints
the recipe as an llm-compressor oneshot recipe (YAML), or with --script the Python script that
runs that YAML on a Hugging Face model id; what has no llm-compressor equivalent is listed at the
YAML's top and on stderr (docs/llm-compressor.md). sweep runs the recipe once per value of one
field (e.g. --param stages[0].pattern.sparsity --values 0.1:0.9:0.2) and prints each point's
metric, its change against dense with the 95 % interval, and the file size.`;

async function info(target: string, json: boolean): Promise<void> {
  const { onnxPath, bytes, model } = loadModelFromDisk(target);
  const analysis = analyzeModel(model);
  if (json) console.log(JSON.stringify({ file: onnxPath, sizeBytes: bytes.byteLength, analysis }, jsonBigInt, 2));
  else printAnalysis(onnxPath, bytes.byteLength, analysis);
}

async function evalCommand(target: string, datasetPath: string | undefined, backend: BackendPreference, json: boolean): Promise<void> {
  const model = loadModelFromDisk(target, datasetPath);
  if (!model.dataset) throw new Error(`No evaluation set for ${model.onnxPath}: put a model.json beside it or pass --dataset <eval.json>`);
  const { runner, report } = await createRunner(model.bytes, { backend, numThreads: 1 });
  const t0 = performance.now();
  const metrics = await evaluate(runner, model.dataset);
  const evalMs = performance.now() - t0;
  await runner.release();
  if (json) {
    console.log(JSON.stringify({ file: model.onnxPath, dataset: model.datasetPath, backend: report, metrics, evalMs }, null, 2));
    return;
  }
  console.log(`${model.onnxPath}\nevaluated on ${model.datasetPath} with ${report.used}${report.fallbackReason ? ` (${report.fallbackReason})` : ''} in ${(evalMs / 1000).toFixed(2)} s`);
  for (const row of metricRows(metrics, model.card?.denseMetrics))
    console.log(`  ${row.label.padEnd(20)} ${row.text.padStart(10)}${row.referenceText ? `   (model card: ${row.referenceText})` : ''}`);
}

function positiveInteger(flag: string, text: string): number {
  const value = Number(text);
  if (!Number.isInteger(value) || value < 1) throw new Error(`${flag} must be a positive integer, not ${text.slice(0, 40)}`);
  return value;
}

function jsonBigInt(_key: string, value: unknown): unknown {
  return typeof value === 'bigint' ? value.toString() : value;
}

export async function main(argv: string[]): Promise<number> {
  if (argv[0] === 'compare') return compareMain(argv.slice(1));
  if (argv[0] === 'export-llmcompressor') return exportLlmCompressorMain(argv.slice(1), usage);
  const { positionals, values } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: { json: { type: 'boolean', default: false }, dataset: { type: 'string' }, recipe: { type: 'string' }, output: { type: 'string', short: 'o' }, calib: { type: 'string' }, text: { type: 'string' }, images: { type: 'string' }, image: { type: 'string' }, tau: { type: 'string' }, samples: { type: 'string' }, alpha: { type: 'string' }, backend: { type: 'string', default: 'wasm' }, 'seq-len': { type: 'string', default: '128' }, 'calib-share': { type: 'string', default: '0.5' }, 'export-folder': { type: 'string' }, streamed: { type: 'boolean', default: false }, whole: { type: 'boolean', default: false }, prompt: { type: 'string' }, 'max-new': { type: 'string', default: '20' }, compressed: { type: 'string' }, param: { type: 'string' }, values: { type: 'string' }, help: { type: 'boolean', short: 'h' }, 'no-latency': { type: 'boolean', default: false } },
  });
  const [command] = positionals;
  if (values.help || !command) {
    console.log(usage);
    return command || values.help ? 0 : 1;
  }
  if (command === 'run') {
    const [, recipePath, model, extra] = positionals;
    if (!recipePath) throw new Error(`run: <recipe.json> (or a share link) is required\n\n${usage}`);
    if (model !== undefined && isHfFolder(model) && values.images) {
      if (extra !== undefined) throw new Error(`run: unexpected argument "${extra.slice(0, 80)}"\n\n${usage}`);
      const calibShare = Number(values['calib-share']);
      if (!(calibShare > 0 && calibShare < 1)) throw new Error(`--calib-share must lie in (0, 1), not ${values['calib-share']}`);
      await hfImageRunCommand(model, { recipePath, imagesPath: values.images, calibShare, backend: values.backend as BackendPreference, json: values.json! });
      return 0;
    }
    if (model !== undefined && isHfFolder(model)) {
      if (!values.text) throw new Error(`run: --text FILE.txt|.jsonl is required for a Hugging Face export folder (its windows calibrate and evaluate)\n\n${usage}`);
      if (extra !== undefined) throw new Error(`run: unexpected argument "${extra.slice(0, 80)}"\n\n${usage}`);
      const seqLen = positiveInteger('--seq-len', values['seq-len']!);
      const calibShare = Number(values['calib-share']);
      if (!(calibShare > 0 && calibShare < 1)) throw new Error(`--calib-share must lie in (0, 1), not ${values['calib-share']}`);
      await hfRunCommand(model, { recipePath, textPath: values.text, seqLen, calibShare, exportFolder: values['export-folder'], backend: values.backend as BackendPreference, json: values.json!, streamed: values.streamed!, whole: values.whole! });
      return 0;
    }
    if (!values.output && !values.json) throw new Error(`run: -o <out.onnx> is required (or --json, to print the record without writing the model)\n\n${usage}`);
    if (extra !== undefined) throw new Error(`run: unexpected argument "${extra.slice(0, 80)}"\n\n${usage}`);
    await runCommand(model, { recipePath, outputPath: values.output, calibPath: values.calib, backend: values.backend as BackendPreference, json: values.json!, noLatency: values['no-latency'] });
    return 0;
  }
  if (command === 'sweep') {
    const [, recipePath, model, extra] = positionals;
    if (!recipePath || !model || !values.param || !values.values) throw new Error(`sweep: <recipe.json>, <model>, --param and --values are required\n\n${usage}`);
    if (extra !== undefined) throw new Error(`sweep: unexpected argument "${extra.slice(0, 80)}"\n\n${usage}`);
    await sweepCommand(recipePath, model, { param: values.param, values: values.values, calibPath: values.calib, backend: values.backend as BackendPreference, json: values.json! });
    return 0;
  }
  const target = positionals[1];
  if (!target) throw new Error(`${command}: missing <model> argument\n\n${usage}`);
  if (command === 'generate') {
    if (!values.prompt) throw new Error(`generate: --prompt "…" is required\n\n${usage}`);
    if (!isHfFolder(target)) throw new Error(`generate: ${target} is not a Hugging Face export folder (a folder with an .onnx graph and tokenizer.json)`);
    await hfGenerateCommand(target, { prompt: values.prompt, maxNew: positiveInteger('--max-new', values['max-new']!), compressed: values.compressed, backend: values.backend as BackendPreference });
    return 0;
  }
  if (command === 'info' && isHfFolder(target)) await hfInfoCommand(target, values.json!);
  else if (command === 'info') await info(target, values.json!);
  else if (command === 'eval') {
    const backend = values.backend as BackendPreference;
    if (!['wasm', 'webgpu', 'auto'].includes(backend)) throw new Error(`--backend must be wasm, webgpu or auto, not ${backend}`);
    await evalCommand(target, values.dataset, backend, values.json!);
  } else if (command === 'prune') {
    if (!values.recipe || !values.output) throw new Error(`prune: --recipe <recipe.json> and -o <out.onnx> are required\n\n${usage}`);
    await runCommand(target, { recipePath: values.recipe, outputPath: values.output, calibPath: values.calib, backend: values.backend as BackendPreference, json: values.json! });
  } else if (command === 'attention') {
    await attentionCommand(target, { text: values.text, image: values.image, tau: values.tau, alpha: values.alpha, samples: values.samples, dataset: values.dataset, json: values.json! });
  } else throw new Error(`Unknown command "${command}"\n\n${usage}`);
  return 0;
}

