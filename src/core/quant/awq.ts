// AWQ's activation-aware scale search (Lin et al. 2024), after mit-han-lab/llm-awq
// awq/quantize/auto_scale.py: get_act_scale, auto_scale_block's _search_module_scale, and the
// folds scale_ln_fcs / scale_fc_fc / ScaledActivation. Pure math: the caller supplies the
// quantizer, and applying the fold to a graph is the graph's job. The clip search (auto_clip) is
// not here. See docs/quantization.md, "AWQ".
//
// Scales are computed step by step in float32, as the reference does on float32 tensors, so the
// candidates match it to the last bit or so; errors are accumulated in float64.
import { gemmSubtract, quadraticTraces } from '../linalg/gemm.ts';
import type { Matrix } from './types.ts';

/** Quantize-dequantize a weight (C_out × C_in); the search calls it on W·diag(s). */
export type WeightQuantizer = (weight: Matrix) => Matrix;

/** The reference's n_grid: ratios α = i / 20, i = 0 … 19 (α = 1 is not tried). */
export const AWQ_GRID_SIZE = 20;

/** Scales are clamped below at 1e-4 (float32) before normalising, as in _search_module_scale. */
const AWQ_MIN_SCALE = Math.fround(1e-4);

export interface AwqSearchOptions {
  /** Grid points: α = i / gridSize for i = 0 … gridSize − 1. Default 20. */
  gridSize?: number;
  /**
   * Replaces the default error. Receives the candidate's dequantized weights,
   * Ŵ = Q(W·diag(s))·diag(s)⁻¹, one per layer in order, and returns the number to minimise — for
   * example the mean squared change of a whole attention block's output, which is what the
   * reference measures for q/k/v.
   */
  blockError?: (quantized: readonly Matrix[]) => number;
}

export interface AwqScaleResult {
  /** The best ratio (the first of equal errors). */
  alpha: number;
  /** (C_in) s = clamp(s_X^α, 1e-4) / sqrt(max s · min s): multiply W's columns, divide the input. */
  scales: Float32Array;
  /** Error at the best α. */
  error: number;
  /** (gridSize) every α tried. */
  alphas: Float64Array;
  /** (gridSize) error per α: by default mean over tokens and outputs of (W x − Ŵ x)². */
  errors: Float64Array;
}

/** s_X: mean over tokens of |x_j| per input channel (get_act_scale), summed in float64. */
export function activationScale(inputs: Matrix): Float32Array {
  const { rows: tokens, cols: channels, data } = inputs;
  const sums = new Float64Array(channels);
  for (let t = 0; t < tokens; t++) {
    for (let j = 0; j < channels; j++) sums[j] += Math.abs(data[t * channels + j]);
  }
  return Float32Array.from(sums, (sum) => sum / tokens);
}

/** The candidate scales for one α: clamp(s_X^α, min 1e-4), divided by sqrt(max · min), in float32 steps. */
export function awqScales(activation: Float32Array, alpha: number): Float32Array {
  const exponent = Math.fround(alpha); // torch's pow on a float32 tensor takes the exponent as float32
  const scales = new Float32Array(activation.length);
  let max = -Infinity;
  let min = Infinity;
  for (let j = 0; j < activation.length; j++) {
    const s = Math.max(Math.fround(Math.pow(activation[j], exponent)), AWQ_MIN_SCALE);
    scales[j] = s;
    max = Math.max(max, s);
    min = Math.min(min, s);
  }
  const norm = Math.fround(Math.sqrt(Math.fround(max * min)));
  for (let j = 0; j < scales.length; j++) scales[j] /= norm;
  return scales;
}

/** W·diag(s): column j of every row times s_j (float32, like the reference's mul_). */
export function scaleColumns(weight: Matrix, scales: Float32Array): Matrix {
  const { rows, cols, data } = weight;
  const out = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) out[r * cols + c] = data[r * cols + c] * scales[c];
  }
  return { rows, cols, data: out };
}

function unscaleColumns(weight: Matrix, scales: Float32Array): Matrix {
  const { rows, cols, data } = weight;
  const out = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) out[r * cols + c] = data[r * cols + c] / scales[c];
  }
  return { rows, cols, data: out };
}

/**
 * mean over tokens and all outputs of (W x − Ŵ x)² for the layers sharing `inputs`: Σ ‖X ΔWᵀ‖².
 * On the wasm kernels (docs/cpu-linalg.md): X ΔWᵀ as one float32 product per layer
 * (tokens · C_out · C_in), or, with more tokens than channels, tr(ΔW G ΔWᵀ) on the Gram matrix
 * G = XᵀX computed once (C_out · C_in² / 2); squares and totals in float64. The plain loops this
 * replaced took ~1.5 s per 256 × 1024 layer (20 candidates); see docs/quantization.md, "AWQ".
 */
function outputErrorOf(weights: readonly Matrix[], inputs: Matrix): (quantized: readonly Matrix[]) => number {
  const { rows: tokens, cols: channels, data: x } = inputs;
  const outputs = weights.reduce((sum, w) => sum + w.rows, 0);
  const gram = tokens > channels ? gramMatrix(inputs) : null;
  return (quantized) => {
    let total = 0;
    weights.forEach((w, l) => {
      const q = quantized[l].data;
      if (gram) {
        const delta = new Float32Array(w.rows * channels);
        for (let i = 0; i < delta.length; i++) delta[i] = w.data[i] - q[i];
        total += quadraticTraces([delta], w.rows, channels, gram)[0];
        return;
      }
      // ΔWᵀ (C_in × C_out), so that 0 − X ΔWᵀ (tokens × C_out) is one gemmSubtract.
      const deltaT = new Float32Array(channels * w.rows);
      for (let r = 0; r < w.rows; r++) {
        for (let c = 0; c < channels; c++) deltaT[c * w.rows + r] = w.data[r * channels + c] - q[r * channels + c];
      }
      const product = new Float32Array(tokens * w.rows);
      gemmSubtract(tokens, w.rows, channels, x, deltaT, product);
      for (let i = 0; i < product.length; i++) total += product[i] * product[i];
    });
    return total / (tokens * outputs);
  };
}

function gramMatrix(inputs: Matrix): Float64Array {
  const { rows: tokens, cols: channels, data } = inputs;
  const gram = new Float64Array(channels * channels);
  for (let t = 0; t < tokens; t++) {
    const offset = t * channels;
    for (let i = 0; i < channels; i++) {
      const xi = data[offset + i];
      if (xi === 0) continue;
      for (let j = i; j < channels; j++) gram[i * channels + j] += xi * data[offset + j];
    }
  }
  for (let i = 0; i < channels; i++) {
    for (let j = 0; j < i; j++) gram[i * channels + j] = gram[j * channels + i];
  }
  return gram;
}

function checkShapes(weights: readonly Matrix[], inputs: Matrix, activation: Float32Array): void {
  if (weights.length === 0) throw new RangeError('AWQ: no weights to scale');
  const channels = activation.length;
  if (inputs.cols !== channels) throw new RangeError(`AWQ: inputs have ${inputs.cols} channels, s_X has ${channels}`);
  if (inputs.data.length !== inputs.rows * inputs.cols || inputs.rows === 0) throw new RangeError('AWQ: inputs must be a non-empty tokens × C_in matrix');
  for (const w of weights) {
    if (w.cols !== channels || w.data.length !== w.rows * w.cols) throw new RangeError(`AWQ: a ${w.rows} x ${w.cols} weight does not take ${channels} inputs`);
  }
  for (const s of activation) if (!(s >= 0 && s < Infinity)) throw new RangeError(`AWQ: activation scale ${s} is not finite and non-negative`);
}

/**
 * One scale vector for several layers that read the same input (AWQ's q/k/v group, or the MLP's
 * gate and up): grid-search α, quantize each W·diag(s) and divide by s again, keep the α with the
 * least error. The default error is over the layers' concatenated outputs (inputs: tokens × C_in).
 */
export function searchAwqSharedScale(
  weights: readonly Matrix[],
  inputs: Matrix,
  activation: Float32Array,
  /** One quantizer for all, or one per weight (layers of a group at different widths). */
  quantize: WeightQuantizer | readonly WeightQuantizer[],
  options: AwqSearchOptions = {},
): AwqScaleResult {
  checkShapes(weights, inputs, activation);
  if (typeof quantize !== 'function' && quantize.length !== weights.length) throw new RangeError(`AWQ: ${quantize.length} quantizers for ${weights.length} weights`);
  const gridSize = options.gridSize ?? AWQ_GRID_SIZE;
  if (!Number.isInteger(gridSize) || gridSize < 1) throw new RangeError(`AWQ: grid size ${gridSize} is not a positive integer`);
  const errorOf = options.blockError ?? outputErrorOf(weights, inputs);
  const alphas = Float64Array.from({ length: gridSize }, (_, i) => i / gridSize);
  const errors = new Float64Array(gridSize);
  let best = -1;
  let bestScales: Float32Array = new Float32Array(0);
  alphas.forEach((alpha, i) => {
    const scales = awqScales(activation, alpha);
    const quantized = weights.map((w, l) => unscaleColumns((typeof quantize === 'function' ? quantize : quantize[l])(scaleColumns(w, scales)), scales));
    errors[i] = errorOf(quantized);
    if (best < 0 ? errors[i] < Infinity : errors[i] < errors[best]) {
      best = i;
      bestScales = scales;
    }
  });
  if (best < 0) throw new Error(`AWQ: no candidate had a finite error (${Array.from(errors).join(', ')})`);
  return { alpha: alphas[best], scales: bestScales, error: errors[best], alphas, errors };
}

/** searchAwqSharedScale for a single layer. */
export function searchAwqScale(
  weight: Matrix,
  inputs: Matrix,
  activation: Float32Array,
  quantize: WeightQuantizer,
  options: AwqSearchOptions = {},
): AwqScaleResult {
  return searchAwqSharedScale([weight], inputs, activation, quantize, options);
}

/** The operation that feeds the scaled layers, which absorbs 1/s so the graph's function is unchanged. */
export type AwqFoldSource =
  /** LayerNorm / RMSNorm: weight and bias divided by s (scale_ln_fcs). */
  | { kind: 'norm'; weight: Float32Array; bias?: Float32Array }
  /**
   * The previous linear (C_out_prev × ·): its last C_in output rows and their bias entries divided
   * by s (scale_fc_fc; "last" so that a fused qkv feeding out_proj scales only v).
   */
  | { kind: 'linear'; weight: Matrix; bias?: Float32Array }
  /** An activation (GELU, SiLU): it cannot absorb s; the graph divides its output by s (ScaledActivation). */
  | { kind: 'activation' };

export type AwqFoldedSource =
  | { kind: 'norm'; weight: Float32Array; bias?: Float32Array }
  | { kind: 'linear'; weight: Matrix; bias?: Float32Array }
  | { kind: 'activation'; divideOutputBy: Float32Array };

/**
 * The fold of a searched scale: W' = W·diag(s) for every consumer, and the source's output
 * divided by s, so that W'·(x / s) = W·x. New arrays; the inputs are not changed. Float32 steps,
 * as the reference's in-place mul_ / div_.
 */
export function foldInverseScale(
  scales: Float32Array,
  source: AwqFoldSource,
  consumers: readonly Matrix[],
): { source: AwqFoldedSource; consumers: Matrix[] } {
  const n = scales.length;
  for (const w of consumers) if (w.cols !== n) throw new RangeError(`AWQ fold: a consumer has ${w.cols} inputs, s has ${n}`);
  const divide = (values: Float32Array, offset: number) => {
    const out = Float32Array.from(values);
    for (let j = 0; j < n; j++) out[offset + j] = values[offset + j] / scales[j];
    return out;
  };
  const scaledConsumers = consumers.map((w) => scaleColumns(w, scales));
  if (source.kind === 'activation') return { source: { kind: 'activation', divideOutputBy: Float32Array.from(scales) }, consumers: scaledConsumers };
  if (source.kind === 'norm') {
    if (source.weight.length !== n || (source.bias && source.bias.length !== n)) throw new RangeError(`AWQ fold: the norm does not have ${n} channels`);
    const folded = { kind: 'norm' as const, weight: divide(source.weight, 0), ...(source.bias ? { bias: divide(source.bias, 0) } : {}) };
    return { source: folded, consumers: scaledConsumers };
  }
  const { rows, cols, data } = source.weight;
  if (rows < n) throw new RangeError(`AWQ fold: the previous linear has ${rows} outputs, fewer than ${n}`);
  if (source.bias && source.bias.length !== rows) throw new RangeError(`AWQ fold: bias has ${source.bias.length} entries for ${rows} outputs`);
  const first = rows - n;
  const weight = Float32Array.from(data);
  for (let j = 0; j < n; j++) {
    for (let c = 0; c < cols; c++) weight[(first + j) * cols + c] = data[(first + j) * cols + c] / scales[j];
  }
  const folded = { kind: 'linear' as const, weight: { rows, cols, data: weight }, ...(source.bias ? { bias: divide(source.bias, first) } : {}) };
  return { source: folded, consumers: scaledConsumers };
}
