// `lab attention <model> --text "…" | --image N [--dataset set.json] [--tau 0.1 | --alpha A] [--json]`: captures the
// post-softmax attention of every layer and head for one input (src/core/attention/capture.ts)
// and prints its sink statistics (stats.ts): per head the sink keys with their scores, the sink
// mass and the entropy. The text goes through the model's own character vocabulary (vocab.json
// named by its model.json), exactly as the browser's generation view encodes a prompt.
import { join } from 'node:path';
import { captureAttention, captureModel, type AttentionInput, type CapturedAttention } from '../core/attention/capture';
import { attentionStats, REFERENCE_THRESHOLD, type LayerStats, type SinkThreshold } from '../core/attention/stats';
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
  /** An evaluation set for --image when the model has no model.json naming one. */
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

async function capture(model: ModelOnDisk, input: AttentionInput): Promise<CapturedAttention> {
  const plan = captureModel(model.model, analyzeModel(model.model));
  if (!plan.ok) throw new Error(`${showPath(model.onnxPath)}: ${plan.reason}`);
  const { runner } = await createRunner(plan.bytes, { backend: 'wasm', numThreads: 1 });
  try {
    return await captureAttention(runner, plan.sites, input);
  } finally {
    await runner.release();
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
  const { input, labels, describe } = parseInput(model, options);
  const captured = await capture(model, input);
  const layers = attentionStats(captured, threshold);
  const tau = layers[0]?.threshold ?? 0;
  if (options.json) {
    console.log(JSON.stringify({ file: model.onnxPath, input: describe, tokens: captured.tokens, threshold, tau, entropyUnit: 'nats', layers: layers.map(layerJson) }, null, 2));
    return;
  }
  console.log(`${model.onnxPath}\n${captured.tokens} tokens, ${layers.length} attention layers; sink: score > ${tau.toPrecision(3)} (score of key j = attention it receives / queries that see it)`);
  printTable(layers, labels);
}
