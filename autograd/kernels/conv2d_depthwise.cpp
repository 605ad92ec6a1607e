// Depthwise conv2d (groups == c, channel multiplier m = oc / c >= 1): direct NHWC loops whose
// innermost loop runs over channels, so the compiler vectorises it. Output channel o reads
// input channel o / m (weights HWIO = (kh, kw, 1, oc)).
#include <algorithm>
#include <cstring>

#include "autograd/kernels/conv2d_common.h"
#include "autograd/parallel.h"

namespace agilenn::ag::kernels::detail {
namespace {

// acc(oc) += x(c) * w(oc) with o reading channel o / m.
template <typename T>
inline void madd_expand(int c, int m, const T* __restrict x, const T* __restrict w,
                        T* __restrict acc) {
  if (m == 1) {
    for (int o = 0; o < c; ++o) acc[o] += x[o] * w[o];
  } else {
    for (int i = 0; i < c; ++i)
      for (int j = 0; j < m; ++j) acc[i * m + j] += x[i] * w[i * m + j];
  }
}

// dx(c) += sum_j dy(c*m + j) * w(c*m + j)
template <typename T>
inline void madd_reduce(int c, int m, const T* __restrict dy, const T* __restrict w,
                        T* __restrict dx) {
  if (m == 1) {
    for (int o = 0; o < c; ++o) dx[o] += dy[o] * w[o];
  } else {
    for (int i = 0; i < c; ++i) {
      T s = 0;
      for (int j = 0; j < m; ++j) s += dy[i * m + j] * w[i * m + j];
      dx[i] += s;
    }
  }
}

// Valid kernel taps [lo, hi) along one axis for output position o.
inline void tap_range(int o, int stride, int pad, int dil, int k, int size, int& lo, int& hi) {
  const int start = o * stride - pad;  // input position of tap 0
  lo = start >= 0 ? 0 : (-start + dil - 1) / dil;
  hi = start + (k - 1) * dil < size ? k : (size - 1 - start) / dil + 1;
  if (start > size - 1) hi = 0;
  hi = std::min(hi, k);
  lo = std::min(lo, hi);
}

}  // namespace

// y(n, oh, ow, oc) = sum over taps of x(n, ih, iw, oc / m) * w(kh, kw, oc)
template <typename T>
void depthwise_forward(const Conv2dGeom& g, const T* x, const T* w, T* y) {
  const int m = g.oc / g.c;
  parallel_for(0, g.n, 1, [&](int64_t n0, int64_t n1) {
    for (int64_t n = n0; n < n1; ++n) {
      const T* xn = x + size_t(n) * g.h * g.w * g.c;
      T* yn = y + size_t(n) * g.oh * g.ow * g.oc;
      for (int oh = 0; oh < g.oh; ++oh) {
        int i0, i1;
        tap_range(oh, g.stride_h, g.pad_top, g.dil_h, g.kh, g.h, i0, i1);
        for (int ow = 0; ow < g.ow; ++ow) {
          int j0, j1;
          tap_range(ow, g.stride_w, g.pad_left, g.dil_w, g.kw, g.w, j0, j1);
          T* acc = yn + (size_t(oh) * g.ow + ow) * g.oc;
          std::fill(acc, acc + g.oc, T(0));
          for (int i = i0; i < i1; ++i) {
            const int ih = oh * g.stride_h - g.pad_top + i * g.dil_h;
            for (int j = j0; j < j1; ++j) {
              const int iw = ow * g.stride_w - g.pad_left + j * g.dil_w;
              madd_expand(g.c, m, xn + (size_t(ih) * g.w + iw) * g.c,
                          w + size_t(i * g.kw + j) * g.oc, acc);
            }
          }
        }
      }
    }
  });
}

// dx(n, ih, iw, c) = sum over output pixels and taps reading it of dy * w
template <typename T>
void depthwise_backward_input(const Conv2dGeom& g, const T* dy, const T* w, T* dx) {
  const int m = g.oc / g.c;
  parallel_for(0, g.n, 1, [&](int64_t n0, int64_t n1) {
    for (int64_t n = n0; n < n1; ++n) {
      T* dxn = dx + size_t(n) * g.h * g.w * g.c;
      const T* dyn = dy + size_t(n) * g.oh * g.ow * g.oc;
      std::memset(dxn, 0, sizeof(T) * g.h * g.w * g.c);
      for (int oh = 0; oh < g.oh; ++oh) {
        int i0, i1;
        tap_range(oh, g.stride_h, g.pad_top, g.dil_h, g.kh, g.h, i0, i1);
        for (int ow = 0; ow < g.ow; ++ow) {
          int j0, j1;
          tap_range(ow, g.stride_w, g.pad_left, g.dil_w, g.kw, g.w, j0, j1);
          const T* d = dyn + (size_t(oh) * g.ow + ow) * g.oc;
          for (int i = i0; i < i1; ++i) {
            const int ih = oh * g.stride_h - g.pad_top + i * g.dil_h;
            for (int j = j0; j < j1; ++j) {
              const int iw = ow * g.stride_w - g.pad_left + j * g.dil_w;
              madd_reduce(g.c, m, d, w + size_t(i * g.kw + j) * g.oc,
                          dxn + (size_t(ih) * g.w + iw) * g.c);
            }
          }
        }
      }
    }
  });
}

// dw(kh, kw, oc) = sum over n, oh, ow of x(n, ih, iw, oc / m) * dy(n, oh, ow, oc);
// partial sums per batch part, added in part order.
template <typename T>
void depthwise_backward_weight(const Conv2dGeom& g, const T* x, const T* dy, T* dw) {
  const int m = g.oc / g.c;
  const int parts = batch_parts(g.n);
  const size_t wsize = size_t(g.kh) * g.kw * g.oc;
  T* partial = parts > 1 ? scratch<T>(wsize * (parts - 1), 3) : nullptr;
  parallel_for(0, parts, 1, [&](int64_t q0, int64_t q1) {
    for (int64_t q = q0; q < q1; ++q) {
      T* out = q == 0 ? dw : partial + wsize * (q - 1);
      std::fill(out, out + wsize, T(0));
      for (int n = part_begin(g.n, parts, int(q)); n < part_begin(g.n, parts, int(q) + 1); ++n) {
        const T* xn = x + size_t(n) * g.h * g.w * g.c;
        const T* dyn = dy + size_t(n) * g.oh * g.ow * g.oc;
        for (int oh = 0; oh < g.oh; ++oh) {
          int i0, i1;
          tap_range(oh, g.stride_h, g.pad_top, g.dil_h, g.kh, g.h, i0, i1);
          for (int ow = 0; ow < g.ow; ++ow) {
            int j0, j1;
            tap_range(ow, g.stride_w, g.pad_left, g.dil_w, g.kw, g.w, j0, j1);
            const T* d = dyn + (size_t(oh) * g.ow + ow) * g.oc;
            for (int i = i0; i < i1; ++i) {
              const int ih = oh * g.stride_h - g.pad_top + i * g.dil_h;
              for (int j = j0; j < j1; ++j) {
                const int iw = ow * g.stride_w - g.pad_left + j * g.dil_w;
                madd_expand(g.c, m, xn + (size_t(ih) * g.w + iw) * g.c, d,
                            out + size_t(i * g.kw + j) * g.oc);
              }
            }
          }
        }
      }
    }
  });
  for (int q = 1; q < parts; ++q) {
    const T* __restrict s = partial + wsize * (q - 1);
    for (size_t i = 0; i < wsize; ++i) dw[i] += s[i];
  }
}

#define AGILENN_INSTANTIATE(T)                                                          \
  template void depthwise_forward<T>(const Conv2dGeom&, const T*, const T*, T*);        \
  template void depthwise_backward_input<T>(const Conv2dGeom&, const T*, const T*, T*); \
  template void depthwise_backward_weight<T>(const Conv2dGeom&, const T*, const T*, T*);
AGILENN_INSTANTIATE(float)
AGILENN_INSTANTIATE(double)
#undef AGILENN_INSTANTIATE

}  // namespace agilenn::ag::kernels::detail
