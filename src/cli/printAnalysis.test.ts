// `lab info` prints any analysis: 140 000 linear layers once overflowed the stack while the
// table's column widths were computed (Math.max(...rows)), and 200 000 graph inputs made one
// line of megabytes (issue 7).
import { afterEach, beforeEach, describe, expect, test, vi } from 'vitest';
import { summariseCompression, type LinearLayer, type ModelAnalysis, type TensorInfo } from '../core/model';
import { printAnalysis } from './printAnalysis';

function layer(i: number): LinearLayer {
  const id = `chain_w${i}`;
  return {
    id, name: id, nodeName: `mm${i}`, nodeNames: [`mm${i}`], opType: 'MatMul', weight: id, weightDims: [32, 32], weightDtype: 'float32',
    weightPath: [], weightOperand: 'B', layout: 'in_out', inFeatures: 32, outFeatures: 32, bias: null, biasInitializer: null,
    params: 1024, input: `x${i}`, output: `x${i + 1}`, uses: [], sharedWith: [], block: null, role: 'other', roleSource: 'none', order: i,
  };
}

const tensor = (name: string): TensorInfo => ({ name, dtype: 'float32', shape: [1] });

function analysis(linears: number, inputs: number): ModelAnalysis {
  return {
    irVersion: 8, producer: null, opsetImports: [{ domain: 'ai.onnx', version: 17 }],
    inputs: Array.from({ length: inputs }, (_, i) => tensor(`in${i}`)), outputs: [tensor('y'.repeat(98_630))],
    totalParams: linears * 1024, initializerBytes: {}, linears: Array.from({ length: linears }, (_, i) => layer(i)),
    attention: [], blocks: [], numBlocks: 0, blockSource: 'none', embeddings: [], task: 'unknown', taskReason: 'test', fusedAttention: [],
    warnings: [], unsupported: [], compression: summariseCompression([], null),
  };
}

describe('printAnalysis', () => {
  let lines: string[];
  beforeEach(() => {
    lines = [];
    vi.spyOn(console, 'log').mockImplementation((text: string) => {
      for (const line of String(text).split('\n')) lines.push(line);
    });
  });
  afterEach(() => vi.restoreAllMocks());

  test('prints 140 000 linear layers, one row each', () => {
    printAnalysis('chain.onnx', 1, analysis(140_000, 1));
    expect(lines.filter((line) => /^-\s+chain_w\d+\s/.test(line))).toHaveLength(140_000);
  });

  test('prints the compression verdict, and per layer its zeros and pattern', () => {
    const pruned = analysis(2, 1);
    const row = { prunable: true, elements: 1024, zeros: 512, zeroShare: 0.5, pattern: { kind: 'nm', n: 2, m: 4 } as const, packed: null, unreadable: null };
    pruned.compression = summariseCompression([{ id: 'chain_w0', name: 'chain_w0', ...row }, { id: 'chain_w1', name: 'chain_w1', ...row }], null);
    printAnalysis('pruned.onnx', 1, pruned);
    expect(lines).toContain('  compression   pruned: 50.0 % of prunable linear weights are zero (2:4 in 2 of 2 layers)');
    expect(lines.filter((line) => /^-\s+chain_w\d\s.*\s50\.0 % 2:4$/.test(line))).toHaveLength(2);
  });

  test('200 000 inputs and a 98 630-character output name stay short lines', () => {
    printAnalysis('wide.onnx', 1, analysis(1, 200_000));
    expect(lines.find((line) => line.includes('inputs'))).toMatch(/in7: float32 \[1\]; and 199,992 more$/);
    expect(lines.every((line) => line.length < 300)).toBe(true);
  });
});
