// Dense Y = X · Wᵀ on the shared tiling (matmulTile.wgsl): the baseline the sparse kernels are
// timed against. Any shape.

@group(0) @binding(3) var<storage, read> weight: array<f32>;  // (outFeatures, inFeatures)

fn weightAt(o: u32, c: u32) -> f32 {
  return select(0.0, weight[min(o * params.inFeatures + c, arrayLength(&weight) - 1u)], o < params.outFeatures);
}

@compute @workgroup_size(WG_X, WG_Y)
fn denseMatmul(
  @builtin(workgroup_id) wid: vec3u,
  @builtin(local_invocation_id) lid: vec3u,
  @builtin(local_invocation_index) li: u32,
) {
  let tokenBase = wid.y * WG_Y * MICRO;
  let outBase = (wid.x * WG_X + lid.x) * MICRO;
  var acc: array<array<f32, MICRO>, MICRO>;
  for (var k0 = 0u; k0 < params.inFeatures; k0 += TILE_K) {
    stageX(tokenBase, k0, li);
    workgroupBarrier();
    let steps = min(TILE_K, params.inFeatures - k0);
    for (var k = 0u; k < steps; k++) {
      var w: array<f32, MICRO>;
      for (var j = 0u; j < MICRO; j++) {
        w[j] = weightAt(outBase + j, k0 + k);
      }
      for (var i = 0u; i < MICRO; i++) {
        let xv = xTile[tileRow(lid.y, i) + k];
        for (var j = 0u; j < MICRO; j++) {
          acc[i][j] += xv * w[j];
        }
      }
    }
    workgroupBarrier();
  }
  writeY(tokenBase, lid.y, outBase, acc);
}
