// BiBench's post-training binarizers against scripts/fixtures/binary_reference.py (torch 1.13,
// htqin/BiBench's BNNLinear, DoReFaLinear and XNORLinear weight paths): Ŵ within 1e-6.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { expectClose } from '../testing/expectClose.ts';
import { binarize, binarySize, type Binarizer } from './binary.ts';
import type { Granularity } from './types.ts';

interface BinaryFixture {
  layer: { rows: number; cols: number; weight: number[] };
  cases: { binarizer: Binarizer; granularity: 'row' | 'tensor' | 'group'; groupSize: number | null; weight: number[] }[];
}

const fixture = JSON.parse(readFileSync(join(import.meta.dirname, 'fixtures/binary.json'), 'utf8')) as BinaryFixture;
const layer = { rows: fixture.layer.rows, cols: fixture.layer.cols, data: Float32Array.from(fixture.layer.weight) };

const granularityOf = (c: BinaryFixture['cases'][number]): Granularity => (c.granularity === 'group' ? { kind: 'group', size: c.groupSize! } : { kind: c.granularity });

describe('binarize (BiBench baselines)', () => {
  for (const c of fixture.cases) {
    it(`${c.binarizer}, ${c.granularity}: equals the torch reference within 1e-6`, () => {
      const result = binarize(layer, c.binarizer, granularityOf(c));
      expectClose(result.weight.data, c.weight, { atol: 1e-6, rtol: 1e-6 }, `${c.binarizer} ${c.granularity}`);
    });
  }

  it('takes one value ±α per row (XNOR per row), 0 only where torch.sign gives 0', () => {
    const { weight, scales, zeros } = binarize(layer, 'dorefa', { kind: 'row' });
    for (let r = 0; r < layer.rows; r++) {
      for (let c = 0; c < layer.cols; c++) {
        const v = weight.data[r * layer.cols + c];
        const w = layer.data[r * layer.cols + c];
        expect(v).toBe(w === 0 ? 0 : Math.sign(w) * scales[r]);
      }
    }
    // Row 1 is all zero and row 2 has every third weight zero (pruned): both stay zero.
    expect(zeros).toBe(layer.cols + Math.ceil(layer.cols / 3));
  });

  it('counts 1 bit per weight and one float32 α per cell', () => {
    expect(binarySize(128, 512, 'xnor', { kind: 'row' })).toEqual({ weights: 8192, scales: 512 });
    expect(binarySize(128, 512, 'dorefa', { kind: 'tensor' })).toEqual({ weights: 8192, scales: 4 });
    expect(binarySize(128, 512, 'bnn', { kind: 'row' })).toEqual({ weights: 8192, scales: 0 });
    expect(binarySize(3, 5, 'xnor', { kind: 'group', size: 2 })).toEqual({ weights: 2, scales: 36 });
  });
});
