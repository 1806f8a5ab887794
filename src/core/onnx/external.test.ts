import { describe, expect, test } from 'vitest';
import { ExternalDataError, externalDataRefs, resolveExternalData } from './external.ts';
import { readModel } from './read.ts';
import { writeModel } from './write.ts';
import { tensorToFloat32 } from './tensor.ts';
import { DataType, type ModelProto, type TensorProto } from './types.ts';
import { expectClose } from '../testing/expectClose.ts';

function externalTensor(name: string, dims: number[], location: string, offset: number, length: number): TensorProto {
  return {
    name,
    dims,
    dataType: DataType.FLOAT,
    dataLocation: 1, // TensorProto.DataLocation.EXTERNAL
    externalData: [
      { key: 'location', value: location },
      { key: 'offset', value: String(offset) },
      { key: 'length', value: String(length) },
    ],
  };
}

/** A model as torch.onnx.export writes one over 2 GiB: initializers in "weights.data", plus a Constant. */
function modelBytes(): Uint8Array {
  const model: ModelProto = {
    irVersion: 8,
    opsetImport: [{ version: 17 }],
    graph: {
      name: 'g',
      initializer: [externalTensor('w1', [2, 2], 'weights.data', 0, 16), externalTensor('w2', [3], './weights.data', 16, 12)],
      node: [{ opType: 'Constant', output: ['c'], attribute: [{ name: 'value', type: 4, t: externalTensor('c', [1], 'consts.bin', 0, 4) }] }],
    },
  };
  return writeModel(model);
}

const weightsFile = new Uint8Array(new Float32Array([1, 2, 3, 4, 5, 6, 7]).buffer);
const constsFile = new Uint8Array(new Float32Array([42]).buffer);

describe('external data', () => {
  test('externalDataRefs lists every EXTERNAL tensor, attribute tensors included', () => {
    const refs = externalDataRefs(readModel(modelBytes()));
    expect(refs.map(({ tensorName, location, offset, length }) => ({ tensorName, location, offset, length }))).toEqual([
      { tensorName: 'w1', location: 'weights.data', offset: 0, length: 16 },
      { tensorName: 'w2', location: './weights.data', offset: 16, length: 12 },
      { tensorName: 'c', location: 'consts.bin', offset: 0, length: 4 },
    ]);
  });

  test('missing files are named together with the tensors that need them, and nothing is changed', () => {
    const model = readModel(modelBytes());
    let error: unknown;
    try {
      resolveExternalData(model, new Map([['consts.bin', constsFile]]));
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ExternalDataError);
    expect((error as Error).message).toBe(
      'Missing external data file: "weights.data" (needed by 2 tensors: "w1", "w2"). Load the file saved next to the .onnx model together with it.',
    );
    expect([...(error as ExternalDataError).missingFiles.keys()]).toEqual(['weights.data']);
    expect(model.graph?.node?.[0].attribute?.[0].t?.rawData).toBeUndefined();
  });

  test('with the files supplied, tensors become self-contained views of them', () => {
    const model = resolveExternalData(readModel(modelBytes()), new Map([['weights.data', weightsFile], ['consts.bin', constsFile]]));
    const [w1, w2] = model.graph?.initializer ?? [];
    expectClose(tensorToFloat32(w1), [1, 2, 3, 4], { atol: 0, rtol: 0 }, 'w1');
    expectClose(tensorToFloat32(w2), [5, 6, 7], { atol: 0, rtol: 0 }, 'w2');
    expect(w1.rawData?.buffer).toBe(weightsFile.buffer);
    expect(w1.dataLocation).toBeUndefined();
    expect(w1.externalData).toBeUndefined();
    expect(externalDataRefs(model)).toEqual([]);
    // …so the model now writes as one self-contained file.
    expectClose(tensorToFloat32(readModel(writeModel(model)).graph?.initializer?.[1] as TensorProto), [5, 6, 7], { atol: 0, rtol: 0 });
  });

  test('a file shorter than the tensor needs is an error naming both', () => {
    const model = readModel(modelBytes());
    const short = weightsFile.subarray(0, 20);
    expect(() => resolveExternalData(model, new Map([['weights.data', short], ['consts.bin', constsFile]]))).toThrow(
      'Tensor "w2": bytes 16..28 are outside "./weights.data" (20 bytes)',
    );
  });

  test('a length that does not match dims and data type is an error', () => {
    const model: ModelProto = { irVersion: 8, graph: { initializer: [externalTensor('w', [4], 'x.data', 0, 8)] } };
    expect(() => resolveExternalData(model, new Map([['x.data', new Uint8Array(8)]]))).toThrow(
      'Tensor "w": "x.data" gives 8 bytes, but its dims and float32 need 16',
    );
  });

  test('a location without an offset or length reads the whole file; bad numbers are refused', () => {
    const whole: TensorProto = { name: 'w', dims: [7], dataType: DataType.FLOAT, dataLocation: 1, externalData: [{ key: 'location', value: 'sub/w.bin' }] };
    const model = resolveExternalData({ irVersion: 8, graph: { initializer: [whole] } }, new Map([['w.bin', weightsFile]]));
    expect(model.graph?.initializer?.[0].rawData?.length).toBe(28);
    const bad = externalTensor('w', [1], 'x', 0, 4);
    bad.externalData?.push({ key: 'offset', value: '-5' });
    expect(() => externalDataRefs({ graph: { initializer: [bad] } })).toThrow('external_data "offset" is "-5", not a byte count');
  });
});
