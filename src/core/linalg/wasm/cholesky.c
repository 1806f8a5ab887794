// Float64 Cholesky factorisation and triangular inverse (SparseGPT's and GPTQ's U).
#include "common.h"

// ---- float64 factorisations ------------------------------------------------------------------

/** Σ_k a[k] b[k] for k < len, two lanes, two accumulators. */
static inline f64 dot_f64(const f64 *a, const f64 *b, int len) {
  v128_t s0 = wasm_f64x2_splat(0.0), s1 = wasm_f64x2_splat(0.0);
  int k = 0;
  for (; k + 4 <= len; k += 4) {
    s0 = wasm_f64x2_add(s0, wasm_f64x2_mul(wasm_v128_load(a + k), wasm_v128_load(b + k)));
    s1 = wasm_f64x2_add(s1, wasm_f64x2_mul(wasm_v128_load(a + k + 2), wasm_v128_load(b + k + 2)));
  }
  s0 = wasm_f64x2_add(s0, s1);
  f64 sum = wasm_f64x2_extract_lane(s0, 0) + wasm_f64x2_extract_lane(s0, 1);
  for (; k < len; k++) sum += a[k] * b[k];
  return sum;
}

/** The four dot products of rows r0..r3 with b over k < len, sharing b's loads. */
static inline void dot4_f64(const f64 *r0, const f64 *r1, const f64 *r2, const f64 *r3, const f64 *b, int len, f64 out[4]) {
  v128_t s0 = wasm_f64x2_splat(0.0), s1 = s0, s2 = s0, s3 = s0;
  int k = 0;
  for (; k + 2 <= len; k += 2) {
    v128_t bk = wasm_v128_load(b + k);
    s0 = wasm_f64x2_add(s0, wasm_f64x2_mul(wasm_v128_load(r0 + k), bk));
    s1 = wasm_f64x2_add(s1, wasm_f64x2_mul(wasm_v128_load(r1 + k), bk));
    s2 = wasm_f64x2_add(s2, wasm_f64x2_mul(wasm_v128_load(r2 + k), bk));
    s3 = wasm_f64x2_add(s3, wasm_f64x2_mul(wasm_v128_load(r3 + k), bk));
  }
  out[0] = wasm_f64x2_extract_lane(s0, 0) + wasm_f64x2_extract_lane(s0, 1);
  out[1] = wasm_f64x2_extract_lane(s1, 0) + wasm_f64x2_extract_lane(s1, 1);
  out[2] = wasm_f64x2_extract_lane(s2, 0) + wasm_f64x2_extract_lane(s2, 1);
  out[3] = wasm_f64x2_extract_lane(s3, 0) + wasm_f64x2_extract_lane(s3, 1);
  for (; k < len; k++) {
    out[0] += r0[k] * b[k];
    out[1] += r1[k] * b[k];
    out[2] += r2[k] * b[k];
    out[3] += r3[k] * b[k];
  }
}

/** Row i's entries for columns [from, i] once rows < i are final; −1 or the failing pivot. */
static inline int cholesky_row_tail(int n, f64 *a, int i, int from) {
  f64 *ai = a + (long)i * n;
  for (int j = from; j <= i; j++) {
    const f64 *aj = a + (long)j * n;
    f64 v = ai[j] - dot_f64(ai, aj, j);
    if (j == i) {
      if (!(v > 0.0)) {
        ai[j] = v;
        return i;
      }
      ai[i] = __builtin_sqrt(v);
    } else {
      ai[j] = v / aj[j];
    }
  }
  return -1;
}

/**
 * In place: the lower Cholesky factor of the symmetric positive-definite a (n × n, row-major,
 * lower triangle read), upper triangle zeroed. Row-oriented (Cholesky–Banachiewicz), four rows at
 * a time: an entry L[i, j] is a dot product of the row prefixes i and j, and the four rows share
 * every load of row j, a quarter of the memory traffic of one row at a time. Returns −1, or the
 * index of the first pivot that is not > 0 (its value left in a[j, j]).
 */
int EXPORT(cholesky_lower_f64)(int n, f64 *a) {
  int i = 0;
  for (; i + 4 <= n; i += 4) {
    f64 *r0 = a + (long)i * n, *r1 = r0 + n, *r2 = r1 + n, *r3 = r2 + n;
    f64 s[4];
    for (int j = 0; j < i; j++) {
      const f64 *aj = a + (long)j * n;
      dot4_f64(r0, r1, r2, r3, aj, j, s);
      f64 d = aj[j];
      r0[j] = (r0[j] - s[0]) / d;
      r1[j] = (r1[j] - s[1]) / d;
      r2[j] = (r2[j] - s[2]) / d;
      r3[j] = (r3[j] - s[3]) / d;
    }
    for (int r = 0; r < 4; r++) {
      int failed = cholesky_row_tail(n, a, i + r, i);
      if (failed >= 0) return failed;
    }
  }
  for (; i < n; i++) {
    int failed = cholesky_row_tail(n, a, i, 0);
    if (failed >= 0) return failed;
  }
  for (int r = 0; r < n; r++)
    for (int j = r + 1; j < n; j++) a[(long)r * n + j] = 0.0;
  return -1;
}

/** xi[0..len) −= c · xk[0..len). */
static inline void axpy_sub_f64(f64 *xi, const f64 *xk, f64 c, int len) {
  v128_t cv = wasm_f64x2_splat(c);
  int j = 0;
  for (; j + 2 <= len; j += 2) wasm_v128_store(xi + j, wasm_f64x2_sub(wasm_v128_load(xi + j), wasm_f64x2_mul(cv, wasm_v128_load(xk + j))));
  for (; j < len; j++) xi[j] -= c * xk[j];
}

/**
 * x = l⁻¹ for a lower-triangular l (n × n): row i of L X = I gives
 * X[i, :] = (e_i − Σ_{k<i} L[i, k] X[k, :]) / L[i, i], axpys over contiguous rows. Four rows at
 * a time share each row k they read; then the four finish among themselves in order.
 */
void EXPORT(lower_inverse_f64)(int n, const f64 *l, f64 *x) {
  for (long p = 0; p < (long)n * n; p++) x[p] = 0.0;
  int i = 0;
  for (; i < n; i += 4) {
    int rows = n - i < 4 ? n - i : 4;
    for (int r = 0; r < rows; r++) x[(long)(i + r) * n + i + r] = 1.0;
    for (int k = 0; k < i; k++) {
      const f64 *xk = x + (long)k * n;
      v128_t c[4];
      for (int r = 0; r < rows; r++) c[r] = wasm_f64x2_splat(l[(long)(i + r) * n + k]);
      int len = k + 1, j = 0;
      if (rows == 4) {
        f64 *x0 = x + (long)i * n, *x1 = x0 + n, *x2 = x1 + n, *x3 = x2 + n;
        for (; j + 2 <= len; j += 2) {
          v128_t v = wasm_v128_load(xk + j);
          wasm_v128_store(x0 + j, wasm_f64x2_sub(wasm_v128_load(x0 + j), wasm_f64x2_mul(c[0], v)));
          wasm_v128_store(x1 + j, wasm_f64x2_sub(wasm_v128_load(x1 + j), wasm_f64x2_mul(c[1], v)));
          wasm_v128_store(x2 + j, wasm_f64x2_sub(wasm_v128_load(x2 + j), wasm_f64x2_mul(c[2], v)));
          wasm_v128_store(x3 + j, wasm_f64x2_sub(wasm_v128_load(x3 + j), wasm_f64x2_mul(c[3], v)));
        }
      }
      for (int r = 0; r < rows; r++) {
        f64 *xr = x + (long)(i + r) * n;
        f64 cr = l[(long)(i + r) * n + k];
        for (int jj = j; jj < len; jj++) xr[jj] -= cr * xk[jj];
      }
    }
    for (int r = 0; r < rows; r++) {
      f64 *xr = x + (long)(i + r) * n;
      const f64 *lr = l + (long)(i + r) * n;
      for (int k = i; k < i + r; k++) axpy_sub_f64(xr, x + (long)k * n, lr[k], k + 1);
      f64 d = lr[i + r];
      for (int j = 0; j <= i + r; j++) xr[j] /= d;
    }
  }
}
