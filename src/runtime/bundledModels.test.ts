// The bundled models against their model cards: the lab's evaluation through onnxruntime-web
// reproduces the dense metrics the training script computed in PyTorch, and our ONNX writer's
// round trip changes no output bit.
import { readFileSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import { loadModelFromDisk } from '../cli/loadModelDir';
import { evaluate } from '../core/eval/evaluate';
import { readModel, writeModel } from '../core/onnx';
import { expectClose } from '../core/testing/expectClose';
import type { ModelIndex } from '../core/catalog/modelCard';
import type { HostTensor } from '../core/eval/runner';
import { createRunner } from './ort';

const index: ModelIndex = JSON.parse(readFileSync('public/models/index.json', 'utf8'));

function sampleFeed(id: string, inputName: string): Record<string, HostTensor> {
  const { dataset } = loadModelFromDisk(`public/models/${id}`);
  if (dataset!.kind === 'lm-tokens') {
    const seqs = dataset!.sequences.slice(0, 2);
    const T = dataset!.seqLen;
    return { [inputName]: { dtype: 'int64', dims: [2, T], data: BigInt64Array.from(seqs.flatMap((s) => s.slice(0, T).map(BigInt))) } };
  }
  const imgs = dataset!.images.slice(0, 4);
  return { [inputName]: { dtype: 'float32', dims: [4, ...dataset!.shape], data: Float32Array.from(imgs.flat(), (v) => v / 16) } };
}

describe.each(index.models)('bundled model %s', (id) => {
  const model = loadModelFromDisk(`public/models/${id}`);

  test('the lab reproduces the model card dense metrics (PyTorch reference)', async () => {
    const { runner } = await createRunner(model.bytes, { backend: 'wasm', numThreads: 1 });
    const metrics = await evaluate(runner, model.dataset!);
    await runner.release();
    const card = model.card!.denseMetrics;
    // ORT and PyTorch sum in different orders in float32: equal to ~1e-6, not bit for bit.
    for (const [key, value] of Object.entries(metrics)) {
      if (key === 'task' || card[key] === undefined) continue;
      expect(Math.abs((value as number) - card[key]), `${key}: lab ${value} vs card ${card[key]}`).toBeLessThanOrEqual(1e-4 * Math.abs(card[key]) + 1e-6);
    }
  });

  test('read → write round trip gives bit-identical outputs in onnxruntime', async () => {
    const roundTripped = writeModel(readModel(model.bytes));
    const a = await createRunner(model.bytes, { backend: 'wasm', numThreads: 1 });
    const b = await createRunner(roundTripped, { backend: 'wasm', numThreads: 1 });
    const feed = sampleFeed(id, a.runner.inputNames[0]);
    const outA = await a.runner.run(feed);
    const outB = await b.runner.run(feed);
    for (const name of a.runner.outputNames) expectClose(outB[name].data as Float32Array, outA[name].data as Float32Array, { atol: 0, rtol: 0 }, name);
    await a.runner.release();
    await b.runner.release();
  });
});
