// N:M selection: in every group of M consecutive columns of each row keep N (prune the M − N
// lowest in pruneOrder's order, lower column index first among equal scores). A trailing
// partial group of r columns keeps min(N, r). One invocation per (row, group); the groups of
// all rows form a folded line of workgroups (see program.ts).

struct Params {
  rows: u32,
  cols: u32,
  keepN: u32,
  groupM: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> scores: array<f32>;         // (rows, cols)
@group(0) @binding(2) var<storage, read_write> keepMask: array<u32>; // (rows, cols), 1 keep / 0 pruned

override WG_X: u32 = 64;
const MAX_GROUP: u32 = 32u; // largest M; the host checks

@compute @workgroup_size(WG_X)
fn nmSelect(
  @builtin(workgroup_id) wid: vec3u,
  @builtin(num_workgroups) nwg: vec3u,
  @builtin(local_invocation_index) li: u32,
) {
  let M = params.groupM;
  let groupsPerRow = (params.cols + M - 1u) / M;
  let index = (wid.x + wid.y * nwg.x) * WG_X + li;
  if (index >= params.rows * groupsPerRow) {
    return;
  }
  let row = index / groupsPerRow;
  let start = row * params.cols + (index % groupsPerRow) * M;
  let size = min(M, params.cols - (index % groupsPerRow) * M);
  let pruneCount = select(0u, size - params.keepN, size > params.keepN);

  var keys: array<u32, MAX_GROUP>;
  for (var g = 0u; g < size; g++) {
    keys[g] = pruneKey(scores[start + g]);
  }
  // Rank of each element in (key, column) order: O(M²) compares, M is small.
  for (var g = 0u; g < size; g++) {
    var rank = 0u;
    for (var h = 0u; h < size; h++) {
      if (keys[h] < keys[g] || (keys[h] == keys[g] && h < g)) {
        rank++;
      }
    }
    keepMask[start + g] = select(1u, 0u, rank < pruneCount);
  }
}
