// The round trip is invisible to onnxruntime: original and re-written bytes give bit-identical
// outputs on the conformance test inputs, and those outputs match the expected output_*.pb.
// (The only file in src/core/onnx that imports onnxruntime-web; it is a test.)
import * as ort from 'onnxruntime-web';
import { describe, expect, test } from 'vitest';
import { readModel } from './read.ts';
import { writeModel } from './write.ts';
import { decodeMessage } from './decode.ts';
import { readTensor, setTensorFloat32, tensorToFloat32, type TensorData } from './tensor.ts';
import { modelTensors } from './graph.ts';
import { DataType } from './types.ts';
import { expectClose } from '../testing/expectClose.ts';
import { fedInputs, listFiles, readBytes, testModelDir } from './fixtures/testdata.ts';

ort.env.wasm.numThreads = 1;
ort.env.logLevel = 'error'; // the opset-6 pytorch models trigger legacy-opset warnings

function toOrtTensor({ dtype, dims, data }: TensorData): ort.Tensor {
  return new ort.Tensor(dtype as ort.Tensor.Type, data as ort.Tensor.DataType, dims);
}

function asNumbers(data: ort.Tensor['data']): ArrayLike<number> {
  return data instanceof BigInt64Array ? Array.from(data, Number) : (data as Float32Array);
}

async function run(bytes: Uint8Array, feeds: Record<string, ort.Tensor>): Promise<ort.InferenceSession.ReturnType> {
  const session = await ort.InferenceSession.create(bytes);
  try {
    return await session.run(feeds);
  } finally {
    await session.release();
  }
}

describe.each([
  'node/test_layer_normalization_4d_axis0_expanded', // 30 nodes, Constant tensors
  'pytorch-converted/test_Conv2d', // raw_data initializers
  'node/test_matmul_2d',
])('onnxruntime-web on %s', (name) => {
  test('original, round-tripped and re-stored bytes give identical outputs, matching output_*.pb', async () => {
    const dir = testModelDir(name);
    const original = readBytes(`${dir}/model.onnx`);
    const model = readModel(original);
    const roundTripped = writeModel(model);
    // Also re-store every float tensor through setTensorFloat32, as compression will.
    const restored = readModel(original);
    for (const t of modelTensors(restored)) if (t.dataType === DataType.FLOAT) setTensorFloat32(t, tensorToFloat32(t).slice());
    const rewritten = writeModel(restored);

    const dataSet = `${dir}/test_data_set_0`;
    const inputs = fedInputs(model);
    const feeds: Record<string, ort.Tensor> = {};
    for (const file of listFiles(dataSet, '.pb').filter((f) => /input_\d+\.pb$/.test(f))) {
      const index = Number(/input_(\d+)\.pb$/.exec(file)?.[1]);
      feeds[inputs[index].name as string] = toOrtTensor(readTensor(decodeMessage(readBytes(file), 'TensorProto')));
    }

    const before = await run(original, feeds);
    const after = await run(roundTripped, feeds);
    const afterRestore = await run(rewritten, feeds);
    const outputNames = (model.graph?.output ?? []).map((o) => o.name as string);
    outputNames.forEach((output, i) => {
      expectClose(asNumbers(after[output].data), asNumbers(before[output].data), { atol: 0, rtol: 0 }, `${name} ${output}`);
      expectClose(asNumbers(afterRestore[output].data), asNumbers(before[output].data), { atol: 0, rtol: 0 }, `${name} ${output} (re-stored)`);
      const expected = readTensor(decodeMessage(readBytes(`${dataSet}/output_${i}.pb`), 'TensorProto'));
      expect(after[output].dims).toEqual(expected.dims);
      expectClose(asNumbers(after[output].data), expected.data as Float32Array, { atol: 1e-5, rtol: 1e-3 }, `${name} ${output} vs output_${i}.pb`);
    });
  });
});
