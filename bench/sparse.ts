// Section "sparse": does sparsity buy speed here? The dense, 2:4 and block-sparse (SparseByteNN
// 1×4 / 4×1 at 50 %) WGSL matmul kernels of src/core/gpu/kernels/sparseMatmul, one tiling for all,
// timed per layer shape of the bundled LM and of GPT-2 small at 128 tokens
// (src/core/gpu/sparseSpeed.ts); and the same products as plain JavaScript loops on one CPU
// thread (the kernels' CPU references). Baseline per shape: the dense kernel on the same device
// (GPU) or the dense loop (CPU), measured in the same run.
import type { GpuOutcome } from './gpu.ts';
import { formatMs, measure, ratio, reason, type Table } from './measure.ts';
import type { ShapeTiming } from '../src/core/gpu/sparseSpeed.ts';
import { BUNDLED_LM_SHAPES, GPT2_SMALL_SHAPES, layerOperands, layoutWeight, SPARSE_LAYOUTS, type LayerShape, type MatmulWeight } from '../src/core/gpu/kernels/sparseMatmul/layouts.ts';
import { blockSparseMatmulRef, denseMatmulRef, sparse24MatmulRef } from '../src/core/gpu/kernels/sparseMatmul/sparseMatmul.ref.ts';

const SHAPES: LayerShape[] = [...BUNDLED_LM_SHAPES, ...GPT2_SMALL_SHAPES];

function cpuMatmul(x: Float32Array, tokens: number, weight: MatmulWeight): Float32Array {
  if (weight.layout === 'dense') return denseMatmulRef(x, tokens, weight.weight);
  if (weight.layout === '2:4') return sparse24MatmulRef(x, tokens, weight.weight);
  return blockSparseMatmulRef(x, tokens, weight.weight);
}

/** ms per product of each layout as a plain JS loop, on the same operands as the GPU rows (layerOperands, seed 1). */
async function cpuTimings(shape: LayerShape): Promise<number[]> {
  const { x, weight: dense } = layerOperands(shape);
  const times: number[] = [];
  for (const layout of SPARSE_LAYOUTS) {
    const weight = layoutWeight(dense, layout);
    times.push((await measure(() => cpuMatmul(x, shape.tokens, weight), { minMs: 200, minRuns: 3 })).ms);
  }
  return times;
}

export async function sparseSection(gpu: GpuOutcome): Promise<Table> {
  const table: Table = {
    title: 'Does sparsity buy speed here? Dense vs 2:4 vs block-sparse matmul, per layer shape (src/core/gpu/sparseSpeed.ts)',
    notes: [
      'Y = X·Wᵀ at 128 tokens. Baseline per shape: the dense WGSL kernel (same tiling: 64×64 output tiles, X staged 32 inputs at a time) = 1.00×; "vs dense" below 1 is faster. 2:4 = 50 %, blocks = 50 % of the 1×4 / 4×1 groups, chosen by |W| per row.',
      'GPU ms: dispatches alone, data resident, median of batched samples after a warm-up. CPU ms: the kernels\' CPU references, plain JS loops on one thread, median of ≥ 3 runs.',
      'tokens/s = 128 tokens / (ms per product) for this one layer. W bytes: what each layout stores (values + indices), measured.',
    ],
    columns: [
      { header: 'layer (C_out × C_in)' },
      { header: 'layout' },
      { header: 'W bytes', align: 'right' },
      { header: 'GPU ms', align: 'right' },
      { header: 'GPU tokens/s', align: 'right' },
      { header: 'GPU vs dense', align: 'right' },
      { header: 'CPU ms', align: 'right' },
      { header: 'CPU vs dense', align: 'right' },
    ],
    rows: [],
  };
  let gpuTimings: ShapeTiming[] | undefined;
  if (!gpu.ok) table.notes.push(`GPU columns not run: no WebGPU adapter (${gpu.reason}).`);
  else {
    table.notes.push(`GPU: ${gpu.gpu.description} — ${gpu.gpu.adapterInfo}`);
    try {
      const ctx = new gpu.gpu.modules.GpuContext(gpu.gpu.device);
      gpuTimings = await gpu.gpu.modules.measureSparseSpeed(ctx, SHAPES, { minMs: 400, minSamples: 3 }, ({ shape, timings }) =>
        console.error(`[bench] sparse: ${shape.label} ${shape.outFeatures} × ${shape.inFeatures} on the GPU: ${timings.map((t) => `${t.layout} ${formatMs(t.ms)} ms`).join(', ')}`),
      );
      ctx.destroy();
    } catch (error) {
      table.notes.push(`GPU failed: ${reason(error)}`);
    }
  }
  for (const [s, shape] of SHAPES.entries()) {
    const cpu = await cpuTimings(shape);
    const timings = gpuTimings?.[s].timings;
    SPARSE_LAYOUTS.forEach((layout, i) => {
      const t = timings?.[i];
      table.rows.push([
        `${shape.label} ${shape.outFeatures} × ${shape.inFeatures}`,
        layout,
        t ? String(t.weightBytes) : '-',
        t ? formatMs(t.ms) : 'n/a',
        t ? t.tokensPerSecond.toFixed(0) : 'n/a',
        t && timings ? ratio(t.ms, timings[0].ms) : 'n/a',
        formatMs(cpu[i]),
        ratio(cpu[i], cpu[0]),
      ]);
    });
  }
  table.notes.push(verdict(gpuTimings));
  return table;
}

/** One sentence: is any sparse layout faster than dense on this adapter, and by how much at best. */
function verdict(timings: ShapeTiming[] | undefined): string {
  if (!timings) return 'Answer: not measured on a GPU here.';
  let best = { ratio: Infinity, what: '' };
  for (const { shape, timings: rows } of timings) {
    for (const row of rows.slice(1)) {
      const r = row.ms / rows[0].ms;
      if (r < best.ratio) best = { ratio: r, what: `${row.layout} on ${shape.label} ${shape.outFeatures} × ${shape.inFeatures}` };
    }
  }
  return best.ratio < 1 ? `Answer on this adapter: yes where the ratio is below 1 — best ${best.what} at ${best.ratio.toFixed(2)}× the dense time.` : `Answer on this adapter: no — no sparse layout beat the dense kernel (best ${best.what} at ${best.ratio.toFixed(2)}×).`;
}
