// `npm run bench`: a program, not a test. Times parsing and evaluation of the bundled models and
// prints each against a baseline measured in the same process:
//   parse:  our readModel vs a plain copy of the file bytes (the memory-bandwidth floor) and vs
//           onnxruntime-web's InferenceSession.create (which parses the same bytes in C++);
//   write:  our writeModel vs the same byte copy;
//   eval:   a full evaluation vs a single forward batch (cost per batch), threads 1.
import { readFileSync } from 'node:fs';
import type { ModelIndex } from '../src/core/catalog/modelCard';
import { loadModelFromDisk } from '../src/cli/loadModelDir';
import { readModel, writeModel } from '../src/core/onnx';
import { evaluate } from '../src/core/eval/evaluate';
import { datasetSize } from '../src/core/eval/datasets';
import { createRunner } from '../src/runtime/ort';

async function timeIt(fn: () => unknown | Promise<unknown>, minMs = 300, minReps = 3): Promise<number> {
  await fn();
  const times: number[] = [];
  const start = performance.now();
  while (times.length < minReps || performance.now() - start < minMs) {
    const t0 = performance.now();
    await fn();
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)];
}

interface Row {
  model: string;
  what: string;
  ms: number;
  baseline: string;
  baselineMs: number;
}

const rows: Row[] = [];
const index: ModelIndex = JSON.parse(readFileSync('public/models/index.json', 'utf8'));
const only = process.argv[2];
if (only) index.models = index.models.filter((m) => m === only);

for (const id of index.models) {
  const model = loadModelFromDisk(`public/models/${id}`);
  const copyMs = await timeIt(() => model.bytes.slice());
  const parseMs = await timeIt(() => readModel(model.bytes));
  const ortCreateMs = await timeIt(async () => (await createRunner(model.bytes, { backend: 'wasm', numThreads: 1 })).runner.release(), 500, 3);
  const parsed = readModel(model.bytes);
  const writeMs = await timeIt(() => writeModel(parsed));
  rows.push({ model: id, what: 'readModel', ms: parseMs, baseline: 'byte copy', baselineMs: copyMs });
  rows.push({ model: id, what: 'readModel', ms: parseMs, baseline: 'ORT session create', baselineMs: ortCreateMs });
  rows.push({ model: id, what: 'writeModel', ms: writeMs, baseline: 'byte copy', baselineMs: copyMs });

  const { runner } = await createRunner(model.bytes, { backend: 'wasm', numThreads: 1 });
  const batch = model.dataset!.kind === 'lm-tokens' ? { ...model.dataset!, sequences: model.dataset!.sequences.slice(0, 8) } : { ...model.dataset!, images: model.dataset!.images.slice(0, 8), labels: model.dataset!.labels.slice(0, 8) };
  const batchMs = await timeIt(() => evaluate(runner, batch, { preprocess: model.card?.preprocess }), 500, 3);
  const evalMs = await timeIt(() => evaluate(runner, model.dataset!, { preprocess: model.card?.preprocess }), 0, 3);
  rows.push({ model: id, what: `eval (${datasetSize(model.dataset!)} samples, wasm, 1 thread)`, ms: evalMs, baseline: 'one batch of 8', baselineMs: batchMs });
  await runner.release();
}

console.log(`Compression Lab benchmark — node ${process.version}, median of repeated runs\n`);
console.log(['model'.padEnd(12), 'measure'.padEnd(40), 'ms'.padStart(10), 'baseline'.padEnd(20), 'base ms'.padStart(10), 'ratio'.padStart(8)].join(' '));
for (const r of rows)
  console.log([r.model.padEnd(12), r.what.padEnd(40), r.ms.toFixed(2).padStart(10), r.baseline.padEnd(20), r.baselineMs.toFixed(2).padStart(10), `${(r.ms / r.baselineMs).toFixed(2)}×`.padStart(8)].join(' '));
