// The tiling the three matmul kernels share, so that their times differ only by how they read W:
// Y = X · Wᵀ with X (tokens, inFeatures) token rows, W (outFeatures, inFeatures), Y (tokens,
// outFeatures). A WG_X × WG_Y workgroup computes a (MICRO·WG_Y) tokens × (MICRO·WG_X) outputs tile
// of Y; each invocation owns MICRO token rows (strided by WG_Y) × MICRO consecutive outputs (so a
// 4×1 group of rows belongs to one invocation). X is staged in workgroup memory TILE_K input
// columns at a time, zero past the edges; W is read by each invocation for its MICRO outputs.

struct Params {
  tokens: u32,
  outFeatures: u32,
  inFeatures: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;        // (tokens, inFeatures)
@group(0) @binding(2) var<storage, read_write> y: array<f32>;  // (tokens, outFeatures)

override WG_X: u32 = 16;
override WG_Y: u32 = 16;
// Input columns staged per step; a multiple of 4, so that a group of 4 never straddles two steps.
override TILE_K: u32 = 32;

const MICRO: u32 = 4u;

var<workgroup> xTile: array<f32, WG_Y * MICRO * TILE_K>;  // x[tokenBase.., k0..k0 + TILE_K]

fn stageX(tokenBase: u32, k0: u32, li: u32) {
  for (var e = li; e < WG_Y * MICRO * TILE_K; e += WG_X * WG_Y) {
    let t = tokenBase + e / TILE_K;
    let c = k0 + e % TILE_K;
    xTile[e] = select(0.0, x[min(t * params.inFeatures + c, arrayLength(&x) - 1u)], t < params.tokens && c < params.inFeatures);
  }
}

/** Offset in xTile of this invocation's i-th token row. */
fn tileRow(ly: u32, i: u32) -> u32 {
  return (ly + i * WG_Y) * TILE_K;
}

fn writeY(tokenBase: u32, ly: u32, outBase: u32, acc: array<array<f32, MICRO>, MICRO>) {
  for (var i = 0u; i < MICRO; i++) {
    let t = tokenBase + ly + i * WG_Y;
    for (var j = 0u; j < MICRO; j++) {
      let o = outBase + j;
      if (t < params.tokens && o < params.outFeatures) {
        y[t * params.outFeatures + o] = acc[i][j];
      }
    }
  }
}
