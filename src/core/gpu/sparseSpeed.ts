// "Does sparsity buy speed here?" — the dense, 2:4 and block-sparse matmul kernels
// (kernels/sparseMatmul) timed on the same layer shapes, on whatever device the caller passes:
// `npm run bench -- --only sparse` (Node, Dawn) and the page's panel (this browser's adapter).
// A program, not a test: it returns measurements and prints nothing. Times are the dispatches
// alone, with X, W and Y resident on the device (no upload or readback), each sample a batch of
// dispatches closed by onSubmittedWorkDone; the layouts are sampled in turn, so a slower period
// of a shared machine falls on all of them alike.
import { STORAGE_USAGE, type GpuContext } from './context';
import { encodeMatmul, releaseMatmulWeight, uploadMatmulWeight } from './kernels/sparseMatmul/sparseMatmul.gpu';
import { storedBytes } from './kernels/sparseMatmul/sparseFormats';
import { BUNDLED_LM_SHAPES, GPT2_SMALL_SHAPES, layerOperands, layoutWeight, SPARSE_LAYOUTS, zeroShare, type LayerShape, type SparseLayout } from './kernels/sparseMatmul/layouts';

export { BUNDLED_LM_SHAPES, GPT2_SMALL_SHAPES, SPARSE_LAYOUTS, type LayerShape, type SparseLayout };

export interface LayoutTiming {
  layout: SparseLayout;
  /** Median milliseconds per matmul (one dispatch). */
  ms: number;
  tokensPerSecond: number;
  /** Bytes of W the kernel reads (values + indices), measured from the packed arrays. */
  weightBytes: number;
  /** Share of W's weights that are zero (and skipped, for the sparse layouts). */
  sparsity: number;
}

export interface ShapeTiming {
  shape: LayerShape;
  timings: LayoutTiming[];
}

export interface SparseSpeedOptions {
  layouts?: readonly SparseLayout[];
  /** Sample until this much time has passed per shape… (default 300 ms) */
  minMs?: number;
  /** …and at least this many samples per layout (default 3). The median is reported. */
  minSamples?: number;
  /** Each sample runs dispatches for about this long, so a short kernel is not timed alone (default 20 ms). */
  sampleMs?: number;
  seed?: number;
}

const median = (values: number[]): number => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

/** Times every layout on every shape; `onShape` sees each shape's timings as they are measured. */
export async function measureSparseSpeed(ctx: GpuContext, shapes: readonly LayerShape[], options: SparseSpeedOptions = {}, onShape?: (timing: ShapeTiming) => void): Promise<ShapeTiming[]> {
  const { layouts = SPARSE_LAYOUTS, minMs = 300, minSamples = 3, sampleMs = 20, seed = 1 } = options;
  const results: ShapeTiming[] = [];
  for (const shape of shapes) {
    const { tokens, outFeatures, inFeatures } = shape;
    const operands = layerOperands(shape, seed);
    const dense = operands.weight;
    const x = ctx.upload(`sparseSpeed.x(${tokens}×${inFeatures})`, operands.x);
    const y = ctx.createBuffer(`sparseSpeed.y(${tokens}×${outFeatures})`, tokens * outFeatures * 4, STORAGE_USAGE);
    const weights = layouts.map((layout) => ({ layout, weight: layoutWeight(dense, layout) }));
    const resident = weights.map(({ weight }) => uploadMatmulWeight(ctx, weight));
    try {
      const batch = async (i: number, dispatches: number) => {
        const t0 = performance.now();
        for (let d = 0; d < dispatches; d++) await encodeMatmul(ctx, resident[i], x, y, tokens);
        await ctx.flush();
        return (performance.now() - t0) / dispatches;
      };
      // Warm-up, one dispatch each: compiles the pipeline and sizes the layout's batch to about
      // sampleMs (the compile makes the first time long, so a batch is never too long).
      const perBatch = [];
      for (let i = 0; i < layouts.length; i++) perBatch.push(Math.max(1, Math.min(64, Math.round(sampleMs / Math.max(1e-3, await batch(i, 1))))));
      const samples: number[][] = layouts.map(() => []);
      const start = performance.now();
      while (samples[0].length < minSamples || performance.now() - start < minMs) {
        for (let i = 0; i < layouts.length; i++) samples[i].push(await batch(i, perBatch[i]));
      }
      const timing: ShapeTiming = {
        shape,
        timings: weights.map(({ layout, weight }, i) => {
          const ms = median(samples[i]);
          return { layout, ms, tokensPerSecond: (tokens * 1000) / ms, weightBytes: storedBytes(weight.weight), sparsity: zeroShare(weight) };
        }),
      };
      results.push(timing);
      onShape?.(timing);
    } finally {
      resident.forEach((w) => releaseMatmulWeight(ctx, w));
      ctx.release(x);
      ctx.release(y);
    }
  }
  return results;
}
