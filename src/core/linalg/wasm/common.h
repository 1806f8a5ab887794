#pragma once
// Shared by the kernels of the lab's CPU linear algebra, WebAssembly SIMD (wasm32 + simd128),
// one thread; each .c file of this folder holds one family of kernels, linked into one module.
// Built by scripts/wasm/build.mjs (`npm run build:wasm`) with Debian's clang-14 + wasm-ld; the
// bytes ship base64-encoded in kernels.wasm.ts. The TypeScript side (../wasmKernels.ts) owns the
// memory layout: every pointer argument is a byte offset into the module's exported memory.
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

#define EXPORT(name) __attribute__((export_name(#name))) name

/**
 * The k-th smallest (0-based) of a[0..n) of type T, reordering a: Hoare selection with a
 * median-of-three pivot. One body for the float32 (exported) and float64 (masks.c) selections.
 */
#define DEFINE_SELECT_KTH(T, DECL)                                                       \
  T DECL(T *a, int n, int k) {                                                           \
    int lo = 0, hi = n - 1;                                                              \
    while (hi > lo) {                                                                    \
      int mid = lo + (hi - lo) / 2;                                                      \
      T x = a[lo], y = a[mid], z = a[hi];                                                \
      T pivot = x < y ? (y < z ? y : (x < z ? z : x)) : (x < z ? x : (y < z ? z : y));   \
      int i = lo, j = hi;                                                                \
      while (i <= j) {                                                                   \
        while (a[i] < pivot) i++;                                                        \
        while (a[j] > pivot) j--;                                                        \
        if (i <= j) {                                                                    \
          T t = a[i];                                                                    \
          a[i] = a[j];                                                                   \
          a[j] = t;                                                                      \
          i++;                                                                           \
          j--;                                                                           \
        }                                                                                \
      }                                                                                  \
      if (k <= j) hi = j;                                                                \
      else if (k >= i) lo = i;                                                           \
      else return a[k];                                                                  \
    }                                                                                    \
    return a[k];                                                                         \
  }
