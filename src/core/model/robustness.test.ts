// The analysis must never throw, whatever graph it is given: every model of ONNX's own
// conformance suite (Debian libonnx-testdata — single operators, subgraphs, sequences, optional
// inputs, functions) is analysed, and the two torch nn.Linear exports in it are read right.
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { listFiles, readBytes, requireTestdata } from '../onnx/fixtures/testdata.ts';
import { readModel } from '../onnx/index.ts';
import { analyzeModel } from './analyze.ts';

describe('ONNX conformance models', () => {
  const root = requireTestdata();

  it('are all analysed without an exception', () => {
    const files = listFiles(root, '.onnx');
    expect(files.length).toBeGreaterThan(1000);
    const failures: string[] = [];
    for (const file of files) {
      try {
        analyzeModel(readModel(readBytes(file)));
      } catch (error) {
        failures.push(`${file.slice(root.length + 1)}: ${(error as Error).message}`);
      }
    }
    expect(failures).toEqual([]);
  });

  it('read torch nn.Linear(10, 8) as Gemm(transB=1) and as MatMul(x, Transpose(W))', () => {
    const analyse = (name: string) => analyzeModel(readModel(readBytes(join(root, 'pytorch-converted', name, 'model.onnx'))));
    expect(analyse('test_Linear').linears).toMatchObject([{ opType: 'Gemm', layout: 'out_in', inFeatures: 10, outFeatures: 8, role: 'head' }]);
    expect(analyse('test_Linear_no_bias').linears).toMatchObject([
      { opType: 'MatMul', layout: 'out_in', weightPath: ['Transpose'], inFeatures: 10, outFeatures: 8, bias: null },
    ]);
  });
});
