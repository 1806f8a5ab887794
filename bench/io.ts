// Section "io": parsing, writing and evaluating the bundled models, each against a baseline
// measured in the same process:
//   parse:  our readModel vs a plain copy of the file bytes (the memory-bandwidth floor) and vs
//           onnxruntime-web's InferenceSession.create (which parses the same bytes in C++);
//   write:  our writeModel vs the same byte copy;
//   eval:   a full evaluation vs a single forward batch (cost per batch), threads 1.
import { loadModelFromDisk } from '../src/cli/loadModelDir.ts';
import { datasetHead, datasetSize } from '../src/core/eval/datasets.ts';
import { evaluate } from '../src/core/eval/evaluate.ts';
import { readModel, writeModel } from '../src/core/onnx/index.ts';
import { createRunner } from '../src/runtime/ort.ts';
import { formatMs, measure, ratio, type Table } from './measure.ts';
import { missingModelFiles } from './model.ts';

export async function ioSection(modelIds: readonly string[]): Promise<Table> {
  const rows: string[][] = [];
  const add = (model: string, what: string, ms: number, baseline: string, baselineMs: number) =>
    rows.push([model, what, formatMs(ms), baseline, formatMs(baselineMs), ratio(ms, baselineMs)]);
  for (const id of modelIds) {
    const missing = missingModelFiles(id);
    if (missing) {
      rows.push([id, 'skipped', 'n/a', '', '', missing]);
      continue;
    }
    const model = loadModelFromDisk(`public/models/${id}`);
    const copy = await measure(() => model.bytes.slice());
    const parse = await measure(() => readModel(model.bytes));
    const ortCreate = await measure(async () => (await createRunner(model.bytes, { backend: 'wasm', numThreads: 1 })).runner.release(), { minMs: 500 });
    const parsed = readModel(model.bytes);
    const write = await measure(() => writeModel(parsed));
    add(id, 'readModel', parse.ms, 'byte copy', copy.ms);
    add(id, 'readModel', parse.ms, 'ORT session create', ortCreate.ms);
    add(id, 'writeModel', write.ms, 'byte copy', copy.ms);

    const dataset = model.dataset!;
    const { runner } = await createRunner(model.bytes, { backend: 'wasm', numThreads: 1 });
    const batch = datasetHead(dataset, 8);
    const oneBatch = await measure(() => evaluate(runner, batch), { minMs: 500 });
    const full = await measure(() => evaluate(runner, dataset), { minMs: 0 });
    add(id, `eval (${datasetSize(dataset)} samples, wasm, 1 thread)`, full.ms, 'one batch of 8', oneBatch.ms);
    await runner.release();
  }
  return {
    title: 'Reading, writing and evaluating the bundled models',
    notes: ['Each row: time and ratio against the baseline named in the row, both measured here; median of repeated runs after a warm-up.'],
    columns: [{ header: 'model' }, { header: 'measure' }, { header: 'ms', align: 'right' }, { header: 'baseline' }, { header: 'base ms', align: 'right' }, { header: 'ratio', align: 'right' }],
    rows,
  };
}
