// Lossless round trip over ONNX's own conformance corpus (libonnx-testdata): every model, and
// every tensor file of the test data sets.
import { dirname, join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { readModel } from './read.ts';
import { writeModel } from './write.ts';
import { decodeMessage } from './decode.ts';
import { encodeMessage } from './encode.ts';
import { expectDeepEqual } from '../testing/expectClose.ts';
import { fedInputs, listFiles, readBytes, requireTestdata } from './fixtures/testdata.ts';
import type { ModelProto } from './types.ts';

const root = requireTestdata();
const modelFiles = listFiles(root, '.onnx');

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

describe('libonnx-testdata models', () => {
  test('the corpus is there (at least 1000 models)', () => {
    console.log(`round-tripping ${modelFiles.length} models from ${root}`);
    expect(modelFiles.length).toBeGreaterThanOrEqual(1000);
  });

  test('read → write → read is structurally identical, and writing is idempotent', () => {
    let identicalToOriginal = 0;
    for (const file of modelFiles) {
      const label = file.slice(root.length + 1);
      const original = readBytes(file);
      const model = readModel(original);
      const written = writeModel(model);
      const reread = readModel(written);
      expectDeepEqual(reread, model, label);
      expect(sameBytes(writeModel(reread), written), `${label}: write(read(write(read(x)))) differs from write(read(x))`).toBe(true);
      if (sameBytes(written, original)) identicalToOriginal++;
    }
    // The corpus was written by protobuf C++, whose canonical form our writer reproduces.
    console.log(`${identicalToOriginal} of ${modelFiles.length} models re-encode byte-identical to the original file`);
    expect(identicalToOriginal).toBe(modelFiles.length);
  });
});

/** The .pb files of one test folder that hold a TensorProto, per the model's declared types. */
function tensorFiles(modelFile: string, model: ModelProto): { tensors: string[]; others: number } {
  const inputs = fedInputs(model);
  const outputs = model.graph?.output ?? [];
  const tensors: string[] = [];
  let others = 0;
  for (const file of listFiles(dirname(modelFile), '.pb')) {
    const match = /(input|output)_(\d+)\.pb$/.exec(file);
    if (match === null) continue;
    const info = (match[1] === 'input' ? inputs : outputs)[Number(match[2])];
    // Sequence, optional and map values are SequenceProto/OptionalProto/MapProto (onnx-data.proto).
    if (info?.type?.tensorType !== undefined) tensors.push(file);
    else others++;
  }
  return { tensors, others };
}

describe('libonnx-testdata tensor files (test_data_set_*/input_*.pb, output_*.pb)', () => {
  test('decode → encode as TensorProto reproduces the bytes', () => {
    let count = 0;
    let skipped = 0;
    for (const modelFile of modelFiles.filter((f) => f.endsWith('model.onnx'))) {
      const { tensors, others } = tensorFiles(modelFile, readModel(readBytes(modelFile)));
      skipped += others;
      for (const file of tensors) {
        const label = file.slice(root.length + 1);
        const bytes = readBytes(file);
        const tensor = decodeMessage(bytes, 'TensorProto');
        const written = encodeMessage(tensor, 'TensorProto');
        expectDeepEqual(decodeMessage(written, 'TensorProto'), tensor, label);
        expect(sameBytes(written, bytes), `${label}: re-encoded bytes differ`).toBe(true);
        count++;
      }
    }
    console.log(`${count} TensorProto files round-tripped; ${skipped} sequence/optional/map files skipped`);
    expect(count).toBeGreaterThan(2500);
  });

  test('the folder layout is as expected', () => {
    expect(listFiles(join(root, 'node', 'test_matmul_2d'), '.pb').length).toBe(3);
  });
});
