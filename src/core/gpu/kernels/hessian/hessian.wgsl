// Calibration statistics of a linear layer's inputs, accumulated in f32:
//   gram   += Xᵀ X           (channels × channels)  — SparseGPT's H before the 2/n scale
//   sqNorm += Σ_t x_tj²      (channels)             — Wanda's ‖X_j‖²
//   maxAbs  = max(maxAbs, max_t |x_tj|)  (channels) — stored as the f32 bit pattern (u32)
// X arrives as token rows (tokens × channels, row-major). Shapes come from `params`.

struct Params {
  tokens: u32,
  channels: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;                 // (tokens, channels)
@group(0) @binding(2) var<storage, read_write> gram: array<f32>;        // (channels, channels)
@group(0) @binding(3) var<storage, read_write> sqNorm: array<f32>;      // (channels)
@group(0) @binding(4) var<storage, read_write> maxAbsBits: array<u32>;  // (channels), f32 bits

override WG_X: u32 = 16;
override WG_Y: u32 = 16;
// Tokens staged in workgroup memory per step of the Gram tile loop.
override TOKENS_PER_STEP: u32 = 16;

// Each invocation owns MICRO × MICRO outputs of the tile, strided by the workgroup size, so a
// WG_X×WG_Y workgroup computes a (MICRO·WG_Y) × (MICRO·WG_X) tile of gram.
const MICRO: u32 = 4u;

var<workgroup> rowTile: array<f32, TOKENS_PER_STEP * WG_Y * MICRO>;  // x[t0.., rowBase..]
var<workgroup> colTile: array<f32, TOKENS_PER_STEP * WG_X * MICRO>;  // x[t0.., colBase..]

@compute @workgroup_size(WG_X, WG_Y)
fn accumulateGram(
  @builtin(workgroup_id) wid: vec3u,
  @builtin(local_invocation_id) lid: vec3u,
  @builtin(local_invocation_index) li: u32,
) {
  let C = params.channels;
  let rowWidth = WG_Y * MICRO;
  let colWidth = WG_X * MICRO;
  let rowBase = wid.y * rowWidth;
  let colBase = wid.x * colWidth;
  let threads = WG_X * WG_Y;
  var acc: array<array<f32, MICRO>, MICRO>;

  for (var t0 = 0u; t0 < params.tokens; t0 += TOKENS_PER_STEP) {
    // Stage TOKENS_PER_STEP token rows of both channel ranges; zeros past either edge.
    for (var e = li; e < TOKENS_PER_STEP * rowWidth; e += threads) {
      let t = t0 + e / rowWidth;
      let a = rowBase + e % rowWidth;
      rowTile[e] = select(0.0, x[min(t * C + a, arrayLength(&x) - 1u)], t < params.tokens && a < C);
    }
    for (var e = li; e < TOKENS_PER_STEP * colWidth; e += threads) {
      let t = t0 + e / colWidth;
      let b = colBase + e % colWidth;
      colTile[e] = select(0.0, x[min(t * C + b, arrayLength(&x) - 1u)], t < params.tokens && b < C);
    }
    workgroupBarrier();
    // Tokens are summed in order, one product at a time, so each output is a sequential f32 sum.
    let steps = min(TOKENS_PER_STEP, params.tokens - t0);
    for (var k = 0u; k < steps; k++) {
      var av: array<f32, MICRO>;
      var bv: array<f32, MICRO>;
      for (var i = 0u; i < MICRO; i++) {
        av[i] = rowTile[k * rowWidth + lid.y + i * WG_Y];
        bv[i] = colTile[k * colWidth + lid.x + i * WG_X];
      }
      for (var i = 0u; i < MICRO; i++) {
        for (var j = 0u; j < MICRO; j++) {
          acc[i][j] += av[i] * bv[j];
        }
      }
    }
    workgroupBarrier();
  }

  for (var i = 0u; i < MICRO; i++) {
    let a = rowBase + lid.y + i * WG_Y;
    for (var j = 0u; j < MICRO; j++) {
      let b = colBase + lid.x + j * WG_X;
      if (a < C && b < C) {
        gram[a * C + b] += acc[i][j];
      }
    }
  }
}

// One invocation per channel; the workgroups form a line folded into (x, y) (see program.ts).
@compute @workgroup_size(WG_X)
fn accumulateChannelStats(
  @builtin(workgroup_id) wid: vec3u,
  @builtin(num_workgroups) nwg: vec3u,
  @builtin(local_invocation_index) li: u32,
) {
  let C = params.channels;
  let j = (wid.x + wid.y * nwg.x) * WG_X + li;
  if (j >= C) {
    return;
  }
  var sum = 0.0;
  // |x| as bits: for non-negative floats the u32 order is the numeric order, and every NaN
  // pattern is above +Inf, so a u32 max is an exact max|x| in which NaN is sticky — no float
  // compare, whose NaN behaviour WGSL leaves to the implementation.
  var largest = maxAbsBits[j];
  for (var t = 0u; t < params.tokens; t++) {
    let v = x[t * C + j];
    sum += v * v;
    largest = max(largest, bitcast<u32>(v) & 0x7fffffffu);
  }
  sqNorm[j] += sum;
  maxAbsBits[j] = largest;
}
