// unmergeDecoder on a hand-built merged graph in Optimum's shape, run in onnxruntime-web: the
// with-past branch adds the past to the product, the no-cache branch does not. The unmerged graph
// is the no-cache branch (its output renamed to the If's), reads only the inputs that branch
// reads, keeps only the initializers it uses, and computes what the merged graph computes with
// use_cache_branch = false. A graph that is not a merged decoder is left alone.
import { describe, expect, test } from 'vitest';
import { openRunner } from '../calibrate/fixtures/models.ts';
import { floatInit, model, node, tensorValue } from '../model/testGraphs.ts';
import { writeModel } from '../onnx/write.ts';
import { AttributeType, DataType, type GraphProto } from '../onnx/types.ts';
import { expectClose } from '../testing/expectClose.ts';
import { unmergeDecoder } from './unmerge.ts';

const x = tensorValue('input', DataType.FLOAT, [1, 4]);
const past = tensorValue('past_key_values.0.key', DataType.FLOAT, [1, 4]);
const useCache = tensorValue('use_cache_branch', DataType.BOOL, [1]);
const branch = (name: string, nodes: ReturnType<typeof node>[], output: string): GraphProto => ({ name, node: nodes, output: [tensorValue(output, DataType.FLOAT, [1, 4])] });

function mergedGraph() {
  const withPast = branch('with_past', [node('MatMul', ['input', 'W'], ['mm_past']), node('Add', ['mm_past', 'past_key_values.0.key'], ['out_past']), node('Mul', ['out_past', 'S'], ['scaled'])], 'scaled');
  const withoutPast = branch('without_past', [node('MatMul', ['input', 'W'], ['mm']), node('Relu', ['mm'], ['out_no_past'])], 'out_no_past');
  const ifNode = { opType: 'If', name: 'optimum::if', input: ['use_cache_branch'], output: ['logits'], attribute: [
    { name: 'then_branch', type: AttributeType.GRAPH, g: withPast },
    { name: 'else_branch', type: AttributeType.GRAPH, g: withoutPast },
  ] };
  const values = (dims: number[], n: number) => ({ ...floatInit('', dims), rawData: new Uint8Array(Float32Array.from({ length: n }, (_, i) => Math.sin(i + 1)).buffer) });
  return model({ nodes: [ifNode], initializers: [{ ...values([4, 4], 16), name: 'W' }, { ...values([1], 1), name: 'S' }], inputs: [x, past, useCache], outputs: [tensorValue('logits', DataType.FLOAT, [1, 4])] });
}

describe('unmergeDecoder', () => {
  test('takes the no-cache branch: past and use_cache_branch dropped, the then-branch weight dropped, the same output as the merged graph fed false', async () => {
    const merged = mergedGraph();
    const unmerged = unmergeDecoder(merged, 'onnx/decoder_model_merged.onnx')!;
    const graph = unmerged.model.graph!;
    expect(graph.input!.map((i) => i.name)).toEqual(['input']);
    expect(graph.initializer!.map((t) => t.name)).toEqual(['W']);
    expect(graph.node!.map((n) => [n.opType, n.output![0]])).toEqual([['MatMul', 'mm'], ['Relu', 'logits']]);
    expect(unmerged.note).toMatch(/^onnx\/decoder_model_merged\.onnx is Optimum's merged decoder: .* It reads no past_key_values, so generation recomputes the window each step\.$/);

    const input = { dtype: 'float32' as const, dims: [1, 4], data: Float32Array.from([0.5, -1, 2, 0.25]) };
    const [a, b] = [await openRunner(writeModel(merged)), await openRunner(writeModel(unmerged.model))];
    try {
      const fed = await a.run({ input, 'past_key_values.0.key': { dtype: 'float32', dims: [1, 4], data: new Float32Array([9, 9, 9, 9]) }, use_cache_branch: { dtype: 'bool', dims: [1], data: new Uint8Array([0]) } });
      const got = await b.run({ input });
      expectClose(got.logits.data as Float32Array, fed.logits.data as Float32Array, { atol: 0, rtol: 0 }, 'unmerged vs merged (false)');
      expect(Array.from(got.logits.data as Float32Array).some((v) => v > 0)).toBe(true);
    } finally {
      await a.release();
      await b.release();
    }
  });

  test('leaves a plain graph, and an If on another condition, alone', () => {
    expect(unmergeDecoder(model({ nodes: [node('Relu', ['x'], ['y'])] }), 'model.onnx')).toBeNull();
    const other = mergedGraph();
    other.graph!.node![0].input = ['some_flag'];
    expect(unmergeDecoder(other, 'model.onnx')).toBeNull();
  });
});
