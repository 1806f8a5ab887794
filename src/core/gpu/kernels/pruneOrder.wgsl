// pruneKey maps an f32 score to a u32 whose unsigned order is the pruning order of
// pruneOrder.ts: -Inf < negatives < ±0 < positives < +Inf < NaN, with -0 and +0 equal. Ties
// are broken by column index where the key is used. Only bit operations: WGSL lets an
// implementation assume no NaN in float arithmetic and comparisons, but not in bitcasts.
fn pruneKey(score: f32) -> u32 {
  let bits = bitcast<u32>(score);
  let magnitude = bits & 0x7fffffffu;
  if (magnitude > 0x7f800000u) {
    return 0xffffffffu; // every NaN, either sign, above +Inf
  }
  if (magnitude == 0u) {
    return 0x80000000u; // -0 ties with +0
  }
  if ((bits & 0x80000000u) != 0u) {
    return ~bits; // negatives: larger magnitude, smaller key
  }
  return bits | 0x80000000u;
}
