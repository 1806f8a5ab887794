// Test support for the writers: a tiny round-to-nearest quantizer (the lab's real RTN lives in
// quant/rtn.ts; this one only has to produce valid QuantizedWeights, per ORT's
// matmul_nbits_quantizer.py quant_slice_symmetric / _asymmetric), seeded weights, a float64
// reference product, and a one-layer model for onnxruntime.
import { seededUniform } from '../../../testing/random.ts';
import { floatInit, model, node, tensorValue } from '../../../model/testGraphs.ts';
import { setTensorFloat32 } from '../../../onnx/tensor.ts';
import { DataType, type ModelProto, type TensorProto } from '../../../onnx/types.ts';
import type { Matrix } from '../../../prune/types.ts';
import { dequantize, type QuantizedWeight } from '../../types.ts';

/** A seeded C_out × C_in weight, roughly N(0, 0.1²) with a few larger entries, and one all-zero row. */
export function seededWeight(rows: number, cols: number, seed: number): Matrix {
  const uniform = seededUniform(seed);
  const data = new Float32Array(rows * cols);
  for (let i = 0; i < data.length; i++) data[i] = (uniform() + uniform() + uniform() - 1.5) * 0.2 * (uniform() < 0.02 ? 5 : 1);
  data.fill(0, 0, cols); // row 0: a dead output unit (scale 0 must not produce NaN)
  return { rows, cols, data };
}

/**
 * Round to nearest on groups of `groupSize` inputs (cols when null: per row). Symmetric:
 * scale = max|w| / (2^(b−1) − 1), zero point 2^(b−1); asymmetric: min/max including 0.
 */
export function tinyRtn(w: Matrix, bits: number, groupSize: number | null, symmetric: boolean, groupIndex?: Int32Array): QuantizedWeight {
  const size = groupSize ?? w.cols;
  const groups = groupIndex ? Math.max(...groupIndex) + 1 : Math.ceil(w.cols / size);
  const levels = 2 ** bits - 1;
  const half = 2 ** (bits - 1);
  const codes = new Uint8Array(w.rows * w.cols);
  const scales = new Float32Array(w.rows * groups);
  const zeroPoints = new Uint8Array(w.rows * groups);
  const groupOf = (c: number) => (groupIndex ? groupIndex[c] : Math.floor(c / size));
  for (let r = 0; r < w.rows; r++) {
    const lo = new Float64Array(groups);
    const hi = new Float64Array(groups);
    for (let c = 0; c < w.cols; c++) {
      const g = groupOf(c);
      lo[g] = Math.min(lo[g], w.data[r * w.cols + c]);
      hi[g] = Math.max(hi[g], w.data[r * w.cols + c]);
    }
    for (let g = 0; g < groups; g++) {
      const scale = symmetric ? Math.max(-lo[g], hi[g]) / (half - 1) : (hi[g] - lo[g]) / levels;
      scales[r * groups + g] = scale;
      zeroPoints[r * groups + g] = symmetric ? half : scale === 0 ? half : Math.min(levels, Math.max(0, Math.round(-lo[g] / scale)));
    }
    for (let c = 0; c < w.cols; c++) {
      const g = r * groups + groupOf(c);
      const q = scales[g] === 0 ? zeroPoints[g] : Math.round(w.data[r * w.cols + c] / scales[g]) + zeroPoints[g];
      codes[r * w.cols + c] = Math.min(levels, Math.max(0, q));
    }
  }
  const q: QuantizedWeight = { rows: w.rows, cols: w.cols, bits, symmetric, groupSize: size, groups, codes, scales, zeroPoints };
  if (groupIndex) q.groupIndex = groupIndex;
  return q;
}

/** y = x · Ŵᵀ + b in float64 (x is tokens × C_in), the reference the runtime's output is held to. */
export function referenceProduct(x: Float32Array, q: QuantizedWeight, bias?: Float32Array): Float64Array {
  const w = dequantize(q);
  const tokens = x.length / q.cols;
  const y = new Float64Array(tokens * q.rows);
  for (let t = 0; t < tokens; t++) {
    for (let r = 0; r < q.rows; r++) {
      let sum = bias ? bias[r] : 0;
      for (let c = 0; c < q.cols; c++) sum += x[t * q.cols + c] * w.data[r * q.cols + c];
      y[t * q.rows + r] = sum;
    }
  }
  return y;
}

export function seededInput(tokens: number, cols: number, seed: number): Float32Array {
  const uniform = seededUniform(seed);
  return Float32Array.from({ length: tokens * cols }, () => uniform() * 2 - 1);
}

function filled(name: string, dims: number[], values: Float32Array): TensorProto {
  const tensor = floatInit(name, dims);
  setTensorFloat32(tensor, values);
  return tensor;
}

export type OneLayerForm = 'matmul' | 'matmul-transposed' | 'gemm-transB' | 'gemm-2d-bias';

/**
 * y = x · Wᵀ + b on x [2, 3, C_in] (for Gemm: x [6, C_in]) with W stored as the form says:
 * 'matmul' — MatMul(x, Wᵀ [C_in, C_out]) + Add(b); 'matmul-transposed' — MatMul(x, Transpose(W));
 * 'gemm-transB' — Gemm(x, W, b [C_out], transB=1); 'gemm-2d-bias' — Gemm(x, Wᵀ, b [1, C_out]).
 */
export function oneLayerModel(w: Matrix, bias: Float32Array, form: OneLayerForm): ModelProto {
  const { rows: out, cols: inp } = w;
  const wt = new Float32Array(out * inp);
  for (let r = 0; r < out; r++) for (let c = 0; c < inp; c++) wt[c * out + r] = w.data[r * inp + c];
  const gemm = form.startsWith('gemm');
  const io = (name: string, features: number) => tensorValue(name, DataType.FLOAT, gemm ? ['tokens', features] : ['batch', 'seq', features]);
  const parts = { inputs: [io('x', inp)], outputs: [io('y', out)] };
  switch (form) {
    case 'matmul':
      return model({ ...parts, nodes: [node('MatMul', ['x', 'W'], ['xw'], { name: '/fc/MatMul' }), node('Add', ['xw', 'b'], ['y'], { name: '/fc/Add' })], initializers: [filled('W', [inp, out], wt), filled('b', [out], bias)] });
    case 'matmul-transposed':
      return model({
        ...parts,
        nodes: [node('Transpose', ['W'], ['Wt'], { attrs: { perm: [1, 0] } }), node('MatMul', ['x', 'Wt'], ['xw'], { name: '/fc/MatMul' }), node('Add', ['b', 'xw'], ['y'], { name: '/fc/Add' })],
        initializers: [filled('W', [out, inp], w.data), filled('b', [out], bias)],
      });
    case 'gemm-transB':
      return model({ ...parts, nodes: [node('Gemm', ['x', 'W', 'b'], ['y'], { name: '/fc/Gemm', attrs: { transB: 1 } })], initializers: [filled('W', [out, inp], w.data), filled('b', [out], bias)] });
    case 'gemm-2d-bias':
      return model({ ...parts, nodes: [node('Gemm', ['x', 'W', 'b'], ['y'], { name: '/fc/Gemm' })], initializers: [filled('W', [inp, out], wt), filled('b', [1, out], bias)] });
  }
}
