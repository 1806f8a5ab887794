// Per-row selection: in each row of scores (rows × cols) mark the pruneCount lowest scores
// pruned (keepMask 0), the rest kept (1), in pruneOrder's order with lower column index first
// among equal scores. One workgroup per row; the workgroups form a folded line (program.ts).
//
// Radix select instead of a sort, so any cols works (no power of two, no limit from workgroup
// memory): four passes over the row, each building a 256-bin histogram of the next 8 bits of
// pruneKey among the elements whose higher bits match the pivot found so far. After the fourth
// the pivot is the exact key of the pruneCount-th lowest element and `need` says how many of
// the elements equal to it are pruned. If that is all of them (no tie across the boundary,
// the common case) one pass writes key <= pivot; otherwise a workgroup prefix count over the
// row ranks the pivot-equal elements by column index and prunes the first `need`.

struct Params {
  rows: u32,
  cols: u32,
  pruneCount: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> scores: array<f32>;         // (rows, cols)
@group(0) @binding(2) var<storage, read_write> keepMask: array<u32>; // (rows, cols), 1 keep / 0 pruned

override WG_X: u32 = 256;
const BINS: u32 = 256u;

var<workgroup> histogram: array<atomic<u32>, BINS>;
// countA/countB and inclusiveScan (over one chunk of the row): ../workgroupScan.wgsl.
// Pivot-equal elements in the chunks already done.
var<workgroup> equalDone: atomic<u32>;
// (pivot prefix, pivot-equal elements still to prune, elements equal to the prefix, unused)
var<workgroup> selection: vec4<u32>;

// No early `return` comes before a barrier: Tint's GLSL output (llvmpipe, compatibility mode)
// mis-synchronises barriers that follow a return, so the cases are if/else branches instead.
@compute @workgroup_size(WG_X)
fn rowSelect(
  @builtin(workgroup_id) wid: vec3u,
  @builtin(num_workgroups) nwg: vec3u,
  @builtin(local_invocation_index) li: u32,
) {
  let row = wid.x + wid.y * nwg.x;
  let k = params.pruneCount;
  let cols = params.cols;
  if (row >= params.rows) {
    // padding workgroup of a folded dispatch
  } else if (k == 0u || k >= cols) {
    let keep = select(0u, 1u, k == 0u);
    for (var c = li; c < cols; c += WG_X) {
      keepMask[row * cols + c] = keep;
    }
  } else {
    selectRow(row, li);
  }
}

fn selectRow(row: u32, li: u32) {
  let cols = params.cols;
  let base = row * cols;
  var prefix = 0u;
  var prefixBits = 0u;
  var need = params.pruneCount;
  var equalCount = 0u;
  for (var round = 0u; round < 4u; round++) {
    let shift = 24u - 8u * round;
    for (var b = li; b < BINS; b += WG_X) {
      atomicStore(&histogram[b], 0u);
    }
    workgroupBarrier();
    for (var c = li; c < cols; c += WG_X) {
      let key = pruneKey(scores[base + c]);
      if ((key & prefixBits) == prefix) {
        atomicAdd(&histogram[(key >> shift) & 0xffu], 1u);
      }
    }
    workgroupBarrier();
    if (li == 0u) {
      // The bin holding the need-th lowest of the candidates; candidates number >= need.
      var below = 0u;
      for (var bin = 0u; bin < BINS; bin++) {
        let count = atomicLoad(&histogram[bin]);
        if (below + count >= need) {
          selection = vec4u(prefix | (bin << shift), need - below, count, 0u);
          break;
        }
        below += count;
      }
    }
    let chosen = workgroupUniformLoad(&selection);
    prefix = chosen.x;
    need = chosen.y;
    equalCount = chosen.z;
    prefixBits |= 0xffu << shift;
  }
  let pivot = prefix;

  if (need == equalCount) {
    for (var c = li; c < cols; c += WG_X) {
      keepMask[base + c] = select(1u, 0u, pruneKey(scores[base + c]) <= pivot);
    }
  } else {
    pruneTiedPivot(base, li, pivot, need);
  }
}

// A tie straddles the boundary: prune the `need` pivot-equal elements of lowest column index.
// Every workgroup load here is consumed by a store before the next barrier (ping-pong buffers,
// an atomic for the running total): Mesa's llvmpipe behind Dawn's GL backend was seen to move a
// workgroup load below workgroupBarrier() when its value is only used after it.
fn pruneTiedPivot(base: u32, li: u32, pivot: u32, need: u32) {
  let cols = params.cols;
  if (li == 0u) {
    atomicStore(&equalDone, 0u);
  }
  for (var start = 0u; start < cols; start += WG_X) {
    workgroupBarrier(); // the previous chunk is finished, equalDone is up to date
    let c = start + li;
    var key = 0u;
    var isPivot = false;
    if (c < cols) {
      key = pruneKey(scores[base + c]);
      isPivot = key == pivot;
    }
    let flag = select(0u, 1u, isPivot);
    let equalBefore = atomicLoad(&equalDone);
    let inclusive = inclusiveScan(li, flag);
    if (c < cols) {
      let rank = equalBefore + inclusive - flag;
      keepMask[base + c] = select(1u, 0u, key < pivot || (isPivot && rank < need));
    }
    if (li == WG_X - 1u) {
      atomicAdd(&equalDone, inclusive);
    }
  }
}
