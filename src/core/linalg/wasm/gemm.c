// Float32 GEMM kernels: the SparseGPT lazy update and the reconstruction-error trace.
#include "common.h"

// ---- float32 GEMM: C[i, j] -= Σ_k A[i, k] B[k, j], the sum taken first (k ascending) --------
// Register tile: 4 rows × 16 columns (16 accumulators of 4 lanes); B's 16-column panel stays in
// L1 while the rows stream past. `kEnd(j0)` lets a triangular B skip its zero rows.

static inline void tile4x16(int rows, int k0, int k1, const f32 *a, int lda, const f32 *b, int ldb, v128_t acc[4][4]) {
  for (int r = 0; r < 4; r++)
    for (int v = 0; v < 4; v++) acc[r][v] = wasm_f32x4_splat(0.0f);
  for (int k = k0; k < k1; k++) {
    const f32 *bk = b + (long)k * ldb;
    v128_t b0 = wasm_v128_load(bk), b1 = wasm_v128_load(bk + 4), b2 = wasm_v128_load(bk + 8), b3 = wasm_v128_load(bk + 12);
    for (int r = 0; r < rows; r++) {
      v128_t ar = wasm_f32x4_splat(a[(long)r * lda + k]);
      acc[r][0] = wasm_f32x4_add(acc[r][0], wasm_f32x4_mul(ar, b0));
      acc[r][1] = wasm_f32x4_add(acc[r][1], wasm_f32x4_mul(ar, b1));
      acc[r][2] = wasm_f32x4_add(acc[r][2], wasm_f32x4_mul(ar, b2));
      acc[r][3] = wasm_f32x4_add(acc[r][3], wasm_f32x4_mul(ar, b3));
    }
  }
}

static inline void tile4x16_full(int k0, int k1, const f32 *a, int lda, const f32 *b, int ldb, v128_t acc[4][4]) {
  for (int r = 0; r < 4; r++)
    for (int v = 0; v < 4; v++) acc[r][v] = wasm_f32x4_splat(0.0f);
  const f32 *a0 = a, *a1 = a + lda, *a2 = a + 2 * (long)lda, *a3 = a + 3 * (long)lda;
  for (int k = k0; k < k1; k++) {
    const f32 *bk = b + (long)k * ldb;
    v128_t b0 = wasm_v128_load(bk), b1 = wasm_v128_load(bk + 4), b2 = wasm_v128_load(bk + 8), b3 = wasm_v128_load(bk + 12);
    v128_t x;
#define ROW(r, ar)                                                   \
  x = wasm_f32x4_splat(ar[k]);                                       \
  acc[r][0] = wasm_f32x4_add(acc[r][0], wasm_f32x4_mul(x, b0));      \
  acc[r][1] = wasm_f32x4_add(acc[r][1], wasm_f32x4_mul(x, b1));      \
  acc[r][2] = wasm_f32x4_add(acc[r][2], wasm_f32x4_mul(x, b2));      \
  acc[r][3] = wasm_f32x4_add(acc[r][3], wasm_f32x4_mul(x, b3));
    ROW(0, a0) ROW(1, a1) ROW(2, a2) ROW(3, a3)
#undef ROW
  }
}

/** Scalar column j of rows [i0, i0 + rows): the edge where fewer than 16 columns remain. */
static inline f32 dot_column(const f32 *a, int k0, int k1, const f32 *b, int ldb) {
  f32 sum = 0.0f;
  for (int k = k0; k < k1; k++) sum += a[k] * b[(long)k * ldb];
  return sum;
}

#ifndef ROW_BLOCK
#define ROW_BLOCK 32
#endif

/**
 * C (m × n, ldc) −= A (m × k, lda) · B (k × n, ldb). Rows in blocks of ROW_BLOCK, so that the
 * block's A stays in L2 while every 16-column panel of B passes it (a 3072-row A would otherwise
 * stream from memory once per panel).
 */
void EXPORT(sgemm_sub)(int m, int n, int kk, const f32 *a, int lda, const f32 *b, int ldb, f32 *c, int ldc) {
  int n16 = n - n % 16;
  v128_t acc[4][4];
  for (int ib = 0; ib < m; ib += ROW_BLOCK) {
    int iEnd = ib + ROW_BLOCK < m ? ib + ROW_BLOCK : m;
    for (int j0 = 0; j0 < n16; j0 += 16) {
      for (int i0 = ib; i0 < iEnd; i0 += 4) {
        int rows = iEnd - i0 < 4 ? iEnd - i0 : 4;
        const f32 *ai = a + (long)i0 * lda;
        if (rows == 4) tile4x16_full(0, kk, ai, lda, b + j0, ldb, acc);
        else tile4x16(rows, 0, kk, ai, lda, b + j0, ldb, acc);
        for (int r = 0; r < rows; r++) {
          f32 *cr = c + (long)(i0 + r) * ldc + j0;
          for (int v = 0; v < 4; v++) wasm_v128_store(cr + 4 * v, wasm_f32x4_sub(wasm_v128_load(cr + 4 * v), acc[r][v]));
        }
      }
    }
  }
  for (int j = n16; j < n; j++)
    for (int i = 0; i < m; i++) c[(long)i * ldc + j] -= dot_column(a + (long)i * lda, 0, kk, b + j, ldb);
}

/**
 * Σ_i Σ_j A[i, j] · (A B)[i, j] = tr(A B Aᵀ) for A (m × n) and an upper-triangular B (n × n):
 * column j of A B needs only k ≤ j, so a 16-column tile stops at k = j0 + 16 (half the work of
 * a full product). The products are float32 (summed over k in order); each row's total is
 * float64.
 */
f64 EXPORT(sgemm_trace_upper)(int m, int n, const f32 *a, int lda, const f32 *b, int ldb) {
  int n16 = n - n % 16;
  f64 total = 0.0;
  v128_t acc[4][4];
  for (int ib = 0; ib < m; ib += ROW_BLOCK) {
   int iEnd = ib + ROW_BLOCK < m ? ib + ROW_BLOCK : m;
   for (int j0 = 0; j0 < n16; j0 += 16) {
    int kEnd = j0 + 16;
    for (int i0 = ib; i0 < iEnd; i0 += 4) {
      int rows = iEnd - i0 < 4 ? iEnd - i0 : 4;
      const f32 *ai = a + (long)i0 * lda;
      if (rows == 4) tile4x16_full(0, kEnd, ai, lda, b + j0, ldb, acc);
      else tile4x16(rows, 0, kEnd, ai, lda, b + j0, ldb, acc);
      for (int r = 0; r < rows; r++) {
        const f32 *ar = ai + (long)r * lda + j0;
        v128_t s = wasm_f64x2_splat(0.0);
        for (int v = 0; v < 4; v++) {
          v128_t p = wasm_f32x4_mul(acc[r][v], wasm_v128_load(ar + 4 * v));
          s = wasm_f64x2_add(s, wasm_f64x2_promote_low_f32x4(p));
          s = wasm_f64x2_add(s, wasm_f64x2_promote_low_f32x4(wasm_i32x4_shuffle(p, p, 2, 3, 0, 1)));
        }
        total += wasm_f64x2_extract_lane(s, 0) + wasm_f64x2_extract_lane(s, 1);
      }
    }
   }
  }
  for (int j = n16; j < n; j++)
    for (int i = 0; i < m; i++) {
      const f32 *ai = a + (long)i * lda;
      total += (f64)(ai[j] * dot_column(ai, 0, j + 1, b + j, ldb));
    }
  return total;
}
