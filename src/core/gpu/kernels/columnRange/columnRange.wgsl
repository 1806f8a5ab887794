// Copies between the columns [columnStart, columnEnd) of a (rows, cols) row-major matrix and a
// compact (rows, columnEnd − columnStart) buffer, one invocation per compact element on a folded
// line of workgroups. The elements are moved as 32-bit words (f32 weights or u32 mask entries
// alike, bit for bit, NaN payloads included). SparseGPT's host-chosen masks use it to read one
// block's current weights and to write that block's keep mask without moving the whole matrix.

struct Params {
  rows: u32,
  cols: u32,
  columnStart: u32,
  columnEnd: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read_write> matrixWords: array<u32>;   // (rows, cols)
@group(0) @binding(2) var<storage, read_write> compactWords: array<u32>;  // (rows, columnEnd − columnStart)

override WG_X: u32 = 256;

// Index into matrixWords of compact element `index`, or rows·cols past the end.
fn matrixIndex(index: u32) -> u32 {
  let width = params.columnEnd - params.columnStart;
  if (index >= params.rows * width) {
    return params.rows * params.cols;
  }
  return (index / width) * params.cols + params.columnStart + index % width;
}

@compute @workgroup_size(WG_X)
fn readColumns(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) li: u32) {
  let index = (wid.x + wid.y * nwg.x) * WG_X + li;
  let at = matrixIndex(index);
  if (at < params.rows * params.cols) {
    compactWords[index] = matrixWords[at];
  }
}

@compute @workgroup_size(WG_X)
fn writeColumns(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) li: u32) {
  let index = (wid.x + wid.y * nwg.x) * WG_X + li;
  let at = matrixIndex(index);
  if (at < params.rows * params.cols) {
    matrixWords[at] = compactWords[index];
  }
}
