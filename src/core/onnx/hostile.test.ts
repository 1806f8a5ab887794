// Hostile and wrong input: every failure is an OnnxFormatError with a specific message; nothing
// hangs, overflows the stack or escapes as a RangeError.
import { describe, expect, test } from 'vitest';
import { readModel } from './read.ts';
import { writeModel } from './write.ts';
import { WireReader } from './wire.ts';
import { OnnxFormatError, type ModelProto } from './types.ts';
import { makeFloatTensor } from './tensor.ts';
import { expectDeepEqual } from '../testing/expectClose.ts';
import { seededUniform } from '../testing/random.ts';
import { bytesOf, fLen, fString, fVarint, minimalModel, tag, varint } from './fixtures/protobytes.ts';
import { readBytes, testModelDir } from './fixtures/testdata.ts';

/** The error readModel throws, asserting it is an OnnxFormatError. */
function readError(bytes: Uint8Array): OnnxFormatError {
  try {
    readModel(bytes);
  } catch (error) {
    if (error instanceof OnnxFormatError) return error;
    throw new Error(`expected OnnxFormatError, got ${String(error)}`);
  }
  throw new Error('expected readModel to throw');
}

const text = (s: string) => new TextEncoder().encode(s);

function zipWithFirstEntry(name: string): Uint8Array {
  const header = new Uint8Array(30 + name.length);
  header.set([0x50, 0x4b, 0x03, 0x04]);
  header[26] = name.length;
  header.set(text(name), 30);
  return header;
}

function safetensors(): Uint8Array {
  const json = text('{"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}');
  const out = new Uint8Array(8 + json.length + 4);
  new DataView(out.buffer).setUint32(0, json.length, true);
  out.set(json, 8);
  return out;
}

describe('wrong kinds of file are named', () => {
  const cases: [string, Uint8Array, RegExp][] = [
    ['empty', new Uint8Array(0), /Not an ONNX model: the file is empty/],
    ['PyTorch .pt', zipWithFirstEntry('archive/data.pkl'), /ZIP archive \(first entry "archive\/data.pkl"\); it looks like a PyTorch checkpoint.*torch\.onnx\.export/],
    ['NumPy .npz', zipWithFirstEntry('arr_0.npy'), /ZIP archive.*NumPy \.npz/],
    ['Keras .keras', zipWithFirstEntry('metadata.json'), /ZIP archive.*Keras \.keras/],
    ['HDF5', bytesOf([0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0]), /HDF5 file \(Keras \.h5/],
    ['PNG', bytesOf([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0]), /PNG image/],
    ['JPEG', bytesOf([0xff, 0xd8, 0xff, 0xe0, 0, 0x10]), /JPEG image/],
    ['GIF', text('GIF89a\x01\x00'), /GIF image/],
    ['gzip', bytesOf([0x1f, 0x8b, 0x08, 0, 0, 0]), /gzip-compressed/],
    ['TFLite', bytesOf([0x1c, 0, 0, 0], Array.from(text('TFL3')), [0, 0, 0, 0]), /TensorFlow Lite model/],
    ['ORT format', bytesOf([0x1c, 0, 0, 0], Array.from(text('ORTM')), [0, 0]), /ONNX Runtime \.ort/],
    ['safetensors', safetensors(), /safetensors file \(weights only, no graph\)/],
    ['JSON', text('{\n  "model_type": "gpt2"\n}\n'), /JSON text file/],
    ['text', text('hello, this is a README\n'), /this is a text file/],
    ['Git LFS pointer', text('version https://git-lfs.github.com/spec/v1\noid sha256:abc\nsize 12\n'), /Git LFS pointer.*git lfs pull/],
    ['HTML page', text('<!DOCTYPE html><html><body>Sign in</body></html>'), /HTML web page/],
    ['pickle', bytesOf([0x80, 0x02, 0x8a, 0x0a]), /Python pickle/],
    ['NumPy .npy', bytesOf([0x93], Array.from(text('NUMPY')), [1, 0]), /NumPy \.npy/],
  ];
  test.each(cases)('%s', (_, bytes, message) => {
    const error = readError(bytes);
    expect(error.message).toMatch(/^Not an ONNX model: /);
    expect(error.message).toMatch(message);
  });

  test('a test_data_set tensor file is recognised as a TensorProto', () => {
    const pb = readBytes(`${testModelDir('node/test_matmul_2d')}/test_data_set_0/input_0.pb`);
    expect(readError(pb).message).toMatch(/looks like a single serialized TensorProto \(float32 \[3, 4\]\)/);
  });

  test('a protobuf without graph or ir_version is not a model', () => {
    expect(readError(bytesOf(fVarint(1, 8))).message).toBe('Not an ONNX model: no graph field (7) found in ModelProto');
    expect(readError(bytesOf(fLen(7, fString(2, 'g')))).message).toBe('Not an ONNX model: no ir_version field (1) found in ModelProto');
  });

  test('one-byte files', () => {
    expect(readError(bytesOf([0x08])).message).toBe('Truncated file: ModelProto.ir_version varint at byte 1 runs past the end of the file (byte 1)');
    expect(readError(bytesOf([0x00])).message).toMatch(/invalid field tag at byte 0/);
    expect(readError(bytesOf([0x0f])).message).toMatch(/invalid wire type 7 for field 1 near byte 1/);
  });
});

describe('truncation', () => {
  function modelWithWeight(): Uint8Array {
    const weight = makeFloatTensor('h.0.attn.weight', [32, 32], new Float32Array(1024).fill(0.5));
    const model: ModelProto = {
      irVersion: 8,
      opsetImport: [{ version: 17 }],
      graph: { name: 'g', initializer: [makeFloatTensor('bias', [2], new Float32Array(2)), weight] },
    };
    return writeModel(model);
  }

  test('the message names the innermost field cut off, its size and both offsets', () => {
    const full = modelWithWeight();
    const rawData = readModel(full).graph?.initializer?.[1].rawData as Uint8Array;
    const cutAt = rawData.byteOffset + 1000;
    const error = readError(full.slice(0, cutAt));
    expect(error.message).toBe(
      `Truncated file: ModelProto.graph ("g") > GraphProto.initializer[1] ("h.0.attn.weight") > TensorProto.raw_data needs 4096 bytes at byte ${rawData.byteOffset}, but the file ends at byte ${cutAt}`,
    );
    expect(error.offset).toBe(rawData.byteOffset);
    expect(error.fieldPath).toBe('ModelProto.graph ("g") > GraphProto.initializer[1] ("h.0.attn.weight") > TensorProto.raw_data');
  });

  /** Offsets where a top-level ModelProto field ends: a cut there leaves a valid (shorter) message. */
  function topLevelFieldEnds(bytes: Uint8Array): Set<number> {
    const r = new WireReader(bytes);
    const ends = new Set<number>([0]);
    while (r.pos < bytes.length) {
      const field = r.readTag();
      r.skipValue(r.lo & 7, field);
      ends.add(r.pos);
    }
    return ends;
  }

  test.each(['pytorch-converted/test_Conv2d', 'node/test_layer_normalization_4d_axis0_expanded'])(
    'every cut of %s throws OnnxFormatError unless it falls between complete top-level fields',
    (name) => {
      const full = readBytes(`${testModelDir(name)}/model.onnx`);
      const fieldEnds = topLevelFieldEnds(full);
      let threw = 0;
      for (let cut = 0; cut < full.length; cut++) {
        const prefix = full.slice(0, cut);
        try {
          readModel(prefix);
        } catch (error) {
          if (!(error instanceof OnnxFormatError)) throw new Error(`cut at ${cut}: ${String(error)}`);
          threw++;
          continue;
        }
        expect(fieldEnds.has(cut), `cut at ${cut} parsed although it splits a field`).toBe(true);
      }
      expect(threw).toBeGreaterThan(full.length - 5);
    },
  );
});

describe('garbage', () => {
  test('seeded random bytes: a model or an OnnxFormatError, never anything else', () => {
    const next = seededUniform(20240611);
    for (let i = 0; i < 3000; i++) {
      const bytes = new Uint8Array(1 + Math.floor(next() * 300));
      for (let j = 0; j < bytes.length; j++) bytes[j] = Math.floor(next() * 256);
      try {
        readModel(bytes);
      } catch (error) {
        if (!(error instanceof OnnxFormatError)) throw new Error(`case ${i}: ${String(error)}`);
      }
    }
  });

  test('seeded byte flips in a real model: whatever parses also writes and re-reads identically', () => {
    const original = readBytes(`${testModelDir('node/test_layer_normalization_4d_axis0_expanded')}/model.onnx`);
    const next = seededUniform(7);
    let parsed = 0;
    for (let i = 0; i < 2000; i++) {
      const bytes = original.slice();
      const flips = 1 + Math.floor(next() * 4);
      for (let f = 0; f < flips; f++) bytes[Math.floor(next() * bytes.length)] = Math.floor(next() * 256);
      let model: ModelProto;
      try {
        model = readModel(bytes);
      } catch (error) {
        if (!(error instanceof OnnxFormatError)) throw new Error(`case ${i}: ${String(error)}`);
        continue;
      }
      parsed++;
      expectDeepEqual(readModel(writeModel(model)), model, `mutated case ${i}`);
    }
    expect(parsed).toBeGreaterThan(100); // most single-byte flips land in tensor data or names
  });
});

describe('resource bombs', () => {
  test('messages nested 10,000 deep are refused at depth 100', () => {
    // TypeProto { sequence_type { elem_type: TypeProto { … } } } 10,000 deep. Sizes are computed
    // from the inside and headers emitted from the outside (wrapping repeatedly is quadratic).
    const depth = 10000;
    const typeSizes = [0]; // typeSizes[i]: bytes of a TypeProto nested i levels deep
    const sequenceSize = (inner: number) => 1 + varint(inner).length + inner;
    for (let i = 0; i < depth; i++) typeSizes.push(1 + varint(sequenceSize(typeSizes[i])).length + sequenceSize(typeSizes[i]));
    const type: number[] = [];
    for (let i = depth; i > 0; i--) {
      type.push(...tag(4, 2), ...varint(sequenceSize(typeSizes[i - 1])), ...tag(1, 2), ...varint(typeSizes[i - 1]));
    }
    const bytes = minimalModel([fLen(11, [...fString(1, 'x'), ...fLen(2, type)])]);
    const error = readError(bytes);
    expect(error.message).toMatch(/^Corrupt data: ModelProto.graph > GraphProto.input\[0\] \("x"\) > ValueInfoProto.type > TypeProto.sequence_type > .* messages nested deeper than 100 levels at byte \d+$/);
  });

  test('subgraphs nested within the limit still parse', () => {
    let graph: number[] = fString(2, 'leaf');
    for (let i = 0; i < 20; i++) graph = fLen(1, fLen(5, [...fString(1, 'then_branch'), ...fLen(6, graph), ...fVarint(20, 5)])); // node.attribute.g
    const model = readModel(minimalModel([graph]));
    expect(model.graph?.node?.[0].attribute?.[0].name).toBe('then_branch');
  });

  test('unknown groups nested 100,000 deep are refused', () => {
    const open = new Array(100000).fill(0x0b); // field 1, start group
    const bytes = bytesOf(fVarint(1, 8), fLen(7, [...varint(99 * 8 + 3), ...open]));
    expect(readError(bytes).message).toMatch(/groups nested deeper than 100/);
  });

  test('a length prefix of 2^40 is refused', () => {
    const bytes = bytesOf(fVarint(1, 8), [0x3a, ...varint(2 ** 40)], fString(2, 'g'));
    const error = readError(bytes);
    expect(error.message).toMatch(/^Truncated file: ModelProto.graph needs 1099511627776 bytes at byte 9, but the file ends at byte 12$/);
  });

  test('a corrupt length inside a message names the enclosing end', () => {
    const graph = [...fLen(5, [...fString(8, 'w'), 0x4a, ...varint(1000)]), ...fString(2, 'g')]; // raw_data claims 1000 bytes
    const error = readError(minimalModel([graph]));
    expect(error.message).toMatch(/^Corrupt length: ModelProto.graph > GraphProto.initializer\[0\] \("w"\) > TensorProto.raw_data needs 1000 bytes at byte \d+, but the enclosing message ends at byte \d+$/);
  });
});
