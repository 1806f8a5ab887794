// `lab attention <model> --text "…" | --image N [--dataset set.json] [--tau 0.1 | --alpha A] [--json]`: captures the
// post-softmax attention of every layer and head for one input (src/core/attention/capture.ts)
// and prints its sink statistics (stats.ts): per head the sink keys with their scores, the sink
// mass and the entropy. The text goes through the model's own character vocabulary (vocab.json
// named by its model.json), exactly as the browser's generation view encodes a prompt.
import { join } from 'node:path';
import { captureAttention, captureModel, type AttentionInput, type CapturedAttention } from '../core/attention/capture';
import { attentionStats, averageStats, REFERENCE_THRESHOLD, type AveragedLayerStats, type LayerStats, type SinkThreshold } from '../core/attention/stats';
import { CharTokenizer, parseVocab } from '../core/catalog/vocab';
import { analyzeModel } from '../core/model';
import { createRunner } from '../runtime/ort';
import { readJsonFile, showPath } from './files';
import { loadModelFromDisk, modelFolder, type ModelOnDisk } from './loadModelDir';

export interface AttentionOptions {
  text?: string;
  image?: string;
  tau?: string;
  alpha?: string;
  /** Average over the first N items of the evaluation set instead of one input. */
  samples?: string;
  /** An evaluation set for --image / --samples when the model has no model.json naming one. */
  dataset?: string;
  json: boolean;
}

function parseThreshold(options: AttentionOptions): SinkThreshold {
  if (options.tau !== undefined && options.alpha !== undefined) throw new Error('attention: give --tau or --alpha, not both');
  const number = (flag: string, text: string) => {
    const value = Number(text);
    if (!Number.isFinite(value) || value < 0) throw new Error(`attention: ${flag} must be a non-negative number, not "${text.slice(0, 40)}"`);
    return value;
  };
  if (options.tau !== undefined) return { kind: 'absolute', tau: number('--tau', options.tau) };
  if (options.alpha !== undefined) return { kind: 'relative', alpha: number('--alpha', options.alpha) };
  return REFERENCE_THRESHOLD;
}

/** The input and how to label its tokens (characters for the LM, positions for an image). */
function parseInput(model: ModelOnDisk, options: AttentionOptions): { input: AttentionInput; labels: (j: number) => string; describe: Record<string, unknown> } {
  if ((options.text === undefined) === (options.image === undefined)) throw new Error('attention: give --text "…" (a language model) or --image N (an image of the evaluation set)');
  if (options.text !== undefined) {
    if (model.card?.task === 'image-classification') throw new Error(`attention: ${model.card.id} is an image classifier; pick an evaluation image with --image N`);
    const vocabFile = model.card?.files.vocab;
    if (!vocabFile) throw new Error(`attention: --text needs the model's vocabulary: a model.json beside ${showPath(model.onnxPath)} whose files.vocab names it`);
    const vocabPath = join(modelFolder(model.onnxPath), vocabFile);
    const tokenizer = new CharTokenizer(parseVocab(readJsonFile(vocabPath, 'a vocabulary'), showPath(vocabPath)));
    const ids = tokenizer.encode(options.text);
    const context = model.card?.architecture?.context;
    if (typeof context === 'number' && ids.length > context) throw new Error(`attention: the text has ${ids.length} characters; the model's context is ${context}`);
    const chars = [...options.text];
    return { input: { kind: 'tokens', ids }, labels: (j) => JSON.stringify(chars[j]), describe: { kind: 'text', text: options.text } };
  }
  const index = Number(options.image);
  const dataset = model.dataset;
  if (!dataset || dataset.kind !== 'image-classification') throw new Error(`attention: --image needs an image evaluation set; ${showPath(model.onnxPath)} has ${dataset ? 'a token set' : 'none'}`);
  if (!Number.isInteger(index) || index < 0 || index >= dataset.images.length) throw new Error(`attention: --image must be an index 0..${dataset.images.length - 1} of ${showPath(model.datasetPath ?? '')}`);
  return { input: { kind: 'image', dataset, index }, labels: (j) => `#${j}`, describe: { kind: 'image', index, label: dataset.labels[index] } };
}

/** One session on the instrumented copy, every input through it in order. */
async function capture(model: ModelOnDisk, inputs: readonly AttentionInput[]): Promise<CapturedAttention[]> {
  const plan = captureModel(model.model, analyzeModel(model.model));
  if (!plan.ok) throw new Error(`${showPath(model.onnxPath)}: ${plan.reason}`);
  const { runner } = await createRunner(plan.bytes, { backend: 'wasm', numThreads: 1 });
  try {
    const captured: CapturedAttention[] = [];
    for (const input of inputs) captured.push(await captureAttention(runner, plan.sites, input));
    return captured;
  } finally {
    await runner.release();
  }
}

/** The first `count` items of the model's evaluation set: LM windows (their first seqLen ids) or images. */
function datasetInputs(model: ModelOnDisk, countText: string): AttentionInput[] {
  const dataset = model.dataset;
  if (!dataset) throw new Error(`attention: --samples needs an evaluation set: a model.json beside ${showPath(model.onnxPath)} or --dataset`);
  const size = dataset.kind === 'lm-tokens' ? dataset.sequences.length : dataset.images.length;
  const count = Number(countText);
  if (!Number.isInteger(count) || count < 1 || count > size) throw new Error(`attention: --samples must be 1..${size} (the set's size)`);
  return Array.from({ length: count }, (_, i): AttentionInput =>
    dataset.kind === 'lm-tokens' ? { kind: 'tokens', ids: dataset.sequences[i].slice(0, dataset.seqLen) } : { kind: 'image', dataset, index: i },
  );
}

function averagedJson(layer: AveragedLayerStats) {
  return {
    softmaxNode: layer.softmaxNode,
    block: layer.block,
    inputs: layer.inputs,
    sinkMass: layer.sinkMass,
    entropy: layer.entropy,
    hiddenSinks: layer.hiddenSinks,
    heads: layer.heads.map((head, h) => ({
      head: h,
      sinkMass: head.sinkMass,
      entropy: head.entropy,
      sinkCount: head.sinkCount,
      sinkScores: head.sinkScores && [...head.sinkScores],
      sinkFrequency: head.sinkFrequency && [...head.sinkFrequency],
    })),
  };
}

/** Keys that are a sink in at least `share` of the inputs, with that share. */
function frequentSinks(frequency: Float64Array | null, share = 0.5): string {
  if (!frequency) return '(inputs differ in length)';
  const keys = [...frequency.keys()].filter((j) => frequency[j] >= share);
  return keys.map((j) => `${j}: ${(frequency[j] * 100).toFixed(0)} %`).join(', ') || '-';
}

async function datasetCommand(model: ModelOnDisk, options: AttentionOptions, threshold: SinkThreshold): Promise<void> {
  const inputs = datasetInputs(model, options.samples!);
  const captured = await capture(model, inputs);
  const perInput = captured.map((c) => attentionStats(c, threshold));
  const layers = averageStats(perInput);
  const tau = perInput[0][0]?.threshold ?? 0;
  if (options.json) {
    console.log(JSON.stringify({ file: model.onnxPath, dataset: model.datasetPath, samples: inputs.length, tokens: captured[0].tokens, threshold, tau, entropyUnit: 'nats', layers: layers.map(averagedJson) }, null, 2));
    return;
  }
  console.log(`${model.onnxPath}\nmean over the first ${inputs.length} items of ${showPath(model.datasetPath ?? '')} (${captured[0].tokens} tokens); sink: score > ${tau.toPrecision(3)}`);
  console.log('block  head  sink mass  entropy  sinks/input  key 0 score  keys a sink in ≥ 50 % of inputs');
  for (const layer of layers) {
    layer.heads.forEach((head, h) => {
      const key0 = head.sinkScores ? head.sinkScores[0].toFixed(3) : '-';
      console.log(`${String(layer.block ?? '?').padStart(5)}  ${String(h).padStart(4)}  ${head.sinkMass.toFixed(3).padStart(9)}  ${head.entropy.toFixed(3).padStart(7)}  ${head.sinkCount.toFixed(2).padStart(11)}  ${key0.padStart(11)}  ${frequentSinks(head.sinkFrequency)}`);
    });
    console.log(`${String(layer.block ?? '?').padStart(5)}  mean  ${layer.sinkMass.toFixed(3).padStart(9)}  ${layer.entropy.toFixed(3).padStart(7)}  ${layer.hiddenSinks.toFixed(2).padStart(11)} beyond each head's first (layer total)`);
  }
}

function layerJson(layer: LayerStats) {
  return {
    softmaxNode: layer.softmaxNode,
    block: layer.block,
    sinkMass: layer.sinkMass,
    entropy: layer.entropy,
    sinkKeys: layer.sinkKeys,
    sinkHeadCounts: layer.sinkHeadCounts,
    hiddenSinks: layer.hiddenSinks,
    heads: layer.heads.map((head, h) => ({
      head: h,
      sinks: head.sinks.map((key) => ({ key, score: head.sinkScores[key] })),
      sinkMass: head.sinkMass,
      entropy: head.entropy,
      sinkScores: [...head.sinkScores],
    })),
  };
}

function printTable(layers: LayerStats[], labels: (j: number) => string): void {
  console.log('block  head  sink mass  entropy  sinks (key label: score)');
  for (const layer of layers) {
    layer.heads.forEach((head, h) => {
      const sinks = head.sinks.map((j) => `${j} ${labels(j)}: ${head.sinkScores[j].toFixed(3)}`).join(', ') || '-';
      console.log(`${String(layer.block ?? '?').padStart(5)}  ${String(h).padStart(4)}  ${head.sinkMass.toFixed(3).padStart(9)}  ${head.entropy.toFixed(3).padStart(7)}  ${sinks}`);
    });
    console.log(`${String(layer.block ?? '?').padStart(5)}  mean  ${layer.sinkMass.toFixed(3).padStart(9)}  ${layer.entropy.toFixed(3).padStart(7)}  ${layer.sinkKeys.length} sink key(s), ${layer.hiddenSinks} beyond each head's first (what ACT recalibrates)`);
  }
}

export async function attentionCommand(target: string, options: AttentionOptions): Promise<void> {
  const threshold = parseThreshold(options);
  const model = loadModelFromDisk(target, options.dataset);
  if (options.samples !== undefined) {
    if (options.text !== undefined || options.image !== undefined) throw new Error('attention: --samples averages over the evaluation set; it takes no --text or --image');
    return datasetCommand(model, options, threshold);
  }
  const { input, labels, describe } = parseInput(model, options);
  const [captured] = await capture(model, [input]);
  const layers = attentionStats(captured, threshold);
  const tau = layers[0]?.threshold ?? 0;
  if (options.json) {
    console.log(JSON.stringify({ file: model.onnxPath, input: describe, tokens: captured.tokens, threshold, tau, entropyUnit: 'nats', layers: layers.map(layerJson) }, null, 2));
    return;
  }
  console.log(`${model.onnxPath}\n${captured.tokens} tokens, ${layers.length} attention layers; sink: score > ${tau.toPrecision(3)} (score of key j = attention it receives / queries that see it)`);
  printTable(layers, labels);
}
