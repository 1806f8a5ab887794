// A compression run's measured latency: the dense and the compressed model timed on the same
// backend, on the same window, in interleaved rounds (timing.ts) when both are timed together —
// the question "is it faster?" answered by the runtime itself, not by a count of parameters.
// A stage that planned to a latency target (the structured stage's search over a LatencyTable)
// puts its prediction on its report as `predictedLatency`; the run's latency carries it beside
// the measured one.
import type { Backend } from '../eval/runner.ts';
import type { ModelAnalysis } from '../model/types.ts';
import type { ModelLatency } from './model.ts';

/** What a stage that searched against a latency table predicted (per forward pass of the table's window). */
export interface PredictedLatency {
  predictedMs: number;
  denseMs: number;
  /** denseMs / predictedMs. */
  speedup: number;
  backend: Backend;
}

export interface RunLatency {
  /** Medians per forward pass of `seq` tokens (one image for an image model). */
  denseMs: number;
  compressedMs: number;
  perTokenDenseMs: number;
  perTokenCompressedMs: number;
  /** denseMs / compressedMs, measured. */
  speedup: number;
  /** From a stage's latency plan, when one planned. */
  predictedMs?: number;
  predictedSpeedup?: number;
  backend: Backend;
  seq: number;
  repeats: number;
  unit?: 'token' | 'image';
}

/** The window latency is measured on: the model's context (its position table) up to 128 tokens; 128 without one; an image is one. */
export function latencyWindow(analysis: ModelAnalysis): number {
  if (analysis.task === 'image-classification') return 1;
  const positions = analysis.embeddings.find((e) => e.kind === 'position')?.weightDims[0];
  return Math.min(positions ?? 128, 128);
}

/**
 * The first prediction a stage report carries: `predictedLatency`, or the structured stage's
 * `plan.predicted` ({ denseMs, plannedMs, speedup, backend }, compress/structuredStage.ts).
 */
export function predictedLatencyOf(stages: readonly object[]): PredictedLatency | undefined {
  for (const stage of stages) {
    const own = (stage as { predictedLatency?: PredictedLatency }).predictedLatency;
    if (own) return own;
    const plan = (stage as { plan?: { predicted?: { denseMs: number; plannedMs: number; speedup: number; backend: string } } }).plan?.predicted;
    if (plan) return { predictedMs: plan.plannedMs, denseMs: plan.denseMs, speedup: plan.speedup, backend: plan.backend === 'webgpu' ? 'webgpu' : 'wasm' };
  }
  return undefined;
}

/** The run's latency from a dense and a compressed measurement (the same backend; a prediction when a stage made one). */
export function runLatency(dense: ModelLatency, compressed: ModelLatency, predicted?: PredictedLatency): RunLatency {
  if (dense.backend !== compressed.backend) throw new Error(`the dense model was timed on ${dense.backend} and the compressed one on ${compressed.backend}: latencies compare on one backend`);
  return {
    denseMs: dense.medianMs,
    compressedMs: compressed.medianMs,
    perTokenDenseMs: dense.perTokenMs,
    perTokenCompressedMs: compressed.perTokenMs,
    speedup: dense.medianMs / compressed.medianMs,
    ...(predicted ? { predictedMs: predicted.predictedMs, predictedSpeedup: predicted.speedup } : {}),
    backend: compressed.backend,
    seq: compressed.seq,
    repeats: compressed.repeats,
    unit: compressed.unit,
  };
}

/** "measured 0.21 ms/token (dense 0.30, ×1.43) on WASM; predicted ×1.52" — the Result panel's and the CLI's line. */
export function describeRunLatency(latency: RunLatency): string {
  const unit = latency.unit === 'image' ? 'image' : 'token';
  const ms = (v: number) => (v >= 10 ? v.toFixed(1) : v >= 1 ? v.toFixed(2) : v.toFixed(3));
  const predicted = latency.predictedSpeedup !== undefined ? `; predicted ×${latency.predictedSpeedup.toFixed(2)}` : '';
  return `measured ${ms(latency.perTokenCompressedMs)} ms/${unit} (dense ${ms(latency.perTokenDenseMs)}, ×${latency.speedup.toFixed(2)}) on ${latency.backend === 'webgpu' ? 'WebGPU' : 'WASM'}${predicted}`;
}
