// Score-based keep masks for magnitude and Wanda, without a score matrix.
#include "common.h"

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
static DEFINE_SELECT_KTH(f64, select_kth_f64)

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
