// Wanda's pruning score S_ij = |W_ij| · sqrt(sqNorm_j) (locuslab/wanda), one invocation per
// element of W (rows × cols, row-major); the workgroups form a folded line (see program.ts).

struct Params {
  rows: u32,
  cols: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> weights: array<f32>;      // (rows, cols)
@group(0) @binding(2) var<storage, read> sqNorm: array<f32>;       // (cols)
@group(0) @binding(3) var<storage, read_write> scores: array<f32>; // (rows, cols)

override WG_X: u32 = 256;

@compute @workgroup_size(WG_X)
fn wandaScore(
  @builtin(workgroup_id) wid: vec3u,
  @builtin(num_workgroups) nwg: vec3u,
  @builtin(local_invocation_index) li: u32,
) {
  let index = (wid.x + wid.y * nwg.x) * WG_X + li;
  if (index >= params.rows * params.cols) {
    return;
  }
  // |w| by clearing the sign bit keeps NaN a NaN whatever abs() does with it.
  let magnitude = bitcast<f32>(bitcast<u32>(weights[index]) & 0x7fffffffu);
  scores[index] = magnitude * sqrt(sqNorm[index % params.cols]);
}
