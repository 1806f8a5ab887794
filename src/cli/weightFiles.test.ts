// The Node file handles behind WeightSource / WeightSink: a model written with its weights
// streamed to model.onnx_data on disk reads back, by range, to the same tensors; a side file
// shorter than its tensors need is one line naming the file and the tensor.
import { mkdtempSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { fixtureModel } from '../core/calibrate/fixtures/models.ts';
import { resolveModelWeights, weightSources, writeModelStreamed } from '../core/onnx/lazyTensors.ts';
import { readModel } from '../core/onnx/index.ts';
import { fileWeightSink, modelWeightSources } from './weightFiles.ts';

const dir = mkdtempSync(join(tmpdir(), 'lab-weight-files-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('fileWeightSource / fileWeightSink', () => {
  const { model } = fixtureModel('llama');

  test('written to disk as it streams, read back by range: the same initializers', async () => {
    const sink = await fileWeightSink(join(dir, 'model.onnx_data'));
    const onnx = await writeModelStreamed(model, { sources: weightSources([]), sink });
    writeFileSync(join(dir, 'model.onnx'), onnx);
    const written = readModel(onnx);
    const external = (written.graph!.initializer ?? []).filter((t) => t.dataLocation === 1);
    expect(external.length).toBeGreaterThan(10);
    const sources = await modelWeightSources(written, dir);
    const back = await resolveModelWeights(written, weightSources(sources));
    await Promise.all(sources.map((s) => s.close()));
    const bytes = (t: { rawData?: Uint8Array; floatData?: Float32Array }) => t.rawData ?? new Uint8Array(Float32Array.from(t.floatData ?? []).buffer);
    expect(back.graph!.initializer!.map((t) => [t.name, [...bytes(t)]])).toEqual(model.graph!.initializer!.map((t) => [t.name, [...bytes(t)]]));
  });

  test('a truncated model.onnx_data: one line naming the file and the tensor', async () => {
    truncateSync(join(dir, 'model.onnx_data'), 100);
    const written = readModel(new Uint8Array(readFileSync(join(dir, 'model.onnx'))));
    const sources = await modelWeightSources(written, dir);
    await expect(resolveModelWeights(written, weightSources(sources))).rejects.toThrow(/^Tensor "[^"]+": bytes \d+\.\.\d+ are outside "model\.onnx_data" \(100 bytes\)$/);
    await Promise.all(sources.map((s) => s.close()));
  });
});
