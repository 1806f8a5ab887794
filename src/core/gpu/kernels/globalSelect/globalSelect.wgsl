// Selection over one flat comparison group of `count` scores spread over many workgroups (a
// whole layer for magnitude's per-layer group, a whole block for SparseGPT's unstructured mask),
// where rowSelect gives one workgroup a row. Radix select on pruneKey (pruneOrder.wgsl), 8 bits
// per digit, most significant first:
//
//   init                    state: histogram zeroed, prefix 0, need = the 1-based rank sought
//   4 × histogram, pickBin  every workgroup counts the next digit of its chunk's keys that match
//                           the prefix into a workgroup histogram and adds it to the global one
//                           (atomics); one invocation then walks the 256 bins to the one holding
//                           the need-th lowest, extends the prefix and zeroes the histogram
//   countEqual, scanChunks  (exact mode, only when pivot-equal keys straddle the boundary) keys
//                           equal to the pivot per chunk, then an exclusive scan over the chunks
//   writeMask               keep / prune every element
//
// After the four digits the prefix is the exact key of the need-th lowest (the pivot), `need`
// how many pivot-equal keys are within the rank and `equal` how many there are. Two modes:
//   exact (0): prune exactly pruneCount, the lowest in pruning order, ties by flat index
//              (keepPerLayer in src/core/prune/masks.ts): key < pivot, and pivot-equal keys by
//              their rank among the pivot-equal ones (countEqual + scanChunks + in-chunk scan);
//   threshold (1): SparseGPT's `thresh = sort(tmp)[r]; tmp <= thresh` (blockThresholdKeep):
//              prune key <= pivot; a NaN threshold prunes nothing (NaN <= x is false).
//
// Workgroups take contiguous chunks of CHUNK = WG_X · ITEMS elements and read them in ITEMS
// coalesced sub-chunks of WG_X; the grid is a folded line (program.ts). Kernels with barriers
// take no early return and consume every workgroup load by a store before the next barrier (see
// rowSelect.wgsl: Mesa llvmpipe behind Dawn's GL backend mis-synchronises otherwise).

struct Params {
  count: u32,
  // exact: how many to prune; threshold: the 1-based rank of the threshold, r + 1.
  pruneCount: u32,
  mode: u32,
  // The digit histogram and pickBin work on: 24, 16, 8, 0.
  shift: u32,
  // Where element i's mask goes: keepMask[(i / maskWidth) · maskStride + maskOffset + i % maskWidth].
  maskWidth: u32,
  maskStride: u32,
  maskOffset: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> scores: array<f32>;
@group(0) @binding(2) var<storage, read_write> keepMask: array<u32>;
// [0, 256) the global digit histogram; then prefix, prefix bits, need, equal.
@group(0) @binding(3) var<storage, read_write> state: array<atomic<u32>>;
// Per chunk: pivot-equal keys, then (scanChunks) those in the chunks before it.
@group(0) @binding(4) var<storage, read_write> chunkEqual: array<u32>;

override WG_X: u32 = 256;
override ITEMS: u32 = 16;
const BINS: u32 = 256u;
const PREFIX: u32 = 256u;
const PREFIX_BITS: u32 = 257u;
const NEED: u32 = 258u;
const EQUAL: u32 = 259u;
const MODE_EXACT: u32 = 0u;
const NAN_KEY: u32 = 0xffffffffu;

var<workgroup> localHistogram: array<atomic<u32>, BINS>;
// (prefix, need, equal, unused) broadcast with workgroupUniformLoad.
var<workgroup> selection: vec4<u32>;
// The running total of the chunks done (countA/countB and inclusiveScan: ../workgroupScan.wgsl).
var<workgroup> running: atomic<u32>;

fn chunkSize() -> u32 {
  return WG_X * ITEMS;
}

fn chunkCount() -> u32 {
  return (params.count + chunkSize() - 1u) / chunkSize();
}

fn linearWorkgroup(wid: vec3u, nwg: vec3u) -> u32 {
  return wid.x + wid.y * nwg.x;
}

// init and pickBin run as one invocation (WG_X = 1): 256 bins are too few to share out.
@compute @workgroup_size(WG_X)
fn init(@builtin(local_invocation_index) li: u32) {
  if (li == 0u) {
    for (var bin = 0u; bin < BINS; bin++) {
      atomicStore(&state[bin], 0u);
    }
    atomicStore(&state[PREFIX], 0u);
    atomicStore(&state[PREFIX_BITS], 0u);
    atomicStore(&state[NEED], params.pruneCount);
    atomicStore(&state[EQUAL], 0u);
  }
}

@compute @workgroup_size(WG_X)
fn histogram(
  @builtin(workgroup_id) wid: vec3u,
  @builtin(num_workgroups) nwg: vec3u,
  @builtin(local_invocation_index) li: u32,
) {
  for (var bin = li; bin < BINS; bin += WG_X) {
    atomicStore(&localHistogram[bin], 0u);
  }
  workgroupBarrier();
  let chunk = linearWorkgroup(wid, nwg);
  if (chunk < chunkCount()) {
    let prefix = atomicLoad(&state[PREFIX]);
    let prefixBits = atomicLoad(&state[PREFIX_BITS]);
    let start = chunk * chunkSize();
    for (var t = 0u; t < ITEMS; t++) {
      let i = start + t * WG_X + li;
      if (i < params.count) {
        let key = pruneKey(scores[i]);
        if ((key & prefixBits) == prefix) {
          atomicAdd(&localHistogram[(key >> params.shift) & 0xffu], 1u);
        }
      }
    }
  }
  workgroupBarrier();
  for (var bin = li; bin < BINS; bin += WG_X) {
    let n = atomicLoad(&localHistogram[bin]);
    if (n > 0u) {
      atomicAdd(&state[bin], n);
    }
  }
}

@compute @workgroup_size(WG_X)
fn pickBin(@builtin(local_invocation_index) li: u32) {
  if (li == 0u) {
    let need = atomicLoad(&state[NEED]);
    var below = 0u;
    var found = false;
    for (var bin = 0u; bin < BINS; bin++) {
      let n = atomicLoad(&state[bin]);
      if (!found && below + n >= need) {
        found = true;
        atomicOr(&state[PREFIX], bin << params.shift);
        atomicStore(&state[NEED], need - below);
        atomicStore(&state[EQUAL], n);
      }
      if (!found) {
        below += n;
      }
      atomicStore(&state[bin], 0u);
    }
    atomicOr(&state[PREFIX_BITS], 0xffu << params.shift);
  }
}

/** The selection's outcome for the whole workgroup: (pivot, need, equal). */
fn loadSelection(li: u32) -> vec4<u32> {
  if (li == 0u) {
    selection = vec4u(atomicLoad(&state[PREFIX]), atomicLoad(&state[NEED]), atomicLoad(&state[EQUAL]), 0u);
  }
  return workgroupUniformLoad(&selection);
}

/** Exact mode with pivot-equal keys on both sides of the boundary: only then are ranks needed. */
fn tieStraddles(chosen: vec4<u32>) -> bool {
  let degenerate = params.pruneCount == 0u || params.pruneCount >= params.count;
  return params.mode == MODE_EXACT && !degenerate && chosen.y != chosen.z;
}

@compute @workgroup_size(WG_X)
fn countEqual(
  @builtin(workgroup_id) wid: vec3u,
  @builtin(num_workgroups) nwg: vec3u,
  @builtin(local_invocation_index) li: u32,
) {
  let chosen = loadSelection(li);
  let chunk = linearWorkgroup(wid, nwg);
  if (tieStraddles(chosen) && chunk < chunkCount()) {
    if (li == 0u) {
      atomicStore(&running, 0u);
    }
    workgroupBarrier();
    var mine = 0u;
    let start = chunk * chunkSize();
    for (var t = 0u; t < ITEMS; t++) {
      let i = start + t * WG_X + li;
      if (i < params.count && pruneKey(scores[i]) == chosen.x) {
        mine += 1u;
      }
    }
    atomicAdd(&running, mine);
    workgroupBarrier();
    if (li == 0u) {
      chunkEqual[chunk] = atomicLoad(&running);
    }
  }
}

// One workgroup: the exclusive scan of chunkEqual, WG_X chunks at a time.
@compute @workgroup_size(WG_X)
fn scanChunks(@builtin(local_invocation_index) li: u32) {
  let chosen = loadSelection(li);
  if (tieStraddles(chosen)) {
    let chunks = chunkCount();
    if (li == 0u) {
      atomicStore(&running, 0u);
    }
    for (var base = 0u; base < chunks; base += WG_X) {
      workgroupBarrier(); // the previous round's total is in `running`
      let c = base + li;
      var value = 0u;
      if (c < chunks) {
        value = chunkEqual[c];
      }
      let before = atomicLoad(&running);
      let inclusive = inclusiveScan(li, value);
      if (c < chunks) {
        chunkEqual[c] = before + inclusive - value;
      }
      if (li == WG_X - 1u) {
        atomicAdd(&running, inclusive);
      }
    }
  }
}

fn maskIndex(i: u32) -> u32 {
  return (i / params.maskWidth) * params.maskStride + params.maskOffset + i % params.maskWidth;
}

@compute @workgroup_size(WG_X)
fn writeMask(
  @builtin(workgroup_id) wid: vec3u,
  @builtin(num_workgroups) nwg: vec3u,
  @builtin(local_invocation_index) li: u32,
) {
  let chosen = loadSelection(li);
  let pivot = chosen.x;
  let chunk = linearWorkgroup(wid, nwg);
  let start = chunk * chunkSize();
  if (chunk >= chunkCount()) {
    // padding workgroup of a folded dispatch
  } else if (tieStraddles(chosen)) {
    writeTiedChunk(chunk, li, pivot, chosen.y);
  } else {
    for (var t = 0u; t < ITEMS; t++) {
      let i = start + t * WG_X + li;
      if (i < params.count) {
        var pruned: bool;
        if (params.mode == MODE_EXACT) {
          pruned = params.pruneCount >= params.count || (params.pruneCount > 0u && pruneKey(scores[i]) <= pivot);
        } else {
          pruned = pivot != NAN_KEY && pruneKey(scores[i]) <= pivot;
        }
        keepMask[maskIndex(i)] = select(1u, 0u, pruned);
      }
    }
  }
}

// Pivot-equal keys are pruned while their rank among the pivot-equal keys of the whole group
// (chunks before this one, then sub-chunks before this one, then lanes before this one) is
// below `need`.
fn writeTiedChunk(chunk: u32, li: u32, pivot: u32, need: u32) {
  if (li == 0u) {
    atomicStore(&running, chunkEqual[chunk]);
  }
  let start = chunk * chunkSize();
  for (var t = 0u; t < ITEMS; t++) {
    workgroupBarrier(); // the previous sub-chunk is finished, `running` is up to date
    let i = start + t * WG_X + li;
    var key = 0u;
    var isPivot = false;
    if (i < params.count) {
      key = pruneKey(scores[i]);
      isPivot = key == pivot;
    }
    let flag = select(0u, 1u, isPivot);
    let equalBefore = atomicLoad(&running);
    let inclusive = inclusiveScan(li, flag);
    if (i < params.count) {
      let rank = equalBefore + inclusive - flag;
      keepMask[maskIndex(i)] = select(1u, 0u, key < pivot || (isPivot && rank < need));
    }
    if (li == WG_X - 1u) {
      atomicAdd(&running, inclusive);
    }
  }
}
