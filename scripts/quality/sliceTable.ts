// SliceGPT's quality and latency table on the bundled LM: for each kept fraction, the perplexity
// on eval.json, the file size and linear parameters (shortcut matrices included), and the
// measured latency of one forward pass over a 128-token window on onnxruntime-web's wasm backend
// (one thread), the dense model measured in the same process, interleaved, median of the runs.
// A program, not a test. Prints a markdown table (docs/slicegpt.md quotes it).
//
//   node --import tsx scripts/quality/sliceTable.ts [--samples 32] [--runs 30] [--keep 1,0.9,0.75,0.6,0.5]
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { compressModel } from '../../src/core/compress';
import type { ModelRunner } from '../../src/core/eval/runner';
import { parseRecipe } from '../../src/core/recipe';
import { evaluateBytes, headline, loadBundled, openWasm, ortVersion, root } from './common';

const { values } = parseArgs({ options: { samples: { type: 'string', default: '32' }, runs: { type: 'string', default: '30' }, keep: { type: 'string', default: '1,0.9,0.75,0.6,0.5' } } });
const samples = Number(values.samples);
const runs = Number(values.runs);
const keeps = values.keep!.split(',').map(Number);
const lm = loadBundled(join(root, 'public/models/kjv-charlm'));
if (lm.evalSet.kind !== 'lm-tokens') throw new Error('expected the LM');
const window = lm.evalSet.sequences[0].slice(0, 128);
const feed = { input_ids: { dtype: 'int64' as const, dims: [1, window.length], data: BigInt64Array.from(window, BigInt) } };

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
async function timeOnce(runner: ModelRunner): Promise<number> {
  const start = performance.now();
  await runner.run(feed, ['logits']);
  return performance.now() - start;
}

/** Median ms of `runs` forward passes of each model, interleaved so load drifts hit both alike. */
async function latencies(a: Uint8Array, b: Uint8Array): Promise<[number, number]> {
  const [ra, rb] = [await openWasm(a), await openWasm(b)];
  const [ta, tb]: number[][] = [[], []];
  for (let i = 0; i < runs + 5; i++) {
    const [x, y] = [await timeOnce(ra), await timeOnce(rb)];
    if (i >= 5) (ta.push(x), tb.push(y));
  }
  await ra.release();
  await rb.release();
  return [median(ta), median(tb)];
}

const fmt = (n: number) => n.toLocaleString('en-US');
const denseParams = lm.analysis.linears.reduce((n, l) => n + l.params, 0);
console.log(`kjv-charlm, ${samples} calibration samples, seed 0; onnxruntime-web ${ortVersion()} wasm, 1 thread; ${cpus().length} CPUs, load ${loadavg()[0].toFixed(1)}`);
console.log('| keep | width | perplexity | file bytes | linear params (of which shortcuts) | latency dense → sliced (ms, 1 × 128 tokens) | speedup |');
console.log('|---|---|---|---|---|---|---|');
console.log(`| dense | 128 | ${headline(await evaluateBytes(lm, lm.bytes)).text} | ${fmt(lm.bytes.length)} | ${fmt(denseParams)} | – | – |`);
for (const keep of keeps) {
  const recipe = parseRecipe({ version: 2, calibration: { samples }, stages: [{ kind: 'slice', keep }] });
  const { report, bytes } = await compressModel({ model: lm.model, analysis: lm.analysis, recipe, calibSet: lm.calibSet, createRunner: openWasm });
  const metrics = await evaluateBytes(lm, bytes);
  const rows = report.reshaped ?? [];
  const params = rows.reduce((n, r) => n + r.paramsAfter, 0) + lm.analysis.linears.filter((l) => !rows.some((r) => r.id === l.id)).reduce((n, l) => n + l.params, 0);
  const shortcuts = rows.filter((r) => r.paramsBefore === 0).reduce((n, r) => n + r.paramsAfter, 0);
  const width = rows.find((r) => r.name === 'blocks.0.attn.q_proj')?.after[1];
  const [denseMs, slicedMs] = await latencies(lm.bytes, bytes);
  console.log(`| ${keep} | ${width} | ${headline(metrics).text} | ${fmt(bytes.length)} | ${fmt(params)} (${fmt(shortcuts)}) | ${denseMs.toFixed(2)} → ${slicedMs.toFixed(2)} | ${(denseMs / slicedMs).toFixed(2)}× |`);
}
