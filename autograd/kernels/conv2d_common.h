// Internal helpers shared by the conv2d kernel files: BLAS wrappers, per-thread scratch,
// geometry checks and the batch partition used for deterministic partial sums.
#pragma once
#include <cblas.h>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <vector>

#include "autograd/kernels/conv2d.h"
#include "autograd/parallel.h"

namespace agilenn::ag::kernels::detail {

// Row-major C = alpha * op(A) * op(B) + beta * C.
inline void gemm(bool trans_a, bool trans_b, int m, int n, int k, float alpha, const float* a,
                 int lda, const float* b, int ldb, float beta, float* c, int ldc) {
  cblas_sgemm(CblasRowMajor, trans_a ? CblasTrans : CblasNoTrans,
              trans_b ? CblasTrans : CblasNoTrans, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}
inline void gemm(bool trans_a, bool trans_b, int m, int n, int k, double alpha, const double* a,
                 int lda, const double* b, int ldb, double beta, double* c, int ldc) {
  cblas_dgemm(CblasRowMajor, trans_a ? CblasTrans : CblasNoTrans,
              trans_b ? CblasTrans : CblasNoTrans, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}

// parallel_for without the heap allocation std::function makes for a lambda with many captures:
// it wraps a reference to the lambda, which std::function stores in place.
template <typename F>
void parallel_for_ref(int64_t begin, int64_t end, int64_t grain, const F& body) {
  parallel_for(begin, end, grain, std::function<void(int64_t, int64_t)>(std::cref(body)));
}

// A per-thread buffer that only grows (no heap allocation once warm). `slot` separates buffers
// that are live at the same time in one thread.
template <typename T>
T* scratch(size_t count, int slot) {
  thread_local std::vector<T> buffers[4];
  std::vector<T>& b = buffers[slot];
  if (b.size() < count) b.resize(count);
  return b.data();
}

// Throws agilenn::Error naming the bad field.
void check_geometry(const Conv2dGeom& g);

// Number of batch parts for reductions over the batch: fixed by the thread count, so the
// summation order (and the result) is the same on every run with that thread count.
int batch_parts(int n);
inline int part_begin(int n, int parts, int p) {
  return static_cast<int>(int64_t(n) * p / parts);
}

// Whether the conv is a plain per-pixel matrix product y[NHW, OC] = x[NHW, C] * w[C, OC].
inline bool is_pointwise(const Conv2dGeom& g) {
  return g.kh == 1 && g.kw == 1 && g.stride_h == 1 && g.stride_w == 1 && g.pad_top == 0 &&
         g.pad_left == 0 && g.oh == g.h && g.ow == g.w && g.groups == 1;
}
inline bool is_depthwise(const Conv2dGeom& g) {
  return g.groups == g.c && g.groups > 1;
}

// Per-call inputs of the depthwise loops (conv2d_depthwise_impl.h).
template <typename T>
struct DepthwiseArgs {
  const Conv2dGeom* g;
  const T* wtile;      // flat path: (kh, kw, ow * c) weights tiled along ow, else null
  T* acc_tile;         // flat backward-weight: (kh, kw, ow * c) accumulator of this part, else null
  const int* ow_taps;  // (ow, 2): valid kernel columns [j0, j1) of output column ow
  const int* ow_of;    // (w, kw): output column whose tap j reads input column iw, or -1
  const int* oh_of;    // (h, kh): output row whose tap i reads input row ih, or -1
  const T* bias;       // forward: (oc) starting value of each output, or null for zero
};

// rows x oc block of y (row stride ldy) set to bias, or zero for a null bias: the starting
// value of a GEMM with beta = 1.
template <typename T>
inline void fill_bias_rows(T* y, int64_t rows, int oc, int64_t ldy, const T* bias) {
  for (int64_t r = 0; r < rows; ++r) {
    T* __restrict d = y + r * ldy;
    if (bias)
      for (int o = 0; o < oc; ++o) d[o] = bias[o];
    else
      for (int o = 0; o < oc; ++o) d[o] = T(0);
  }
}

// Kernel implementations (conv2d.cpp dispatches).
template <typename T>
void pointwise_forward(const Conv2dGeom& g, const T* x, const T* w, T* y, const T* bias);
template <typename T>
void pointwise_backward_input(const Conv2dGeom& g, const T* dy, const T* w, T* dx);
template <typename T>
void pointwise_backward_weight(const Conv2dGeom& g, const T* x, const T* dy, T* dw);
template <typename T>
void im2col_forward(const Conv2dGeom& g, const T* x, const T* w, T* y, const T* bias);
template <typename T>
void im2col_backward_input(const Conv2dGeom& g, const T* dy, const T* w, T* dx);
template <typename T>
void im2col_backward_weight(const Conv2dGeom& g, const T* x, const T* dy, T* dw);
template <typename T>
void depthwise_forward(const Conv2dGeom& g, const T* x, const T* w, T* y, const T* bias);
template <typename T>
void depthwise_backward_input(const Conv2dGeom& g, const T* dy, const T* w, T* dx);
template <typename T>
void depthwise_backward_weight(const Conv2dGeom& g, const T* x, const T* dy, T* dw);

}  // namespace agilenn::ag::kernels::detail
