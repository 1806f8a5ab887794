// GPTQ's column loop inside one block (IST-DASLab/gptq, GPTQ.fasterquant), the quantising
// counterpart of sparsegptUpdate.wgsl's updateBlock. For each column i of [blockStart, blockEnd):
//   q = Q(w) = scale · (clamp(round(w / scale) + zero, 0, maxq) − zero)   (quant.py `quantize`)
//   err = (w − q) / U_ii;   W[:, i+1:blockEnd] −= err ⊗ U[i, i+1:blockEnd]
// with the scale and zero of (row, columnGroup[i]) as the tables stand (the host or quantGrid's
// fitGroups refits dynamic groups at block starts). Writes q and its code, and the block's error
// Err (rows × width) that sparsegptUpdate's lazyUpdate then carries to the columns after the block.
// U = hinvUpper, the upper Cholesky factor of H⁻¹. Rows are independent: WG_Y rows per workgroup,
// WG_X lanes share each row's columns; the row's block lives in workgroup memory.

struct Params {
  rows: u32,
  cols: u32,
  blockStart: u32,
  blockEnd: u32,
  groups: u32,  // columns of the scale / zero tables
  maxq: f32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read_write> weights: array<f32>;  // (rows, cols)
@group(0) @binding(2) var<storage, read> hinvUpper: array<f32>;      // (cols, cols), upper triangular
@group(0) @binding(3) var<storage, read_write> blockErr: array<f32>; // (rows, blockEnd − blockStart)
@group(0) @binding(4) var<storage, read> scales: array<f32>;         // (rows, groups)
@group(0) @binding(5) var<storage, read> zeros: array<f32>;          // (rows, groups)
@group(0) @binding(6) var<storage, read> columnGroup: array<u32>;    // (cols) table column of each column
@group(0) @binding(7) var<storage, read_write> codes: array<u32>;    // (rows, cols)

override WG_X: u32 = 32;
override WG_Y: u32 = 8;
// The widest block held in workgroup memory (fasterquant's default blocksize).
override MAX_BLOCK: u32 = 128;

var<workgroup> blockW: array<f32, WG_Y * MAX_BLOCK>;

// No `return` before a barrier (see rowSelect.wgsl): rows past the end just skip memory access.
@compute @workgroup_size(WG_X, WG_Y)
fn quantizeBlock(
  @builtin(workgroup_id) wid: vec3u,
  @builtin(num_workgroups) nwg: vec3u,
  @builtin(local_invocation_id) lid: vec3u,
) {
  let C = params.cols;
  let start = params.blockStart;
  let width = params.blockEnd - params.blockStart;
  let row = (wid.x + wid.y * nwg.x) * WG_Y + lid.y;
  let live = row < params.rows;
  let safeRow = select(0u, row, live);
  let slot = lid.y * MAX_BLOCK;

  for (var j = lid.x; j < width; j += WG_X) {
    if (live) {
      blockW[slot + j] = weights[row * C + start + j];
    }
  }
  workgroupBarrier();

  for (var i = 0u; i < width; i++) {
    let col = start + i;
    let t = safeRow * params.groups + columnGroup[col];
    let scale = scales[t];
    let zero = zeros[t];
    let w = blockW[slot + i];
    let code = clamp(round(w / scale) + zero, 0.0, params.maxq);
    let q = scale * (code - zero);
    let err = (w - q) / hinvUpper[col * C + col];
    if (live && lid.x == 0u) {
      blockErr[row * width + i] = err;
      weights[row * C + col] = q;
      codes[row * C + col] = u32(code);
    }
    // Column i itself ends as q (written above); fasterquant's j = i term only reaches it.
    for (var j = i + 1u + lid.x; j < width; j += WG_X) {
      blockW[slot + j] -= err * hinvUpper[col * C + start + j];
    }
    workgroupBarrier();
  }
}
