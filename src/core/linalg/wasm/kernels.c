// The lab's CPU linear algebra as WebAssembly SIMD (wasm32 + simd128), one thread.
// Built by scripts/build-wasm.mjs (`npm run build:wasm`) with Debian's clang-14 + wasm-ld; the
// bytes ship base64-encoded in ../kernelsWasm.ts. The TypeScript side (../wasmKernels.ts) owns
// the memory layout: every pointer below is a byte offset into the module's exported memory.
//
// Arithmetic rules (docs/cpu-linalg.md):
// - No fused multiply-add anywhere (plain simd128 has none; relaxed-simd's is not deterministic
//   across machines), so every product and every sum is rounded as in JS with Math.fround, and
//   results do not depend on the machine.
// - Vectors run along the output's columns, never along a sum, so each output element is summed
//   in ascending k order from +0, as the plain reference loops (*.ref.ts) do: the float32 kernels
//   are bit-identical to them.
// - No NaN/Inf special cases: IEEE rules apply. The callers reject non-finite input first.
#include <wasm_simd128.h>

typedef float f32;
typedef double f64;

// clang may turn loops into calls to these; there is no libc.
void *memset(void *dst, int value, unsigned long n) {
  unsigned char *d = dst;
  while (n--) *d++ = (unsigned char)value;
  return dst;
}
void *memcpy(void *dst, const void *src, unsigned long n) {
  unsigned char *d = dst;
  const unsigned char *s = src;
  while (n--) *d++ = *s++;
  return dst;
}

#define EXPORT(name) __attribute__((export_name(#name))) name

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

// ---- SparseGPT's column sweep (IST-DASLab/sparsegpt fasterprune) ---------------------------
// Rows are independent inside a block once the mask is chosen, so the sweep runs one row at a
// time with the row's block segment in L1: for column i of [from, to):
//   q = keep ? w : 0;  err = (w − q) / U_ii;  W[r, i+1:blockEnd] −= err · U[i, i+1:blockEnd]
// W[r, i] becomes q, the row's block loss gains (w − q)² / U_ii². Each W element sees the same
// float32 operations in the same order as the column-major reference (sparsegptUpdate.ref.ts).

/**
 * N:M chosen inside the sweep, one row at a time: at a group's first column, prune the m − n
 * lowest OBS scores (w² / U_jj²) of the row's current weights in the group, lower index first
 * among equals — what obs_scores + keep_nm choose for all rows at that point of the sweep.
 */
static inline void choose_nm_row(const f32 *wr, const f32 *u, int cols, unsigned char *kr, int c0, int n, int m) {
  f32 s[64];
  for (int i = 0; i < m; i++) {
    f32 d = u[(long)(c0 + i) * cols + c0 + i];
    s[i] = (wr[c0 + i] * wr[c0 + i]) / (d * d);
  }
  for (int i = 0; i < m; i++) {
    int rank = 0;
    for (int j = 0; j < m; j++) rank += s[j] < s[i] || (s[j] == s[i] && j < i);
    kr[c0 + i] = rank >= m - n;
  }
}

/**
 * groupM > 0 (at most 64): N:M (keepN of groupM) chosen in the sweep at every column
 * i with (i − blockStart) % groupM == 0; 0: the mask in `keep` is used as it is.
 */
void EXPORT(sparsegpt_sweep)(int rows, int cols, f32 *w, const f32 *u, unsigned char *keep, f32 *err, int errStride,
                             int blockStart, int blockEnd, int from, int to, f32 *blockLoss, int keepN, int groupM) {
  for (int r = 0; r < rows; r++) {
    f32 *wr = w + (long)r * cols;
    unsigned char *kr = keep + (long)r * cols;
    f32 *er = err + (long)r * errStride;
    f32 loss = blockLoss[r];
    for (int i = from; i < to; i++) {
      if (groupM > 0 && (i - blockStart) % groupM == 0) choose_nm_row(wr, u, cols, kr, i, keepN, groupM);
      f32 d = u[(long)i * cols + i];
      f32 wi = wr[i];
      f32 q = kr[i] ? wi : 0.0f;
      f32 diff = wi - q;
      loss += (diff * diff) / (d * d);
      f32 e = diff / d;
      er[i - blockStart] = e;
      wr[i] = q;
      if (e == 0.0f) continue; // W − e·U would turn −0 into +0; the reference skips it too
      const f32 *ui = u + (long)i * cols;
      v128_t ev = wasm_f32x4_splat(e);
      int j = i + 1;
      for (; j + 4 <= blockEnd; j += 4)
        wasm_v128_store(wr + j, wasm_f32x4_sub(wasm_v128_load(wr + j), wasm_f32x4_mul(ev, wasm_v128_load(ui + j))));
      for (; j < blockEnd; j++) wr[j] -= e * ui[j];
    }
    blockLoss[r] = loss;
  }
}

/** OBS saliency W² / U_jj² of columns [c0, c0 + width) into scores (rows × width), float32. */
void EXPORT(obs_scores)(int rows, int cols, const f32 *w, const f32 *u, int c0, int width, f32 *scores) {
  for (int r = 0; r < rows; r++)
    for (int i = 0; i < width; i++) {
      f32 d = u[(long)(c0 + i) * cols + c0 + i];
      f32 x = w[(long)r * cols + c0 + i];
      scores[(long)r * width + i] = (x * x) / (d * d);
    }
}

/** The k-th smallest of a[0..n) (0-based), reordering a: Hoare selection, median-of-three pivot. */
f32 EXPORT(select_kth)(f32 *a, int n, int k) {
  int lo = 0, hi = n - 1;
  while (hi > lo) {
    int mid = lo + (hi - lo) / 2;
    f32 x = a[lo], y = a[mid], z = a[hi];
    f32 pivot = x < y ? (y < z ? y : (x < z ? z : x)) : (x < z ? x : (y < z ? z : y));
    int i = lo, j = hi;
    while (i <= j) {
      while (a[i] < pivot) i++;
      while (a[j] > pivot) j--;
      if (i <= j) {
        f32 t = a[i];
        a[i] = a[j];
        a[j] = t;
        i++;
        j--;
      }
    }
    if (k <= j) hi = j;
    else if (k >= i) lo = i;
    else return a[k];
  }
  return a[k];
}

/**
 * N:M inside the sweep: per row, in each group of m columns of [c0, c0 + width), prune the
 * m − n lowest scores, lower index first among ties (a stable ascending order, as keepNM).
 * scores is (rows × width); keep is (rows × cols) at column c0.
 */
void EXPORT(keep_nm)(int rows, int cols, const f32 *scores, int width, int n, int m, unsigned char *keep, int c0) {
  for (int r = 0; r < rows; r++)
    for (int g = 0; g < width; g += m) {
      const f32 *s = scores + (long)r * width + g;
      for (int i = 0; i < m; i++) {
        int rank = 0;
        for (int j = 0; j < m; j++) rank += s[j] < s[i] || (s[j] == s[i] && j < i);
        keep[(long)r * cols + c0 + g + i] = rank >= m - n;
      }
    }
}

/** Unstructured block mask: keep = score > threshold (the reference prunes score <= thresh). */
void EXPORT(keep_above)(int rows, int cols, const f32 *scores, int width, f32 threshold, unsigned char *keep, int c0) {
  for (int r = 0; r < rows; r++)
    for (int i = 0; i < width; i++) keep[(long)r * cols + c0 + i] = scores[(long)r * width + i] > threshold;
}

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

// ---- Score-based N:M masks (magnitude, Wanda) ----------------------------------------------

/**
 * keep (rows × cols): in every group of m ≤ 64 consecutive columns of a row, keep the n highest
 * scores |w_ij| · scale_j (float64, the product rounded once), pruning the lowest first and the
 * lower column first among equals — keepNM's rule. scale = 1 gives magnitude, sqrt(‖X_j‖²) Wanda.
 */
void EXPORT(keep_nm_scaled)(int rows, int cols, const f32 *w, const f64 *scale, int n, int m, unsigned char *keep) {
  f64 s[64];
  for (int r = 0; r < rows; r++) {
    const f32 *wr = w + (long)r * cols;
    unsigned char *kr = keep + (long)r * cols;
    for (int g = 0; g < cols; g += m) {
      for (int i = 0; i < m; i++) s[i] = __builtin_fabs((f64)wr[g + i]) * scale[g + i];
      for (int i = 0; i < m; i++) {
        int rank = 0;
        for (int j = 0; j < i; j++) rank += s[j] <= s[i];
        for (int j = i + 1; j < m; j++) rank += s[j] < s[i];
        kr[g + i] = rank >= m - n;
      }
    }
  }
}

/** The k-th smallest (0-based) of a[0..n) in float64, reordering a (as select_kth). */
static f64 select_kth_f64(f64 *a, int n, int k) {
  int lo = 0, hi = n - 1;
  while (hi > lo) {
    int mid = lo + (hi - lo) / 2;
    f64 x = a[lo], y = a[mid], z = a[hi];
    f64 pivot = x < y ? (y < z ? y : (x < z ? z : x)) : (x < z ? x : (y < z ? z : y));
    int i = lo, j = hi;
    while (i <= j) {
      while (a[i] < pivot) i++;
      while (a[j] > pivot) j--;
      if (i <= j) {
        f64 t = a[i];
        a[i] = a[j];
        a[j] = t;
        i++;
        j--;
      }
    }
    if (k <= j) hi = j;
    else if (k >= i) lo = i;
    else return a[k];
  }
  return a[k];
}

/**
 * Per row, prune the `count` lowest scores |w_ij| · scale_j (float64), lower column first among
 * equals — keepPerRow's rule (a stable ascending sort's first `count`), found by selecting the
 * count-th score. scratch holds 2·cols float64.
 */
void EXPORT(keep_rows_scaled)(int rows, int cols, const f32 *w, const f64 *scale, int count, unsigned char *keep, f64 *scratch) {
  f64 *s = scratch, *t = scratch + cols;
  for (int r = 0; r < rows; r++) {
    const f32 *wr = w + (long)r * cols;
    unsigned char *kr = keep + (long)r * cols;
    for (int j = 0; j < cols; j++) {
      s[j] = __builtin_fabs((f64)wr[j]) * scale[j];
      t[j] = s[j];
      kr[j] = 1;
    }
    if (count <= 0) continue;
    f64 threshold = select_kth_f64(t, cols, count - 1);
    int below = 0;
    for (int j = 0; j < cols; j++) below += s[j] < threshold;
    int ties = count - below;
    for (int j = 0; j < cols; j++) {
      if (s[j] < threshold) kr[j] = 0;
      else if (s[j] == threshold && ties > 0) {
        kr[j] = 0;
        ties--;
      }
    }
  }
}
