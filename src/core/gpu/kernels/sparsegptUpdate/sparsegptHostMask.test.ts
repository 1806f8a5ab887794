// SparseGptGpu with a HostMaskStep: the block walked span by span, each span's mask chosen on the
// host from the weights read back at that point. A host that returns a fixed mask must give the
// bits of the given-mask sweep, and the weights it is shown must be the reference's at that point.
import { expect, test } from 'vitest';
import { expectClose } from '../../../testing/expectClose';
import { sparsegptHinvUpper } from '../../testing/hessianInverse';
import { describeGpu } from '../../testing/describeGpu';
import { normalArray, seededUniform } from '../../testing/random';
import { readColumnsRef } from '../columnRange/columnRange.ref';
import { SparseGptGpu, type HostMaskStep } from './sparsegptUpdate.gpu';
import { createSparseGptStateRef, sparsegptBlockRef, sparsegptLazyUpdateRef } from './sparsegptUpdate.ref';

const rows = 21;
const cols = 200;
const blockSize = 64; // blocks of 64, 64, 64 and 8

function layer() {
  const tokens = 2 * cols;
  const x = normalArray(tokens * cols, 70);
  const h = new Float64Array(cols * cols);
  for (let t = 0; t < tokens; t++) for (let a = 0; a < cols; a++) for (let b = 0; b < cols; b++) h[a * cols + b] += (2 / tokens) * x[t * cols + a] * x[t * cols + b];
  const coin = seededUniform(72);
  return {
    weights: normalArray(rows * cols, 71, 0.05),
    hinvUpper: sparsegptHinvUpper(h, cols).hinvUpper,
    keepMask: Uint8Array.from({ length: rows * cols }, () => (coin() < 0.5 ? 1 : 0)),
  };
}

describeGpu('sparsegptUpdate with host-chosen masks', (gpu) => {
  const { weights, hinvUpper, keepMask } = layer();

  /**
   * The weights at every span start of the reference sweep with the mask given: each block walked
   * column by column as sparsegptBlockRef does, paused at the span starts, then the reference's
   * own block and lazy update to go on.
   */
  function referenceAtSpanStarts(span: number): Map<number, Float32Array> {
    const f = Math.fround;
    const state = createSparseGptStateRef(weights, hinvUpper, rows, cols, { kind: 'mask', keepMask });
    const seen = new Map<number, Float32Array>();
    for (let start = 0; start < cols; start += blockSize) {
      const end = Math.min(start + blockSize, cols);
      const w = Float32Array.from(state.weights);
      for (let i = start; i < end; i++) {
        if ((i - start) % span === 0) seen.set(i, readColumnsRef(w, rows, cols, i, Math.min(i + span, end)));
        const d = hinvUpper[i * cols + i];
        for (let r = 0; r < rows; r++) {
          const value = w[r * cols + i];
          const e = f(f(value - (keepMask[r * cols + i] ? value : 0)) / d);
          for (let j = i; j < end; j++) w[r * cols + j] = f(w[r * cols + j] - f(e * hinvUpper[i * cols + j]));
        }
      }
      sparsegptLazyUpdateRef(state, sparsegptBlockRef(state, start, end), start, end);
    }
    return seen;
  }

  test.each([64, 8, 5])('span %i: same bits as the given-mask sweep; the host sees the reference weights', async (span) => {
    const given = new SparseGptGpu(gpu(), { rows, cols, weights, hinvUpper, pattern: { kind: 'mask', keepMask } });
    await given.run(blockSize);
    const expected = await given.read();
    given.destroy();

    const seen = new Map<number, Float32Array>();
    const host: HostMaskStep = {
      span,
      choose: (current, start, end) => {
        seen.set(start, current);
        return readColumnsRef(keepMask, rows, cols, start, end);
      },
    };
    const session = new SparseGptGpu(gpu(), { rows, cols, weights, hinvUpper, pattern: { kind: 'mask', keepMask: new Uint8Array(rows * cols).fill(1) } });
    try {
      await session.run(blockSize, host);
      const got = await session.read();
      expectClose(got.keepMask, expected.keepMask, { atol: 0, rtol: 0 }, 'keep mask');
      expectClose(got.weights, expected.weights, { atol: 0, rtol: 0 }, 'weights');
    } finally {
      session.destroy();
    }
    // Span starts: every `span` columns from each block start (blocks of 64; the last is 8 wide).
    const expectedSeen = referenceAtSpanStarts(span);
    expect([...seen.keys()]).toEqual([...expectedSeen.keys()]);
    // The kernel tests' tolerance for a sweep (bit-identical on llvmpipe and SwiftShader).
    const rtol = 4 * cols * 2 ** -24;
    const tolerance = { atol: rtol * weights.reduce((m, v) => Math.max(m, Math.abs(v)), 0), rtol };
    for (const [start, current] of seen) expectClose(current, expectedSeen.get(start)!, tolerance, `weights shown to the host at column ${start}`);
  });

  test('refused: a host mask with N:M chosen in the kernel, a span over 128, a mask of the wrong size', async () => {
    const choose = () => new Uint8Array(1);
    const nm = new SparseGptGpu(gpu(), { rows, cols, weights, hinvUpper, pattern: { kind: 'nm', n: 2, m: 4 } });
    await expect(nm.runBlock(0, 64, { span: 8, choose })).rejects.toThrow('exclude each other');
    nm.destroy();
    const session = new SparseGptGpu(gpu(), { rows, cols, weights, hinvUpper, pattern: { kind: 'mask', keepMask } });
    await expect(session.runBlock(0, 64, { span: 129, choose })).rejects.toThrow('span must be an integer in 1…128');
    await expect(session.runBlock(0, 64, { span: 8, choose })).rejects.toThrow('host mask for columns [0, 8) has 1 values, expected 21×8');
    session.destroy();
  });
});
