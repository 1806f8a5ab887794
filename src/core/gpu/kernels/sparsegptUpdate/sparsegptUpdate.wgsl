// SparseGPT's weight update (IST-DASLab/sparsegpt, SparseGPT.fasterprune), two entry points:
//   updateBlock — the column-by-column rank-1 updates inside one block [blockStart, blockEnd)
//                 (and, in N:M mode, the choice of the pruned weights at each group start);
//                 writes Q into the block and the block's error Err (rows × width). It may walk
//                 only the block columns [columnStart, columnEnd) (offsets in the block; the whole
//                 block is 0, width): their updates still reach every later column of the block,
//                 those become Q and the later ones keep their updated values, so a block run
//                 as consecutive spans gives the same bits as one dispatch. The host then chooses
//                 each span's mask from the block's current weights (SparseGPT's block-wide
//                 unstructured mask, or V:N:M per group of M) between the dispatches.
//   lazyUpdate  — W[:, blockEnd:] −= Err · U[block, blockEnd:], a tiled GEMM.
//   blockScores — the OBS saliency W²/U_jj² of the block's current weights, (rows, width), from
//                 which globalSelect chooses SparseGPT's block-wide unstructured mask on the
//                 device (no readback between blocks).
// U = hinvUpper, the upper Cholesky factor of H⁻¹. Shapes come from `params`.

struct Params {
  rows: u32,
  cols: u32,
  blockStart: u32,
  blockEnd: u32,
  keepN: u32,
  groupM: u32,  // 0: keepMask is given; > 0: choose N:M inside the block and write keepMask
  columnStart: u32,  // updateBlock walks block columns [columnStart, columnEnd)
  columnEnd: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read_write> weights: array<f32>;   // (rows, cols)
@group(0) @binding(2) var<storage, read_write> keepMask: array<u32>;  // (rows, cols), 1 keep / 0 pruned
@group(0) @binding(3) var<storage, read> hinvUpper: array<f32>;       // (cols, cols), upper triangular
@group(0) @binding(4) var<storage, read_write> blockErr: array<f32>;  // (rows, blockEnd − blockStart)
@group(0) @binding(5) var<storage, read_write> blockScore: array<f32>; // (rows, blockEnd − blockStart)

override WG_X: u32 = 32;
override WG_Y: u32 = 8;
// updateBlock: widest block it holds in workgroup memory (fasterprune's default blocksize).
override MAX_BLOCK: u32 = 128;
// lazyUpdate: rows of U (columns of Err) staged per step.
override TILE_K: u32 = 16;

const MAX_GROUP: u32 = 32u;
const MICRO: u32 = 4u;

// updateBlock: WG_Y rows per workgroup, WG_X lanes share each row's columns.
var<workgroup> blockW: array<f32, WG_Y * MAX_BLOCK>;
var<workgroup> blockKeep: array<u32, WG_Y * MAX_BLOCK>;

// No `return` before a barrier (see rowSelect.wgsl): rows past the end just skip memory access.
@compute @workgroup_size(WG_X, WG_Y)
fn updateBlock(
  @builtin(workgroup_id) wid: vec3u,
  @builtin(num_workgroups) nwg: vec3u,
  @builtin(local_invocation_id) lid: vec3u,
) {
  let C = params.cols;
  let start = params.blockStart;
  let width = params.blockEnd - params.blockStart;
  let row = (wid.x + wid.y * nwg.x) * WG_Y + lid.y;
  let live = row < params.rows;
  let slot = lid.y * MAX_BLOCK;

  for (var j = lid.x; j < width; j += WG_X) {
    if (live) {
      blockW[slot + j] = weights[row * C + start + j];
      blockKeep[slot + j] = keepMask[row * C + start + j];
    }
  }
  workgroupBarrier();

  for (var i = params.columnStart; i < params.columnEnd; i++) {
    if (params.groupM > 0u && i % params.groupM == 0u) {
      if (live && lid.x == 0u) {
        chooseNmGroup(slot, i, min(i + params.groupM, width));
      }
      workgroupBarrier();
    }
    let col = start + i;
    let w = blockW[slot + i];
    let q = select(0.0, w, blockKeep[slot + i] != 0u);
    let err = (w - q) / hinvUpper[col * C + col];
    if (live && lid.x == 0u) {
      blockErr[row * width + i] = err;
    }
    // Column i itself ends as q, written below; fasterprune's j = i term only reaches it.
    for (var j = i + 1u + lid.x; j < width; j += WG_X) {
      blockW[slot + j] -= err * hinvUpper[col * C + start + j];
    }
    workgroupBarrier();
  }

  // The walked columns become Q: kept weights as updated, pruned ones 0 (fasterprune's
  // W[:, i1:i2] = Q1); the columns after them carry the updates so far.
  for (var j = params.columnStart + lid.x; j < width; j += WG_X) {
    if (live) {
      let keep = blockKeep[slot + j];
      let walked = j < params.columnEnd;
      weights[row * C + start + j] = select(blockW[slot + j], select(0.0, blockW[slot + j], keep != 0u), walked);
      if (params.groupM > 0u && walked) {
        keepMask[row * C + start + j] = keep;
      }
    }
  }
}

// fasterprune's N:M choice for one row: score W²/U_jj² over block columns [groupStart, groupEnd) of the
// current weights; prune all but the keepN highest (pruneOrder, lower column first in ties).
fn chooseNmGroup(slot: u32, groupStart: u32, groupEnd: u32) {
  let C = params.cols;
  let size = groupEnd - groupStart;
  let pruneCount = select(0u, size - params.keepN, size > params.keepN);
  var keys: array<u32, MAX_GROUP>;
  for (var g = 0u; g < size; g++) {
    let w = blockW[slot + groupStart + g];
    let col = params.blockStart + groupStart + g;
    let d = hinvUpper[col * C + col];
    keys[g] = pruneKey((w * w) / (d * d));
  }
  for (var g = 0u; g < size; g++) {
    var rank = 0u;
    for (var h = 0u; h < size; h++) {
      if (keys[h] < keys[g] || (keys[h] == keys[g] && h < g)) {
        rank++;
      }
    }
    blockKeep[slot + groupStart + g] = select(1u, 0u, rank < pruneCount);
  }
}

// lazyUpdate: a (MICRO·WG_Y) × (MICRO·WG_X) tile of W[:, blockEnd:] per workgroup.
var<workgroup> errTile: array<f32, TILE_K * WG_Y * MICRO>;   // [k][row]
var<workgroup> hinvTile: array<f32, TILE_K * WG_X * MICRO>;  // [k][col]

@compute @workgroup_size(WG_X, WG_Y)
fn lazyUpdate(
  @builtin(workgroup_id) wid: vec3u,
  @builtin(local_invocation_id) lid: vec3u,
  @builtin(local_invocation_index) li: u32,
) {
  let C = params.cols;
  let start = params.blockStart;
  let width = params.blockEnd - params.blockStart;
  let tileRows = WG_Y * MICRO;
  let tileCols = WG_X * MICRO;
  let rowBase = wid.y * tileRows;
  let colBase = params.blockEnd + wid.x * tileCols;
  let threads = WG_X * WG_Y;
  var acc: array<array<f32, MICRO>, MICRO>;

  for (var k0 = 0u; k0 < width; k0 += TILE_K) {
    for (var e = li; e < TILE_K * tileRows; e += threads) {
      let k = k0 + e / tileRows;
      let r = rowBase + e % tileRows;
      let inside = k < width && r < params.rows;
      errTile[e] = select(0.0, blockErr[select(0u, r * width + k, inside)], inside);
    }
    for (var e = li; e < TILE_K * tileCols; e += threads) {
      let k = k0 + e / tileCols;
      let c = colBase + e % tileCols;
      let inside = k < width && c < C;
      hinvTile[e] = select(0.0, hinvUpper[select(0u, (start + k) * C + c, inside)], inside);
    }
    workgroupBarrier();
    // Err columns are summed in order, one product at a time, as the reference does.
    let steps = min(TILE_K, width - k0);
    for (var kk = 0u; kk < steps; kk++) {
      var ev: array<f32, MICRO>;
      var hv: array<f32, MICRO>;
      for (var i = 0u; i < MICRO; i++) {
        ev[i] = errTile[kk * tileRows + lid.y + i * WG_Y];
        hv[i] = hinvTile[kk * tileCols + lid.x + i * WG_X];
      }
      for (var i = 0u; i < MICRO; i++) {
        for (var j = 0u; j < MICRO; j++) {
          acc[i][j] += ev[i] * hv[j];
        }
      }
    }
    workgroupBarrier();
  }

  for (var i = 0u; i < MICRO; i++) {
    let r = rowBase + lid.y + i * WG_Y;
    for (var j = 0u; j < MICRO; j++) {
      let c = colBase + lid.x + j * WG_X;
      if (r < params.rows && c < C) {
        weights[r * C + c] -= acc[i][j];
      }
    }
  }
}

// blockScores: one invocation per element of the block, a folded line of WG_X·WG_Y-wide
// workgroups. The float operations of obsScores (src/core/prune/sparsegpt.setup.ts): w·w and
// d·d each rounded to f32, then one f32 division.
@compute @workgroup_size(WG_X, WG_Y)
fn blockScores(
  @builtin(workgroup_id) wid: vec3u,
  @builtin(num_workgroups) nwg: vec3u,
  @builtin(local_invocation_index) li: u32,
) {
  let C = params.cols;
  let width = params.blockEnd - params.blockStart;
  let e = (wid.x + wid.y * nwg.x) * (WG_X * WG_Y) + li;
  if (e < params.rows * width) {
    let col = params.blockStart + e % width;
    let w = weights[(e / width) * C + col];
    let d = hinvUpper[col * C + col];
    blockScore[e] = (w * w) / (d * d);
  }
}
