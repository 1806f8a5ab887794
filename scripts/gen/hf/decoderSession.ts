// A generated decoder run directly in onnxruntime-web (Node, wasm): the feeds Optimum's
// text-generation-with-past graphs take, built here independently of the lab's evaluation code and
// of transformers.js, so the tests can hold one against the others.
import { readFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import * as ort from 'onnxruntime-web';

export interface DecoderSession {
  session: ort.InferenceSession;
  layers: number;
  kvHeads: number;
  headDim: number;
  vocab: number;
  release(): Promise<void>;
}

export interface KvCache {
  keys: ort.Tensor[];
  values: ort.Tensor[];
}

export interface DecoderStep {
  /** [batch, seq, vocab] */
  logits: Float32Array;
  cache: KvCache;
}

/** Loads the graph (and its model.onnx_data through ORT's externalData option when present). */
export async function openDecoder(graphPath: string, dims: { layers: number; kvHeads: number; headDim: number; vocab: number }, dataPath?: string): Promise<DecoderSession> {
  ort.env.logLevel = 'error';
  ort.env.wasm.numThreads = 1;
  const options: ort.InferenceSession.SessionOptions = { executionProviders: ['wasm'], logSeverityLevel: 3 };
  if (dataPath) options.externalData = [{ path: basename(dataPath), data: new Uint8Array(readFileSync(dataPath)) }];
  const session = await ort.InferenceSession.create(new Uint8Array(readFileSync(graphPath)), options);
  return { session, ...dims, release: () => session.release() };
}

const int64 = (rows: number[][]): ort.Tensor => new ort.Tensor('int64', BigInt64Array.from(rows.flat(), (v) => BigInt(v)), [rows.length, rows[0].length]);

export function emptyCache(decoder: DecoderSession, batch: number): KvCache {
  const empty = () => new ort.Tensor('float32', new Float32Array(0), [batch, decoder.kvHeads, 0, decoder.headDim]);
  return { keys: Array.from({ length: decoder.layers }, empty), values: Array.from({ length: decoder.layers }, empty) };
}

/**
 * One forward pass over `ids` [batch][seq] after `cache` (empty by default). The attention mask
 * covers past + new positions (all ones unless given); position ids continue from the past
 * length unless given, as transformers' generate computes them for unpadded rows.
 */
export async function runDecoder(
  decoder: DecoderSession,
  ids: number[][],
  options: { cache?: KvCache; attentionMask?: number[][]; positionIds?: number[][] } = {},
): Promise<DecoderStep> {
  const cache = options.cache ?? emptyCache(decoder, ids.length);
  const past = cache.keys[0].dims[2];
  const seq = ids[0].length;
  const mask = options.attentionMask ?? ids.map(() => new Array<number>(past + seq).fill(1));
  const positions = options.positionIds ?? ids.map(() => Array.from({ length: seq }, (_, i) => past + i));
  const feeds: Record<string, ort.Tensor> = { input_ids: int64(ids), attention_mask: int64(mask), position_ids: int64(positions) };
  for (let i = 0; i < decoder.layers; i++) {
    feeds[`past_key_values.${i}.key`] = cache.keys[i];
    feeds[`past_key_values.${i}.value`] = cache.values[i];
  }
  const out = await decoder.session.run(feeds);
  return {
    logits: out.logits.data as Float32Array,
    cache: {
      keys: Array.from({ length: decoder.layers }, (_, i) => out[`present.${i}.key`]),
      values: Array.from({ length: decoder.layers }, (_, i) => out[`present.${i}.value`]),
    },
  };
}

const argmax = (row: Float32Array): number => row.reduce((best, v, i) => (v > row[best] ? i : best), 0);

/**
 * Greedy decoding by full recomputation: each step runs the whole sequence again with an empty
 * cache and takes the argmax of the last position. No cache is carried, so a caching bug anywhere
 * else shows up as a different id.
 */
export async function greedyByRecompute(decoder: DecoderSession, prompt: number[], newTokens: number): Promise<number[]> {
  const ids = [...prompt];
  for (let step = 0; step < newTokens; step++) {
    const { logits } = await runDecoder(decoder, [ids]);
    ids.push(argmax(logits.subarray((ids.length - 1) * decoder.vocab, ids.length * decoder.vocab)));
  }
  return ids.slice(prompt.length);
}

/** The graph and data paths of a generated folder in either layout. */
export function folderGraph(folder: string, layout: 'transformersjs' | 'flat' = 'transformersjs'): string {
  return layout === 'flat' ? join(folder, 'model.onnx') : join(folder, 'onnx', 'model.onnx');
}

export const graphDir = (graphPath: string): string => dirname(graphPath);
