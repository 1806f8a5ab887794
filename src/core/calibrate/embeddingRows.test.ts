// Compacted embedding tables against the prefix as it is: ORT runs both on the same ids (negative
// ones included) and the stored boundary must be byte-identical, from a table of only the rows read.
import { describe, expect, test } from 'vitest';
import { pipelineSteps as pipelineStages } from '../compress/steps.ts';
import type { HostTensor } from '../eval/runner.ts';
import type { ModelProto } from '../onnx/types.ts';
import { writeModel } from '../onnx/write.ts';
import { compactEmbeddings } from './embeddingRows.ts';
import { fixtureModel, openRunner } from './fixtures/models.ts';
import { tappedTensorNames } from './instrument.ts';
import { planBlockCut, segmentModel } from './subgraph.ts';

const gpt2 = fixtureModel('gpt2');
const stages = pipelineStages(gpt2.analysis.linears.filter((l) => l.role !== 'head')).map((s) => ({ layers: s.layers, tensors: tappedTensorNames({ linearInputs: s.layers }) }));
const plan = planBlockCut(gpt2.model, stages);
if (!plan.ok) throw new Error(plan.reason);
const prefix = segmentModel(gpt2.model, plan.cut.prefix, new Map([['input_ids', { tensorType: { elemType: 7 } }]]));
const ids = (values: number[]): Record<string, HostTensor> => ({ input_ids: { dtype: 'int64', dims: [1, values.length], data: BigInt64Array.from(values.map(BigInt)) } });

async function run(model: ModelProto, feeds: Record<string, HostTensor>) {
  const runner = await openRunner(writeModel(model));
  try {
    return await runner.run(feeds);
  } finally {
    await runner.release();
  }
}

describe('compactEmbeddings', () => {
  test('the GPT-2 prefix reads only the rows its ids index, and returns the same bytes', async () => {
    const batches = [ids([3, 7, 3, 40]), ids([-1, 7, 0, 3])];
    const { model, feeds } = compactEmbeddings(prefix, batches);
    const wte = model.graph!.initializer!.find((t) => t.name?.startsWith('transformer.wte.weight::rows'))!;
    expect(wte.dims).toEqual([5, 32]); // rows 0, 3, 7, 40, 47 (−1)
    expect(model.graph!.initializer!.some((t) => t.name === 'transformer.wte.weight')).toBe(false);
    expect(prefix.graph!.initializer!.some((t) => t.name === 'transformer.wte.weight')).toBe(true);
    for (const [b, batch] of batches.entries()) {
      const [want, got] = [await run(prefix, batch), await run(model, { ...batch, ...feeds[b] })];
      for (const name of plan.cut.prefix.outputs) {
        const [x, y] = [want[name].data as Float32Array, got[name].data as Float32Array];
        expect(Buffer.from(y.buffer, y.byteOffset, y.byteLength).equals(Buffer.from(x.buffer, x.byteOffset, x.byteLength)), name).toBe(true);
      }
    }
  });

  test('ids out of range leave the Gather as it is (ORT reports them)', () => {
    const { model, feeds } = compactEmbeddings(prefix, [ids([3, 48])]);
    expect(model).toBe(prefix);
    expect(feeds).toEqual([{}]);
  });
});
