// Block-sparse Y = X · Wᵀ on the shared tiling (matmulTile.wgsl), for SparseByteNN's groups of
// 4 weights (Xu et al. 2023), W in the compressed-rows-of-groups layout of sparseFormats.ts.
// Each invocation walks its group rows' kept groups with a cursor that advances TILE_K input
// columns at a time (group columns ascend within a row, and groups never straddle a step).
//   blockRowMatmul     1×4: a group row is one output row; a group is 4 consecutive inputs.
//   blockColumnMatmul  4×1: a group row is 4 consecutive output rows, exactly the invocation's
//                      MICRO outputs; a group is one input column times 4 outputs.

@group(0) @binding(3) var<storage, read> rowStart: array<u32>;     // (groupRows + 1)
@group(0) @binding(4) var<storage, read> groupColumn: array<u32>;  // (kept groups)
@group(0) @binding(5) var<storage, read> values: array<vec4f>;     // (kept groups)

@compute @workgroup_size(WG_X, WG_Y)
fn blockRowMatmul(
  @builtin(workgroup_id) wid: vec3u,
  @builtin(local_invocation_id) lid: vec3u,
  @builtin(local_invocation_index) li: u32,
) {
  let tokenBase = wid.y * WG_Y * MICRO;
  let outBase = (wid.x * WG_X + lid.x) * MICRO;
  var cursor: array<u32, MICRO>;
  var end: array<u32, MICRO>;
  for (var j = 0u; j < MICRO; j++) {
    let o = min(outBase + j, params.outFeatures - 1u);
    cursor[j] = rowStart[o];
    // Outputs past the edge walk nothing.
    end[j] = select(rowStart[o], rowStart[o + 1u], outBase + j < params.outFeatures);
  }
  var acc: array<array<f32, MICRO>, MICRO>;
  for (var k0 = 0u; k0 < params.inFeatures; k0 += TILE_K) {
    stageX(tokenBase, k0, li);
    workgroupBarrier();
    for (var j = 0u; j < MICRO; j++) {
      loop {
        if (cursor[j] >= end[j]) { break; }
        let c = groupColumn[cursor[j]];
        if (c >= k0 + TILE_K) { break; }
        let v = values[cursor[j]];
        let local = c - k0;
        for (var i = 0u; i < MICRO; i++) {
          let row = tileRow(lid.y, i) + local;
          acc[i][j] += dot(vec4f(xTile[row], xTile[row + 1u], xTile[row + 2u], xTile[row + 3u]), v);
        }
        cursor[j] += 1u;
      }
    }
    workgroupBarrier();
  }
  writeY(tokenBase, lid.y, outBase, acc);
}

@compute @workgroup_size(WG_X, WG_Y)
fn blockColumnMatmul(
  @builtin(workgroup_id) wid: vec3u,
  @builtin(local_invocation_id) lid: vec3u,
  @builtin(local_invocation_index) li: u32,
) {
  let tokenBase = wid.y * WG_Y * MICRO;
  let groupRow = wid.x * WG_X + lid.x;
  let groupRows = params.outFeatures / MICRO;
  let clamped = min(groupRow, groupRows - 1u);
  var cursor = rowStart[clamped];
  let end = select(cursor, rowStart[clamped + 1u], groupRow < groupRows);
  var acc: array<array<f32, MICRO>, MICRO>;
  for (var k0 = 0u; k0 < params.inFeatures; k0 += TILE_K) {
    stageX(tokenBase, k0, li);
    workgroupBarrier();
    loop {
      if (cursor >= end) { break; }
      let c = groupColumn[cursor];
      if (c >= k0 + TILE_K) { break; }
      let v = values[cursor];
      for (var i = 0u; i < MICRO; i++) {
        let xv = xTile[tileRow(lid.y, i) + c - k0];
        for (var j = 0u; j < MICRO; j++) {
          acc[i][j] += xv * v[j];
        }
      }
      cursor += 1u;
    }
    workgroupBarrier();
  }
  writeY(tokenBase, lid.y, groupRow * MICRO, acc);
}
