// Shared by the selection kernels (rowSelect, globalSelect), prepended to their shader source:
// a workgroup-wide inclusive prefix sum. The including shader declares `override WG_X: u32`.

// Double-buffered prefix count (ping-pong).
var<workgroup> countA: array<u32, WG_X>;
var<workgroup> countB: array<u32, WG_X>;

/**
 * Hillis–Steele inclusive prefix sum of `value` over the workgroup, alternating countA → countB
 * → countA …; ends with a barrier. Every workgroup load is consumed by a store before the next
 * barrier: Mesa's llvmpipe behind Dawn's GL backend was seen to move a workgroup load below
 * workgroupBarrier() when its value is only used after it.
 */
fn inclusiveScan(li: u32, value: u32) -> u32 {
  countA[li] = value;
  workgroupBarrier();
  var inA = true;
  for (var offset = 1u; offset < WG_X; offset <<= 1u) {
    let source = max(li, offset) - offset;
    if (inA) {
      countB[li] = countA[li] + select(0u, countA[source], li >= offset);
    } else {
      countA[li] = countB[li] + select(0u, countB[source], li >= offset);
    }
    inA = !inA;
    workgroupBarrier();
  }
  return select(countB[li], countA[li], inA);
}
