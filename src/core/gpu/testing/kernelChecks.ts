// Every kernel's cases (testing/cases/, the ones its Node test runs) as plain checks against the
// kernel's CPU reference, with the same tolerances, runnable wherever a GpuContext exists: the
// browser's kernel check page (src/kernelCheck, driven by e2e/kernels.e2e.ts) and Node
// (kernelChecks.test.ts). Large cases are left out by `maxElements`: a software adapter
// (SwiftShader in the e2e run) is slow, and the Node tests run them anyway.
import { expectClose } from '../../testing/expectClose';
import { GpuContext, type GpuContextOptions } from '../context';
import { encodeReadColumns, encodeWriteColumns } from '../kernels/columnRange/columnRange.gpu';
import { readColumnsRef, writeColumnsRef } from '../kernels/columnRange/columnRange.ref';
import { globalSelectGpu, thresholdSelectGpu } from '../kernels/globalSelect/globalSelect.gpu';
import { globalSelectRef, thresholdSelectRef } from '../kernels/globalSelect/globalSelect.ref';
import { HessianAccumulatorGpu } from '../kernels/hessian/hessian.gpu';
import { nmSelectGpu } from '../kernels/nmSelect/nmSelect.gpu';
import { nmSelectRef } from '../kernels/nmSelect/nmSelect.ref';
import { rowSelectGpu } from '../kernels/rowSelect/rowSelect.gpu';
import { rowSelectRef } from '../kernels/rowSelect/rowSelect.ref';
import { SparseGptGpu, sparsegptPruneGpu } from '../kernels/sparsegptUpdate/sparsegptUpdate.gpu';
import { wandaScoreGpu } from '../kernels/wandaScore/wandaScore.gpu';
import { quantGridGpu } from '../kernels/quantGrid/quantGrid.gpu';
import { quantGridRef } from '../kernels/quantGrid/quantGrid.ref';
import { gptqQuantizeGpu } from '../kernels/gptqUpdate/gptqUpdate.gpu';
import { gptqQuantizeRef } from '../kernels/gptqUpdate/gptqUpdate.ref';
import { wandaScoreRef } from '../kernels/wandaScore/wandaScore.ref';
import { COLUMN_RANGE_FOLD_CAPS, columnRangeCases, columnRangeMatrix } from './cases/columnRange';
import { globalSelectCases, globalSelectCountViolation } from './cases/globalSelect';
import { gramTolerance, hessianCases, hessianReferenceOf, type HessianCase } from './cases/hessian';
import { NM_SPLIT_CAPS, nmCases, nmPatternViolation, nmSplitCase } from './cases/nmSelect';
import { ROW_SELECT_SPLIT_CAPS, rowSelectCases, rowSelectCountViolation, rowSelectSplitCase } from './cases/rowSelect';
import { DEVICE_BLOCK_MASK_SPARSITIES, deviceBlockMaskLayer, hostBlockMask, sparsegptCases, sparsegptRunRef, updateTolerance } from './cases/sparsegptUpdate';
import { SCORE_TOLERANCE, wandaCases } from './cases/wandaScore';
import { quantGridCases, quantGridViolation } from './cases/quantGrid';
import { gptqKernelCases, gptqViolation } from './cases/gptqUpdate';
import type { CheckedKernel, KernelCheckResult } from './kernelCheckResult';
import { gammaF32 } from './random';
import { matmulGpu } from '../kernels/sparseMatmul/sparseMatmul.gpu';
import { blockSparseMatmulRef, denseMatmulRef, sparse24MatmulRef } from '../kernels/sparseMatmul/sparseMatmul.ref';
import { packBlockSparse, packSparse24 } from '../kernels/sparseMatmul/sparseFormats';
import type { MatmulWeight } from '../kernels/sparseMatmul/layouts';
import { denseMatmulCases, matmulTolerance, pruneGroups, pruneTwoOfFour, sparseMatmulCases, type MatmulCase } from './cases/sparseMatmul';

export { CHECKED_KERNELS, type CheckedKernel, type KernelCheckResult } from './kernelCheckResult';

export interface KernelCheck {
  kernel: CheckedKernel;
  case: string;
  /** Input elements: the size filter's measure. */
  elements: number;
  /** Throws with expectClose's message on a mismatch; returns the largest absolute error. */
  run(gpu: GpuContext): Promise<number>;
}

const EXACT = { atol: 0, rtol: 0 };

/** The same device under lower limits, to drive the split and folded-grid paths with small data. */
function capped(gpu: GpuContext, caps: GpuContextOptions['limitCaps']): GpuContext {
  return new GpuContext(gpu.device, { limitCaps: caps });
}

function hessianCheck(c: HessianCase): KernelCheck {
  return {
    kernel: 'hessian',
    case: c.name,
    elements: c.batches.reduce((sum, b) => sum + b.tokens * c.channels, 0) + c.channels * c.channels,
    async run(gpu) {
      const ref = hessianReferenceOf(c);
      const accumulator = new HessianAccumulatorGpu(gpu, c.channels);
      try {
        for (const b of c.batches) await accumulator.add(b.x, b.tokens);
        const got = await accumulator.read();
        if (got.tokens !== ref.tokens) throw new Error(`${c.name}: ${got.tokens} tokens, expected ${ref.tokens}`);
        const gram = expectClose(got.gram, ref.gram, gramTolerance(ref, c.batches.length), `${c.name}: gram`);
        const sqNorm = expectClose(got.sqNorm, ref.sqNorm, { atol: 0, rtol: gammaF32(ref.tokens + c.batches.length) }, `${c.name}: sqNorm`);
        expectClose(got.maxAbs, ref.maxAbs, EXACT, `${c.name}: maxAbs`);
        return Math.max(gram.maxAbsError, sqNorm.maxAbsError);
      } finally {
        accumulator.destroy();
      }
    },
  };
}

function checks(): KernelCheck[] {
  return [
    ...hessianCases.map(hessianCheck),
    ...wandaCases.map((c): KernelCheck => ({
      kernel: 'wandaScore',
      case: c.name,
      elements: c.rows * c.cols,
      run: async (gpu) => expectClose(await wandaScoreGpu(gpu, c.weights, c.sqNorm, c.rows, c.cols), wandaScoreRef(c.weights, c.sqNorm, c.rows, c.cols), SCORE_TOLERANCE, c.name).maxAbsError,
    })),
    ...[...rowSelectCases, rowSelectSplitCase].map((c): KernelCheck => ({
      kernel: 'rowSelect',
      case: c.name,
      elements: c.rows * c.cols,
      async run(gpu) {
        const ctx = c === rowSelectSplitCase ? capped(gpu, ROW_SELECT_SPLIT_CAPS) : gpu;
        const got = await rowSelectGpu(ctx, c.scores, c.rows, c.cols, c.pruneCount);
        expectClose(got, rowSelectRef(c.scores, c.rows, c.cols, c.pruneCount), EXACT, `${c.name}: keep mask`);
        const violation = rowSelectCountViolation(c, got);
        if (violation) throw new Error(violation);
        return 0;
      },
    })),
    ...globalSelectCases.map((c): KernelCheck => ({
      kernel: 'globalSelect',
      case: c.name,
      elements: c.scores.length,
      async run(gpu) {
        const ctx = c.caps ? capped(gpu, c.caps) : gpu;
        const got = c.mode === 'exact' ? await globalSelectGpu(ctx, c.scores, c.pruneCount) : await thresholdSelectGpu(ctx, c.scores, c.sparsity);
        const expected = c.mode === 'exact' ? globalSelectRef(c.scores, c.pruneCount) : thresholdSelectRef(c.scores, c.sparsity);
        expectClose(got, expected, EXACT, `${c.name}: keep mask`);
        const violation = globalSelectCountViolation(c, got);
        if (violation) throw new Error(violation);
        return 0;
      },
    })),
    ...[...nmCases, nmSplitCase].map((c): KernelCheck => ({
      kernel: 'nmSelect',
      case: c.name,
      elements: c.rows * c.cols,
      async run(gpu) {
        const ctx = c === nmSplitCase ? capped(gpu, NM_SPLIT_CAPS) : gpu;
        const got = await nmSelectGpu(ctx, c.scores, c.rows, c.cols, c.keepN, c.groupM);
        expectClose(got, nmSelectRef(c.scores, c.rows, c.cols, c.keepN, c.groupM), EXACT, `${c.name}: keep mask`);
        const violation = nmPatternViolation(c, got);
        if (violation) throw new Error(violation);
        return 0;
      },
    })),
    ...sparsegptCases.map((c): KernelCheck => ({
      kernel: 'sparsegptUpdate',
      case: c.name,
      elements: c.rows * c.cols + c.cols * c.cols,
      async run(gpu) {
        const expected = sparsegptRunRef(c);
        const got = await sparsegptPruneGpu(gpu, { rows: c.rows, cols: c.cols, weights: c.weights, hinvUpper: c.hinvUpper, pattern: c.pattern }, c.blockSize);
        expectClose(got.keepMask, expected.keepMask, EXACT, `${c.name}: keep mask`);
        const { maxAbsError } = expectClose(got.weights, expected.weights, updateTolerance(c.cols, c.weights, expected.weights), `${c.name}: weights`);
        const unpruned = got.weights.findIndex((w, i) => got.keepMask[i] === 0 && w !== 0);
        if (unpruned >= 0) throw new Error(`${c.name}: pruned weight ${unpruned} is ${got.weights[unpruned]}`);
        return maxAbsError;
      },
    })),
    ...DEVICE_BLOCK_MASK_SPARSITIES.map((sparsity): KernelCheck => ({
      kernel: 'sparsegptUpdate',
      case: `block mask chosen on the device = on the host, ${deviceBlockMaskLayer.rows} × ${deviceBlockMaskLayer.cols} at ${sparsity}`,
      elements: deviceBlockMaskLayer.rows * deviceBlockMaskLayer.cols + deviceBlockMaskLayer.cols ** 2,
      async run(gpu) {
        const { rows, cols, weights, hinvUpper } = deviceBlockMaskLayer;
        const full = { kind: 'mask' as const, keepMask: new Uint8Array(rows * cols).fill(1) };
        const host = new SparseGptGpu(gpu, { rows, cols, weights, hinvUpper, pattern: full });
        const device = new SparseGptGpu(gpu, { rows, cols, weights, hinvUpper, pattern: full });
        try {
          await host.run(64, hostBlockMask(rows, cols, hinvUpper, 64, sparsity));
          await device.run(64, { kind: 'blockThreshold', sparsity });
          const expected = await host.read();
          const got = await device.read();
          expectClose(got.keepMask, expected.keepMask, EXACT, 'keep mask');
          return expectClose(got.weights, expected.weights, updateTolerance(cols, weights, expected.weights), 'weights').maxAbsError;
        } finally {
          host.destroy();
          device.destroy();
        }
      },
    })),
    // Codes and weights under each kernel's contract (near-tie flips bounded; bit-identical where
    // f32 division is correctly rounded, as on SwiftShader and llvmpipe).
    ...quantGridCases.map((c): KernelCheck => ({
      kernel: 'quantGrid',
      case: c.name,
      elements: c.weight.rows * c.weight.cols,
      run: async (gpu) => quantGridViolation(await quantGridGpu(gpu, c.weight, c.grid, c.granularity), quantGridRef(c.weight, c.grid, c.granularity), c).maxAbsError,
    })),
    ...gptqKernelCases.map((c): KernelCheck => ({
      kernel: 'gptqUpdate',
      case: c.name,
      elements: c.weight.rows * c.weight.cols + c.weight.cols ** 2,
      run: async (gpu) => gptqViolation(await gptqQuantizeGpu(gpu, c.weight, c.hessian, c.options), gptqQuantizeRef(c.weight, c.hessian, c.options), c).maxAbsError,
    })),
    ...columnRangeCases.map(([name, range]): KernelCheck => ({
      kernel: 'columnRange',
      case: name,
      elements: range.rows * range.cols,
      async run(gpu) {
        const ctx = range.rows === 37 ? capped(gpu, COLUMN_RANGE_FOLD_CAPS) : gpu;
        const { rows, cols, start, end } = range;
        const matrix = columnRangeMatrix(range);
        const full = ctx.upload('check.matrix', matrix);
        const compact = ctx.createBuffer('check.compact', rows * (end - start) * 4);
        const target = new Uint32Array(rows * cols).fill(7);
        const targetBuffer = ctx.upload('check.target', target);
        try {
          await encodeReadColumns(ctx, { matrix: full, compact }, range);
          const got = await ctx.readUint32(compact, rows * (end - start));
          expectClose(got, readColumnsRef(new Uint32Array(matrix.buffer), rows, cols, start, end), EXACT, `${name}: read`);
          await encodeWriteColumns(ctx, { matrix: targetBuffer, compact }, range);
          writeColumnsRef(target, got, rows, cols, start, end);
          expectClose(await ctx.readUint32(targetBuffer, rows * cols), target, EXACT, `${name}: write`);
          return 0;
        } finally {
          for (const b of [full, compact, targetBuffer]) ctx.release(b);
        }
      },
    })),
  ];
}

/** Each matmul kernel on its cases: dense on any shape, 2:4 and 50 % blocks on the sparse ones. */
function matmulChecks(): KernelCheck[] {
  const check = (c: MatmulCase, label: string, weight: MatmulWeight, reference: Float32Array): KernelCheck => ({
    kernel: 'sparseMatmul',
    case: `${label}: ${c.name}`,
    elements: c.x.length + c.weight.data.length,
    async run(gpu) {
      return expectClose(await matmulGpu(gpu, c.x, c.tokens, weight), reference, matmulTolerance(c), `${label}: ${c.name}`).maxAbsError;
    },
  });
  return [
    ...denseMatmulCases.map((c) => check(c, 'dense', { layout: 'dense', weight: c.weight }, denseMatmulRef(c.x, c.tokens, c.weight))),
    ...sparseMatmulCases.flatMap((c) => {
      const two = packSparse24(pruneTwoOfFour(c.weight));
      const rowBlocks = packBlockSparse(pruneGroups(c.weight, { rows: 1, cols: 4 }, 0.5, 5), { rows: 1, cols: 4 });
      const columnBlocks = packBlockSparse(pruneGroups(c.weight, { rows: 4, cols: 1 }, 0.5, 5), { rows: 4, cols: 1 });
      return [
        check(c, '2:4', { layout: '2:4', weight: two }, sparse24MatmulRef(c.x, c.tokens, two)),
        check(c, 'block 1×4', { layout: 'block', weight: rowBlocks }, blockSparseMatmulRef(c.x, c.tokens, rowBlocks)),
        check(c, 'block 4×1', { layout: 'block', weight: columnBlocks }, blockSparseMatmulRef(c.x, c.tokens, columnBlocks)),
      ];
    }),
  ];
}

/**
 * The size limit of the browser's set: every case but the GPT-2-sized ones (2.4 M elements),
 * which take seconds each on SwiftShader and run in the Node tests.
 */
export const BROWSER_MAX_ELEMENTS = 100_000;

/** The checks whose inputs hold at most `maxElements` values (all of them without a limit). */
export function kernelChecks(options: { maxElements?: number } = {}): KernelCheck[] {
  return [...checks(), ...matmulChecks()].filter((c) => c.elements <= (options.maxElements ?? Infinity));
}

/** Runs checks one after another (GpuContext calls are sequential); a failure does not stop the rest. */
export async function runKernelChecks(gpu: GpuContext, list: KernelCheck[], onResult?: (r: KernelCheckResult) => void): Promise<KernelCheckResult[]> {
  const results: KernelCheckResult[] = [];
  for (const check of list) {
    let result: KernelCheckResult;
    try {
      const maxAbsError = await check.run(gpu);
      result = { kernel: check.kernel, case: check.case, ok: true, maxAbsError, message: '' };
    } catch (e) {
      result = { kernel: check.kernel, case: check.case, ok: false, maxAbsError: NaN, message: (e as Error).message ?? String(e) };
    }
    results.push(result);
    onResult?.(result);
  }
  return results;
}
