// Shared by the op files: dtype dispatch, argument checks and the broadcasting loop.
#pragma once
#include <string>

#include <algorithm>

#include "autograd/graph.h"
#include "autograd/ops.h"
#include "autograd/parallel.h"
#include "nn/io/error.h"

namespace agilenn::ag::detail {

// Runs BODY with T bound to float or double according to `dtype`; int32 is rejected.
#define AG_DISPATCH_FLOAT(dtype, opname, ...)                                                \
  do {                                                                                       \
    switch (dtype) {                                                                         \
      case ::agilenn::ag::DType::F32: {                                                      \
        using T = float;                                                                     \
        __VA_ARGS__;                                                                         \
        break;                                                                               \
      }                                                                                      \
      case ::agilenn::ag::DType::F64: {                                                      \
        using T = double;                                                                    \
        __VA_ARGS__;                                                                         \
        break;                                                                               \
      }                                                                                      \
      default:                                                                               \
        throw ::agilenn::Error(std::string(opname) + ": needs a float32 or float64 tensor"); \
    }                                                                                        \
  } while (0)

inline void check_defined(const Tensor& t, const char* op) {
  if (!t.defined()) throw Error(std::string(op) + ": undefined tensor argument");
}
inline void check_float(const Tensor& t, const char* op) {
  check_defined(t, op);
  if (!t.is_floating()) throw Error(std::string(op) + ": needs a float tensor, got int32");
}
inline void check_same_dtype(const Tensor& a, const Tensor& b, const char* op) {
  check_float(a, op);
  check_float(b, op);
  if (a.dtype() != b.dtype())
    throw Error(std::string(op) + ": dtype mismatch " + dtype_name(a.dtype()) + " vs " +
                dtype_name(b.dtype()));
}

// Broadcast iteration plan: dims collapsed where both operands are contiguous or both broadcast.
struct BroadcastPlan {
  int ndim = 0;
  int64_t size[Shape::kMaxDims];
  int64_t sa[Shape::kMaxDims];
  int64_t sb[Shape::kMaxDims];
  int64_t numel = 1;
};
BroadcastPlan make_broadcast_plan(const Shape& a, const Shape& b, const Shape& out);

// Elementwise loops split over the thread pool above this many outputs (below it, the hand-off
// costs more than it saves).
constexpr int64_t kParallelElements = 1 << 15;

// out[i] = f(a[ia], b[ib]) over outer rows [o0, o1) of the plan (the last dim is the inner loop).
template <typename T, typename F>
void broadcast_rows(const BroadcastPlan& p, const T* a, const T* b, T* out, F f, int64_t o0,
                    int64_t o1) {
  const int last = p.ndim - 1;
  const int64_t n_in = p.size[last], sa = p.sa[last], sb = p.sb[last];
  int64_t idx[Shape::kMaxDims] = {};
  int64_t oa = 0, ob = 0;
  for (int64_t rem = o0, d = last - 1; d >= 0; --d) {  // the counter at row o0
    idx[d] = rem % p.size[d];
    rem /= p.size[d];
    oa += idx[d] * p.sa[d];
    ob += idx[d] * p.sb[d];
  }
  for (int64_t o = o0; o < o1; ++o) {
    T* dst = out + o * n_in;
    const T* pa = a + oa;
    const T* pb = b + ob;
    if (sa == 1 && sb == 1)
      for (int64_t i = 0; i < n_in; ++i) dst[i] = f(pa[i], pb[i]);
    else if (sa == 1 && sb == 0) {
      const T vb = pb[0];
      for (int64_t i = 0; i < n_in; ++i) dst[i] = f(pa[i], vb);
    } else if (sa == 0 && sb == 1) {
      const T va = pa[0];
      for (int64_t i = 0; i < n_in; ++i) dst[i] = f(va, pb[i]);
    } else {
      const T va = pa[0], vb = pb[0];
      for (int64_t i = 0; i < n_in; ++i) dst[i] = f(va, vb);
    }
    for (int d = last - 1; d >= 0; --d) {  // advance the outer counter
      oa += p.sa[d];
      ob += p.sb[d];
      if (++idx[d] < p.size[d]) break;
      oa -= p.sa[d] * p.size[d];
      ob -= p.sb[d] * p.size[d];
      idx[d] = 0;
    }
  }
}

template <typename T, typename F>
void broadcast_loop(const BroadcastPlan& p, const T* a, const T* b, T* out, F f) {
  if (p.ndim == 0) {
    out[0] = f(a[0], b[0]);
    return;
  }
  const int64_t n_in = p.size[p.ndim - 1];
  if (n_in == 0) return;
  const int64_t outer = p.numel / n_in;
  if (p.numel < kParallelElements || outer < 2) {
    broadcast_rows(p, a, b, out, f, 0, outer);
    return;
  }
  const int64_t grain = std::max<int64_t>(1, kParallelElements / 2 / n_in);
  parallel_for(0, outer, grain,
               [&](int64_t o0, int64_t o1) { broadcast_rows(p, a, b, out, f, o0, o1); });
}

template <typename T, typename F>
void unary_loop(int64_t n, const T* a, T* out, F f) {
  if (n < kParallelElements) {
    for (int64_t i = 0; i < n; ++i) out[i] = f(a[i]);
    return;
  }
  parallel_for(0, n, kParallelElements / 2, [&](int64_t i0, int64_t i1) {
    for (int64_t i = i0; i < i1; ++i) out[i] = f(a[i]);
  });
}

}  // namespace agilenn::ag::detail
