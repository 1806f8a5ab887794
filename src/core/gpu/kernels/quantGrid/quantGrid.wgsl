// GPTQ's quantiser grid (IST-DASLab/gptq quant.py, `Quantizer.find_params` and `quantize`) on a
// weight W (rows × cols, row-major), groups of `groupSize` input columns along a row:
//   fitGroups  — per (row, group): lo = min(0, min w), hi = max(0, max w); symmetric
//                hi = max(|lo|, hi), lo = −hi when lo < 0; [−1, 1] for an all-zero group;
//                scale = (hi − lo)/maxq; zero = (maxq + 1)/2 (symmetric) or round(−lo/scale).
//                `groupCount` groups from column `colStart` on are fitted (all of them for RTN;
//                the groups that start in the current block for GPTQ's dynamic groups), written
//                to table column `groupOffset + k`. With `rangeOnly` it writes lo → scales and
//                hi → zeros instead (the first pass of the per-tensor fit).
//   fitTensor  — one invocation: the per-tensor fit from the per-row ranges of the first pass
//                (quant.py with perchannel=False: one range over every weight, repeated per row).
//   quantizeCodes   — codes = clamp(round(w/scale) + zero, 0, maxq) with the group of column c
//                     = c / groupSize (round: half to even, as torch.round).
//   dequantizeCodes — Ŵ = scale · (code − zero).
// The float operations are rtn.ts's, one by one (every f32 rounding in the same place), so where
// WGSL's f32 division is correctly rounded the results are bit-identical (docs/gpu-kernels.md).

struct Params {
  rows: u32,
  cols: u32,
  groupSize: u32,
  groups: u32,       // columns of the scale / zero tables
  colStart: u32,     // fitGroups: first column of the first group fitted
  groupCount: u32,   // fitGroups: groups fitted per row
  groupOffset: u32,  // fitGroups: table column of the first group fitted
  symmetric: u32,
  rangeOnly: u32,
  maxq: f32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> weights: array<f32>;       // (rows, cols)
@group(0) @binding(2) var<storage, read_write> scales: array<f32>;  // (rows, groups)
@group(0) @binding(3) var<storage, read_write> zeros: array<f32>;   // (rows, groups)
@group(0) @binding(4) var<storage, read_write> codes: array<u32>;   // (rows, cols)
@group(0) @binding(5) var<storage, read_write> dequantized: array<f32>; // (rows, cols)

override WG_X: u32 = 256;

// find_params from a range lo ≤ 0 ≤ hi: (scale, zero).
fn fitRange(lo0: f32, hi0: f32) -> vec2f {
  var lo = lo0;
  var hi = hi0;
  let symmetric = params.symmetric != 0u;
  if (symmetric) {
    let a = abs(lo);
    hi = select(hi, a, a > hi);
    if (lo < 0.0) {
      lo = -hi;
    }
  }
  if (lo == 0.0 && hi == 0.0) {
    lo = -1.0;
    hi = 1.0;
  }
  let scale = (hi - lo) / params.maxq;
  let zero = select(round(-lo / scale), (params.maxq + 1.0) / 2.0, symmetric);
  return vec2f(scale, zero);
}

@compute @workgroup_size(WG_X)
fn fitGroups(
  @builtin(workgroup_id) wid: vec3u,
  @builtin(num_workgroups) nwg: vec3u,
  @builtin(local_invocation_index) li: u32,
) {
  let e = (wid.x + wid.y * nwg.x) * WG_X + li;
  if (e >= params.rows * params.groupCount) {
    return;
  }
  let row = e / params.groupCount;
  let k = e % params.groupCount;
  let c0 = params.colStart + k * params.groupSize;
  let c1 = min(c0 + params.groupSize, params.cols);
  // Strict comparisons from +0, as rtn.ts's loop: a −0 weight never replaces the +0 start.
  var lo = 0.0;
  var hi = 0.0;
  for (var c = c0; c < c1; c++) {
    let x = weights[row * params.cols + c];
    lo = select(lo, x, x < lo);
    hi = select(hi, x, x > hi);
  }
  let t = row * params.groups + params.groupOffset + k;
  if (params.rangeOnly != 0u) {
    scales[t] = lo;
    zeros[t] = hi;
  } else {
    let fit = fitRange(lo, hi);
    scales[t] = fit.x;
    zeros[t] = fit.y;
  }
}

@compute @workgroup_size(1)
fn fitTensor() {
  var lo = 0.0;
  var hi = 0.0;
  for (var r = 0u; r < params.rows; r++) {
    let a = scales[r * params.groups];
    let b = zeros[r * params.groups];
    lo = select(lo, a, a < lo);
    hi = select(hi, b, b > hi);
  }
  let fit = fitRange(lo, hi);
  for (var r = 0u; r < params.rows; r++) {
    scales[r * params.groups] = fit.x;
    zeros[r * params.groups] = fit.y;
  }
}

fn tableIndex(e: u32) -> u32 {
  return (e / params.cols) * params.groups + (e % params.cols) / params.groupSize;
}

@compute @workgroup_size(WG_X)
fn quantizeCodes(
  @builtin(workgroup_id) wid: vec3u,
  @builtin(num_workgroups) nwg: vec3u,
  @builtin(local_invocation_index) li: u32,
) {
  let e = (wid.x + wid.y * nwg.x) * WG_X + li;
  if (e >= params.rows * params.cols) {
    return;
  }
  let t = tableIndex(e);
  let code = clamp(round(weights[e] / scales[t]) + zeros[t], 0.0, params.maxq);
  codes[e] = u32(code);
}

@compute @workgroup_size(WG_X)
fn dequantizeCodes(
  @builtin(workgroup_id) wid: vec3u,
  @builtin(num_workgroups) nwg: vec3u,
  @builtin(local_invocation_index) li: u32,
) {
  let e = (wid.x + wid.y * nwg.x) * WG_X + li;
  if (e >= params.rows * params.cols) {
    return;
  }
  let t = tableIndex(e);
  dequantized[e] = scales[t] * (f32(codes[e]) - zeros[t]);
}
