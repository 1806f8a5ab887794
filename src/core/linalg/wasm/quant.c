// Weight quantization: RTN's codes with GPTQ's quantiser (IST-DASLab/gptq quant.py `quantize`).
#include "common.h"

/**
 * codes[r, c] = clamp(round(w[r, c] / scale) + zero, 0, maxq) with the (row, group) parameters
 * scale[r · groups + c / groupSize] (zero likewise): float32 division, f32x4.nearest = round half
 * to even as torch.round, exact integer add and clamp. Bit-identical to the scalar rule in
 * quant/rtn.ts `quantize`. Weights are finite (the caller checks).
 */
void EXPORT(quant_codes)(int rows, int cols, const f32 *w, int groupSize, int groups, const f32 *scale, const f32 *zero, f32 maxq,
                         unsigned char *codes) {
  v128_t lo = wasm_f32x4_splat(0.0f), hi = wasm_f32x4_splat(maxq);
  for (int r = 0; r < rows; r++) {
    for (int g = 0; g < groups; g++) {
      f32 s = scale[(long)r * groups + g], z = zero[(long)r * groups + g];
      v128_t sv = wasm_f32x4_splat(s), zv = wasm_f32x4_splat(z);
      int c = g * groupSize, end = c + groupSize < cols ? c + groupSize : cols;
      const f32 *wr = w + (long)r * cols;
      unsigned char *out = codes + (long)r * cols;
#define CODE4(k) wasm_i32x4_trunc_sat_f32x4(wasm_f32x4_min(wasm_f32x4_max(wasm_f32x4_add(wasm_f32x4_nearest(wasm_f32x4_div(wasm_v128_load(wr + c + (k)), sv)), zv), lo), hi))
      for (; c + 16 <= end; c += 16) {
        v128_t a = wasm_i16x8_narrow_i32x4(CODE4(0), CODE4(4)), b = wasm_i16x8_narrow_i32x4(CODE4(8), CODE4(12));
        wasm_v128_store(out + c, wasm_u8x16_narrow_i16x8(a, b));
      }
#undef CODE4
      for (; c < end; c++) {
        f32 q = __builtin_rintf(wr[c] / s) + z;
        out[c] = (unsigned char)(q < 0.0f ? 0.0f : (q > maxq ? maxq : q));
      }
    }
  }
}

/**
 * The quantiser's range of each (row, group) of g columns: lo = min(0, min w), hi = max(0, max w)
 * (find_params' xmin / xmax before the symmetric and all-zero rules), rows × groups each.
 * Returns 1 when a weight is NaN (which min/max skip; ±∞ shows in the range), else 0.
 */
int EXPORT(quant_range)(int rows, int cols, const f32 *w, int groupSize, int groups, f32 *lo, f32 *hi) {
  v128_t nan = wasm_i32x4_splat(0);
  int nanTail = 0;
  for (int r = 0; r < rows; r++) {
    const f32 *wr = w + (long)r * cols;
    for (int g = 0; g < groups; g++) {
      int c = g * groupSize, end = c + groupSize < cols ? c + groupSize : cols;
      v128_t mn = wasm_f32x4_splat(0.0f), mx = mn;
      for (; c + 4 <= end; c += 4) {
        v128_t x = wasm_v128_load(wr + c);
        mn = wasm_f32x4_pmin(x, mn);
        mx = wasm_f32x4_pmax(x, mx);
        nan = wasm_v128_or(nan, wasm_f32x4_ne(x, x));
      }
      f32 a = 0.0f, b = 0.0f;
      for (int k = 0; k < 4; k++) {
        f32 u = wasm_f32x4_extract_lane(mn, 0), v = wasm_f32x4_extract_lane(mx, 0);
        a = u < a ? u : a;
        b = v > b ? v : b;
        mn = wasm_i32x4_shuffle(mn, mn, 1, 2, 3, 0);
        mx = wasm_i32x4_shuffle(mx, mx, 1, 2, 3, 0);
      }
      for (; c < end; c++) {
        nanTail |= wr[c] != wr[c];
        a = wr[c] < a ? wr[c] : a;
        b = wr[c] > b ? wr[c] : b;
      }
      lo[(long)r * groups + g] = a;
      hi[(long)r * groups + g] = b;
    }
  }
  return nanTail || wasm_v128_any_true(nan);
}
