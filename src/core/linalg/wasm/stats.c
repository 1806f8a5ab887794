// Calibration statistics: the Gram matrix Σ x xᵀ in float64.
#include "common.h"

// ---- Calibration: Σ_t x_t x_tᵀ in float64 ----------------------------------------------------

/**
 * gram[a, b] += x0a·x0b + x1a·x1b + (x2a·x2b + x3a·x3b) for b ≥ a: the grouped order of
 * CpuStatsAccumulator (four tokens p, each a row of c float64 values), two b at a time.
 */
void EXPORT(gram_add4_f64)(int c, const f64 *p, f64 *gram) {
  const f64 *p1 = p + c, *p2 = p + 2 * c, *p3 = p + 3 * c;
  for (int a = 0; a < c; a++) {
    f64 x0 = p[a], x1 = p1[a], x2 = p2[a], x3 = p3[a];
    v128_t v0 = wasm_f64x2_splat(x0), v1 = wasm_f64x2_splat(x1), v2 = wasm_f64x2_splat(x2), v3 = wasm_f64x2_splat(x3);
    f64 *g = gram + (long)a * c;
    int b = a;
    if ((c - a) & 1) {
      g[b] += x0 * p[b] + x1 * p1[b] + (x2 * p2[b] + x3 * p3[b]);
      b++;
    }
    for (; b < c; b += 2) {
      v128_t s = wasm_f64x2_add(wasm_f64x2_add(wasm_f64x2_mul(v0, wasm_v128_load(p + b)), wasm_f64x2_mul(v1, wasm_v128_load(p1 + b))),
                                wasm_f64x2_add(wasm_f64x2_mul(v2, wasm_v128_load(p2 + b)), wasm_f64x2_mul(v3, wasm_v128_load(p3 + b))));
      wasm_v128_store(g + b, wasm_f64x2_add(wasm_v128_load(g + b), s));
    }
  }
}
