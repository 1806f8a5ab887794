// 2:4 sparse Y = X · Wᵀ on the shared tiling (matmulTile.wgsl). W in the 2:4 layout of
// sparseFormats.ts: per group of 4 input columns, 2 values and two 2-bit positions (4 bits per
// group, 8 groups per u32). Half the multiply-adds and about 53 % of the bytes of W that the dense
// kernel reads (2 bytes of values + 1/8 byte of positions per weight, against 4). inFeatures must be a multiple of 4.

@group(0) @binding(3) var<storage, read> values: array<f32>;     // (outFeatures, inFeatures / 2)
@group(0) @binding(4) var<storage, read> positions: array<u32>;  // (outFeatures, ⌈inFeatures / 32⌉)

@compute @workgroup_size(WG_X, WG_Y)
fn sparse24Matmul(
  @builtin(workgroup_id) wid: vec3u,
  @builtin(local_invocation_id) lid: vec3u,
  @builtin(local_invocation_index) li: u32,
) {
  let tokenBase = wid.y * WG_Y * MICRO;
  let outBase = (wid.x * WG_X + lid.x) * MICRO;
  let words = (params.inFeatures + 31u) / 32u;
  let half = params.inFeatures / 2u;
  var acc: array<array<f32, MICRO>, MICRO>;
  for (var k0 = 0u; k0 < params.inFeatures; k0 += TILE_K) {
    stageX(tokenBase, k0, li);
    workgroupBarrier();
    let groups = min(TILE_K, params.inFeatures - k0) / 4u;
    for (var j = 0u; j < MICRO; j++) {
      // Outputs past the edge read the last row and are not written (writeY).
      let o = min(outBase + j, params.outFeatures - 1u);
      for (var g = 0u; g < groups; g++) {
        let group = k0 / 4u + g;
        let bits = (positions[o * words + group / 8u] >> (4u * (group % 8u))) & 0xfu;
        let v0 = values[o * half + 2u * group];
        let v1 = values[o * half + 2u * group + 1u];
        let c0 = 4u * g + (bits & 3u);
        let c1 = 4u * g + (bits >> 2u);
        for (var i = 0u; i < MICRO; i++) {
          let row = tileRow(lid.y, i);
          acc[i][j] += xTile[row + c0] * v0 + xTile[row + c1] * v1;
        }
      }
    }
    workgroupBarrier();
  }
  writeY(tokenBase, lid.y, outBase, acc);
}
