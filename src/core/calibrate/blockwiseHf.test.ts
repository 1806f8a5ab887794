// Block-by-block calibration on generated Hugging Face exports (npm run gen:hf: Optimum's inputs
// attention_mask, position_ids and an empty past_key_values.* per block, outputs logits and
// present.*; the Llama one with its weights in model.onnx_data). The graph must still be cut into
// per-block sessions — the mask and positions are read by every block, the present.* outputs hang
// off every block — and the statistics must equal the whole-model path's bit for bit, over a
// sequence of stages each pruned before the next is calibrated.
import { describe, expect, test } from 'vitest';
import { pipelineSteps } from '../compress/steps.ts';
import { WorkingModel } from '../compress/weights.ts';
import { openHfFolder } from '../hf/openFolder.ts';
import { diskEntries, generatedFolder } from '../hf/testing/generatedFolders.ts';
import type { ModelRunner } from '../eval/runner.ts';
import { openSequentialCalibration, type StageTapPlan } from './blockwise.ts';
import type { CalibrationStats } from './collect.ts';
import { countingRunnerFactory, halfZeroed, randomTokens } from './fixtures/models.ts';
import type { ModelProto } from '../onnx/types.ts';
import type { Dataset } from '../eval/datasets.ts';

async function runSequence(model: ModelProto, stages: StageTapPlan[], dataset: Dataset, wholeModel: boolean) {
  const { open, counts } = countingRunnerFactory();
  const sessionBytes: number[] = [];
  const createRunner = (bytes: Uint8Array): Promise<ModelRunner> => {
    sessionBytes.push(bytes.byteLength);
    return open(bytes);
  };
  const working = new WorkingModel(model);
  const sequence = openSequentialCalibration({ model: working.model, stages, createRunner, dataset, sampleIndices: [2, 0, 3, 1], batchSize: 2, wholeModel });
  const stats: CalibrationStats[] = [];
  for (const [s, stage] of stages.entries()) {
    stats.push(await sequence.stats(s, {}));
    for (const layer of stage.layers) working.writeWeight(layer, halfZeroed(working.readWeight(layer)));
    await sequence.advance(s, {});
  }
  sequence.release();
  return { kind: sequence.kind, fallbackReason: sequence.fallbackReason, stats, counts, sessionBytes };
}

const bytesOf = (a: ArrayBufferView) => Buffer.from(a.buffer, a.byteOffset, a.byteLength);

describe.each(['llama', 'gpt2'] as const)('generated 2-block %s export', (which) => {
  test('is calibrated block by block, with the whole-model statistics bit for bit', async () => {
    const folder = await openHfFolder(diskEntries(generatedFolder(which)));
    if (which === 'llama') expect(folder.externalDataBytes).toBeGreaterThan(0);
    const layers = folder.analysis.linears.filter((l) => l.role !== 'embed' && l.role !== 'head');
    const stages = pipelineSteps(layers).map((step) => ({ layers: step.layers }));
    expect(stages.length).toBe(2);
    const dataset = randomTokens(4, 12, 1000, 5);
    const blockwise = await runSequence(folder.model, stages, dataset, false);
    const whole = await runSequence(folder.model, stages, dataset, true);
    expect(blockwise.fallbackReason).toBeUndefined();
    expect(blockwise.kind).toBe('blockwise');
    let compared = 0;
    for (const [s, stats] of blockwise.stats.entries()) {
      for (const [id, got] of stats.layers) {
        const want = whole.stats[s].layers.get(id)!;
        expect(got.tokens, id).toBe(4 * 12);
        expect(bytesOf(got.hessian).equals(bytesOf(want.hessian)), `${id} hessian`).toBe(true);
        expect(bytesOf(got.sqNorm).equals(bytesOf(want.sqNorm)), `${id} sqNorm`).toBe(true);
        compared++;
      }
    }
    expect(compared).toBe(layers.length);
    expect(blockwise.counts.created).toBe(blockwise.counts.released);
    // No session of the block-by-block path holds the whole model.
    expect(Math.max(...blockwise.sessionBytes)).toBeLessThan(whole.sessionBytes[0]);
  });
});
