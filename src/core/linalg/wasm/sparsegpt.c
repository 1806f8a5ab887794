// SparseGPT's column sweep and its mask choices (obs scores, block threshold, N:M).
#include "common.h"

// ---- SparseGPT's column sweep (IST-DASLab/sparsegpt fasterprune) ---------------------------
// Rows are independent inside a block once the mask is chosen, so the sweep runs one row at a
// time with the row's block segment in L1: for column i of [from, to):
//   q = keep ? w : 0;  err = (w − q) / U_ii;  W[r, i+1:blockEnd] −= err · U[i, i+1:blockEnd]
// With quantization parameters q is then Q(q) (GPTQ). W[r, i] becomes q, the row's block loss
// gains (w − q)² / U_ii². Each W element sees the same float32 operations in the same order as
// the column-major reference (sparsegptUpdate.ref.ts).

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
 * GPTQ's quantizer (IST-DASLab/gptq quant.py `quantize`): scale · (clamp(round(x / scale) + zero,
 * 0, maxq) − zero), float32, rint = f32.nearest = round half to even as torch.round. The code
 * goes to *code.
 */
static inline f32 fake_quantize(f32 x, f32 scale, f32 zero, f32 maxq, unsigned char *code) {
  f32 c = __builtin_rintf(x / scale) + zero;
  c = c < 0.0f ? 0.0f : (c > maxq ? maxq : c);
  *code = (unsigned char)c;
  return scale * (c - zero);
}

/**
 * groupM > 0 (at most 64): N:M (keepN of groupM) chosen in the sweep at every column
 * i with (i − blockStart) % groupM == 0; 0: the mask in `keep` is used as it is.
 * qScale != 0: GPTQ (and SparseGPT's wbits path): the kept value q is quantized with the
 * parameters of its row and column group, qScale[r · qStride + qGroup[i]] (qZero likewise), so a
 * pruned weight stays 0 (zero lies in [0, maxq]); its code goes to qCodes (rows × cols).
 * qScale == 0: no quantization, as before.
 */
void EXPORT(sparsegpt_sweep)(int rows, int cols, f32 *w, const f32 *u, unsigned char *keep, f32 *err, int errStride,
                             int blockStart, int blockEnd, int from, int to, f32 *blockLoss, int keepN, int groupM,
                             const f32 *qScale, const f32 *qZero, int qStride, const int *qGroup, f32 maxq, unsigned char *qCodes) {
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
      if (qScale) q = fake_quantize(q, qScale[(long)r * qStride + qGroup[i]], qZero[(long)r * qStride + qGroup[i]], maxq, qCodes + (long)r * cols + i);
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
DEFINE_SELECT_KTH(f32, EXPORT(select_kth))

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
