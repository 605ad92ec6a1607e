// Depthwise conv2d loops over a range of images, compiled once per instruction set:
// conv2d_depthwise_{generic,avx2,avx512}.cpp include this file inside their own namespace
// (AGILENN_DW_NS) after a target pragma; conv2d_depthwise.cpp picks one at run time.
// Everything here has internal linkage or lives in that namespace, so no inline function is
// shared between the instruction-set variants (an AVX-512 copy must never be picked by the
// linker for a generic caller). Do not include standard headers after the target pragma.
//
// Layout: x (n, h, w, c), y/dy (n, oh, ow, oc), w (kh, kw, oc) with oc = c * m; output
// channel o reads input channel o / m. Three loop shapes:
//   blocked: m == 1, per pixel, channels in blocks of kBlock held in registers across taps
//   flat:    m == 1, stride_w == 1, few channels: a whole output row is one contiguous run of
//            (ow, c); each tap is one vectorised loop against a weight row tiled along ow
//   generic: m > 1, per pixel, per tap

namespace agilenn::ag::kernels::detail::AGILENN_DW_NS {

namespace {

constexpr int kBlockBytes = 128;  // channels per register block: 32 floats, 16 doubles

inline int imin(int a, int b) {
  return a < b ? a : b;
}
inline int imax(int a, int b) {
  return a > b ? a : b;
}
// floor(a / b) for b > 0
inline int floor_div(int a, int b) {
  return a >= 0 ? a / b : -((-a + b - 1) / b);
}

// Valid taps [lo, hi) along one axis for output position o.
inline void taps(int o, int stride, int pad, int dil, int k, int size, int& lo, int& hi) {
  const int start = o * stride - pad;
  lo = start >= 0 ? 0 : (-start + dil - 1) / dil;
  hi = start > size - 1 ? 0 : imin(k, (size - 1 - start) / dil + 1);
  lo = imin(lo, hi);
}

// Output positions [lo, hi) whose tap t reads inside [0, size).
inline void outputs(int t, int stride, int pad, int dil, int size, int out, int& lo, int& hi) {
  const int off = t * dil - pad;  // input = o * stride + off
  lo = imax(0, floor_div(-off + stride - 1, stride));
  hi = imin(out, floor_div(size - 1 - off, stride) + 1);
  if (hi < lo) hi = lo;
}

// Channels [c0, c) of one output pixel, in blocks of B held in registers across all taps (an
// array of constant size that the compiler keeps in vector registers); the remainder goes to
// blocks of B/2, B/4, ... (compile-time recursion down to 1).
template <typename T, int B>
inline void fwd_pixel(const Conv2dGeom& g, const T* xn, const T* w, const T* bias, T* yp, int oh,
                      int ow, int i0, int i1, int j0, int j1, int c0) {
  const int c = g.c;
  for (; c0 + B <= c; c0 += B) {
    T acc[B];
    if (bias)
      for (int k = 0; k < B; ++k) acc[k] = bias[c0 + k];
    else
      for (int k = 0; k < B; ++k) acc[k] = 0;
    for (int i = i0; i < i1; ++i) {
      const int ih = oh * g.stride_h - g.pad_top + i * g.dil_h;
      for (int j = j0; j < j1; ++j) {
        const int iw = ow * g.stride_w - g.pad_left + j * g.dil_w;
        const T* __restrict xp = xn + ((long)ih * g.w + iw) * c + c0;
        const T* __restrict wp = w + (long)(i * g.kw + j) * c + c0;
        for (int k = 0; k < B; ++k) acc[k] += xp[k] * wp[k];
      }
    }
    for (int k = 0; k < B; ++k) yp[c0 + k] = acc[k];
  }
  if constexpr (B > 1) {
    if (c0 < c) fwd_pixel<T, B / 2>(g, xn, w, bias, yp, oh, ow, i0, i1, j0, j1, c0);
  }
}

// dx(ih, iw, c0..) = sum over (i, oh), (j, ow) with oh*s - pad + i*d == ih of dy(oh, ow) w(i, j)
template <typename T, int B>
inline void bin_pixel(const Conv2dGeom& g, const int* oh_of, const int* ow_of, const T* dyn,
                      const T* w, T* dxp, int ih, int iw, int c0) {
  const int c = g.c;
  for (; c0 + B <= c; c0 += B) {
    T acc[B];
    for (int k = 0; k < B; ++k) acc[k] = 0;
    for (int i = 0; i < g.kh; ++i) {
      const int oh = oh_of[(long)ih * g.kh + i];
      if (oh < 0) continue;
      for (int j = 0; j < g.kw; ++j) {
        const int ow = ow_of[(long)iw * g.kw + j];
        if (ow < 0) continue;
        const T* __restrict dp = dyn + ((long)oh * g.ow + ow) * c + c0;
        const T* __restrict wp = w + (long)(i * g.kw + j) * c + c0;
        for (int k = 0; k < B; ++k) acc[k] += dp[k] * wp[k];
      }
    }
    for (int k = 0; k < B; ++k) dxp[c0 + k] = acc[k];
  }
  if constexpr (B > 1) {
    if (c0 < c) bin_pixel<T, B / 2>(g, oh_of, ow_of, dyn, w, dxp, ih, iw, c0);
  }
}

// dw(c0..) += sum over ow in [lo, hi) of x(iw = ow*s + off) * dy(ow), one tap, one output row.
template <typename T, int B>
inline void bw_row(const T* xrow, const T* dr, int lo, int hi, int stride, int off, int c, T* dwp,
                   int c0) {
  for (; c0 + B <= c; c0 += B) {
    T acc[B];
    for (int k = 0; k < B; ++k) acc[k] = 0;
    for (int ow = lo; ow < hi; ++ow) {
      const T* __restrict xp = xrow + (long)(ow * stride + off) * c + c0;
      const T* __restrict dp = dr + (long)ow * c + c0;
      for (int k = 0; k < B; ++k) acc[k] += xp[k] * dp[k];
    }
    for (int k = 0; k < B; ++k) dwp[c0 + k] += acc[k];
  }
  if constexpr (B > 1) {
    if (c0 < c) bw_row<T, B / 2>(xrow, dr, lo, hi, stride, off, c, dwp, c0);
  }
}

}  // namespace

template <typename T>
void forward(const detail::DepthwiseArgs<T>& a, int n0, int n1, const T* x, const T* w, T* y) {
  const Conv2dGeom& g = *a.g;
  const int m = g.oc / g.c;
  constexpr int B = kBlockBytes / int(sizeof(T));
  for (int n = n0; n < n1; ++n) {
    const T* xn = x + (long)n * g.h * g.w * g.c;
    T* yn = y + (long)n * g.oh * g.ow * g.oc;
    if (a.wtile) {  // flat (m == 1, stride_w == 1)
      const int c = g.c, row = g.ow * c;
      for (int oh = 0; oh < g.oh; ++oh) {
        T* __restrict yr = yn + (long)oh * row;
        if (a.bias)
          for (int ow = 0; ow < g.ow; ++ow)
            for (int ci = 0; ci < c; ++ci) yr[(long)ow * c + ci] = a.bias[ci];
        else
          for (int f = 0; f < row; ++f) yr[f] = 0;
        int i0, i1;
        taps(oh, g.stride_h, g.pad_top, g.dil_h, g.kh, g.h, i0, i1);
        for (int i = i0; i < i1; ++i) {
          const int ih = oh * g.stride_h - g.pad_top + i * g.dil_h;
          for (int j = 0; j < g.kw; ++j) {
            int lo, hi;
            outputs(j, 1, g.pad_left, g.dil_w, g.w, g.ow, lo, hi);
            const long b = (long)lo * c, e = (long)(hi - lo) * c;
            const T* __restrict xr = xn + (long)ih * g.w * c + (lo + j * g.dil_w - g.pad_left) * c;
            const T* __restrict wt = a.wtile + (long)(i * g.kw + j) * row + b;
            T* __restrict yo = yr + b;
            for (long f = 0; f < e; ++f) yo[f] += xr[f] * wt[f];
          }
        }
      }
    } else if (m == 1) {
      for (int oh = 0; oh < g.oh; ++oh) {
        int i0, i1;
        taps(oh, g.stride_h, g.pad_top, g.dil_h, g.kh, g.h, i0, i1);
        for (int ow = 0; ow < g.ow; ++ow)
          fwd_pixel<T, B>(g, xn, w, a.bias, yn + ((long)oh * g.ow + ow) * g.oc, oh, ow, i0, i1,
                          a.ow_taps[2 * ow], a.ow_taps[2 * ow + 1], 0);
      }
    } else {
      for (int oh = 0; oh < g.oh; ++oh) {
        int i0, i1;
        taps(oh, g.stride_h, g.pad_top, g.dil_h, g.kh, g.h, i0, i1);
        for (int ow = 0; ow < g.ow; ++ow) {
          int j0, j1;
          taps(ow, g.stride_w, g.pad_left, g.dil_w, g.kw, g.w, j0, j1);
          T* __restrict acc = yn + ((long)oh * g.ow + ow) * g.oc;
          for (int o = 0; o < g.oc; ++o) acc[o] = a.bias ? a.bias[o] : T(0);
          for (int i = i0; i < i1; ++i) {
            const int ih = oh * g.stride_h - g.pad_top + i * g.dil_h;
            for (int j = j0; j < j1; ++j) {
              const int iw = ow * g.stride_w - g.pad_left + j * g.dil_w;
              const T* __restrict xp = xn + ((long)ih * g.w + iw) * g.c;
              const T* __restrict wp = w + (long)(i * g.kw + j) * g.oc;
              for (int ci = 0; ci < g.c; ++ci)
                for (int k = 0; k < m; ++k) acc[ci * m + k] += xp[ci] * wp[ci * m + k];
            }
          }
        }
      }
    }
  }
}

template <typename T>
void backward_input(const detail::DepthwiseArgs<T>& a, int n0, int n1, const T* dy, const T* w,
                    T* dx) {
  const Conv2dGeom& g = *a.g;
  const int m = g.oc / g.c;
  constexpr int B = kBlockBytes / int(sizeof(T));
  for (int n = n0; n < n1; ++n) {
    T* dxn = dx + (long)n * g.h * g.w * g.c;
    const T* dyn = dy + (long)n * g.oh * g.ow * g.oc;
    if (m == 1 && !a.wtile) {  // gather: each dx pixel written once
      for (int ih = 0; ih < g.h; ++ih)
        for (int iw = 0; iw < g.w; ++iw)
          bin_pixel<T, B>(g, a.oh_of, a.ow_of, dyn, w, dxn + ((long)ih * g.w + iw) * g.c, ih, iw,
                          0);
      continue;
    }
    const long image = (long)g.h * g.w * g.c;
    for (long e = 0; e < image; ++e) dxn[e] = 0;
    if (a.wtile) {  // flat scatter, row by row
      const int c = g.c, row = g.ow * c;
      for (int oh = 0; oh < g.oh; ++oh) {
        const T* __restrict dr = dyn + (long)oh * row;
        int i0, i1;
        taps(oh, g.stride_h, g.pad_top, g.dil_h, g.kh, g.h, i0, i1);
        for (int i = i0; i < i1; ++i) {
          const int ih = oh * g.stride_h - g.pad_top + i * g.dil_h;
          for (int j = 0; j < g.kw; ++j) {
            int lo, hi;
            outputs(j, 1, g.pad_left, g.dil_w, g.w, g.ow, lo, hi);
            const long b = (long)lo * c, e = (long)(hi - lo) * c;
            T* __restrict xr = dxn + (long)ih * g.w * c + (lo + j * g.dil_w - g.pad_left) * c;
            const T* __restrict wt = a.wtile + (long)(i * g.kw + j) * row + b;
            const T* __restrict d = dr + b;
            for (long f = 0; f < e; ++f) xr[f] += d[f] * wt[f];
          }
        }
      }
      continue;
    }
    for (int oh = 0; oh < g.oh; ++oh) {  // generic scatter (m > 1)
      int i0, i1;
      taps(oh, g.stride_h, g.pad_top, g.dil_h, g.kh, g.h, i0, i1);
      for (int ow = 0; ow < g.ow; ++ow) {
        int j0, j1;
        taps(ow, g.stride_w, g.pad_left, g.dil_w, g.kw, g.w, j0, j1);
        const T* __restrict d = dyn + ((long)oh * g.ow + ow) * g.oc;
        for (int i = i0; i < i1; ++i) {
          const int ih = oh * g.stride_h - g.pad_top + i * g.dil_h;
          for (int j = j0; j < j1; ++j) {
            const int iw = ow * g.stride_w - g.pad_left + j * g.dil_w;
            T* __restrict xp = dxn + ((long)ih * g.w + iw) * g.c;
            const T* __restrict wp = w + (long)(i * g.kw + j) * g.oc;
            for (int ci = 0; ci < g.c; ++ci) {
              T s = 0;
              for (int k = 0; k < m; ++k) s += d[ci * m + k] * wp[ci * m + k];
              xp[ci] += s;
            }
          }
        }
      }
    }
  }
}

// dw (kh, kw, oc) = sum over images [n0, n1) (overwritten).
template <typename T>
void backward_weight(const detail::DepthwiseArgs<T>& a, int n0, int n1, const T* x, const T* dy,
                     T* dw) {
  const Conv2dGeom& g = *a.g;
  const int m = g.oc / g.c, c = g.c;
  constexpr int B = kBlockBytes / int(sizeof(T));
  const long wsize = (long)g.kh * g.kw * g.oc;
  for (long e = 0; e < wsize; ++e) dw[e] = 0;
  if (a.acc_tile) {  // flat: accumulate per (tap, ow, c), fold over ow at the end
    const int row = g.ow * c;
    T* __restrict acc = a.acc_tile;
    for (long e = 0; e < (long)g.kh * g.kw * row; ++e) acc[e] = 0;
    for (int n = n0; n < n1; ++n) {
      const T* xn = x + (long)n * g.h * g.w * c;
      const T* dyn = dy + (long)n * g.oh * g.ow * c;
      for (int oh = 0; oh < g.oh; ++oh) {
        const T* __restrict dr = dyn + (long)oh * row;
        int i0, i1;
        taps(oh, g.stride_h, g.pad_top, g.dil_h, g.kh, g.h, i0, i1);
        for (int i = i0; i < i1; ++i) {
          const int ih = oh * g.stride_h - g.pad_top + i * g.dil_h;
          for (int j = 0; j < g.kw; ++j) {
            int lo, hi;
            outputs(j, 1, g.pad_left, g.dil_w, g.w, g.ow, lo, hi);
            const long b = (long)lo * c, e = (long)(hi - lo) * c;
            const T* __restrict xr = xn + (long)ih * g.w * c + (lo + j * g.dil_w - g.pad_left) * c;
            T* __restrict at = acc + (long)(i * g.kw + j) * row + b;
            const T* __restrict d = dr + b;
            for (long f = 0; f < e; ++f) at[f] += xr[f] * d[f];
          }
        }
      }
    }
    for (int t = 0; t < g.kh * g.kw; ++t)
      for (int ow = 0; ow < g.ow; ++ow)
        for (int k = 0; k < c; ++k) dw[(long)t * c + k] += acc[(long)t * row + ow * c + k];
    return;
  }
  for (int n = n0; n < n1; ++n) {
    const T* xn = x + (long)n * g.h * g.w * c;
    const T* dyn = dy + (long)n * g.oh * g.ow * g.oc;
    for (int oh = 0; oh < g.oh; ++oh) {
      int i0, i1;
      taps(oh, g.stride_h, g.pad_top, g.dil_h, g.kh, g.h, i0, i1);
      for (int i = i0; i < i1; ++i) {
        const int ih = oh * g.stride_h - g.pad_top + i * g.dil_h;
        for (int j = 0; j < g.kw; ++j) {
          int lo, hi;
          outputs(j, g.stride_w, g.pad_left, g.dil_w, g.w, g.ow, lo, hi);
          const int off = j * g.dil_w - g.pad_left;
          T* __restrict dwp = dw + (long)(i * g.kw + j) * g.oc;
          if (m == 1) {  // sum over the row in registers, channels in blocks
            bw_row<T, B>(xn + (long)ih * g.w * c, dyn + (long)oh * g.ow * c, lo, hi, g.stride_w,
                         off, c, dwp, 0);
          } else {
            for (int ow = lo; ow < hi; ++ow) {
              const T* __restrict xp = xn + ((long)ih * g.w + ow * g.stride_w + off) * c;
              const T* __restrict dp = dyn + ((long)oh * g.ow + ow) * g.oc;
              for (int ci = 0; ci < c; ++ci)
                for (int k = 0; k < m; ++k) dwp[ci * m + k] += xp[ci] * dp[ci * m + k];
            }
          }
        }
      }
    }
  }
}

template void forward<float>(const detail::DepthwiseArgs<float>&, int, int, const float*,
                             const float*, float*);
template void forward<double>(const detail::DepthwiseArgs<double>&, int, int, const double*,
                              const double*, double*);
template void backward_input<float>(const detail::DepthwiseArgs<float>&, int, int, const float*,
                                    const float*, float*);
template void backward_input<double>(const detail::DepthwiseArgs<double>&, int, int, const double*,
                                     const double*, double*);
template void backward_weight<float>(const detail::DepthwiseArgs<float>&, int, int, const float*,
                                     const float*, float*);
template void backward_weight<double>(const detail::DepthwiseArgs<double>&, int, int, const double*,
                                      const double*, double*);

}  // namespace agilenn::ag::kernels::detail::AGILENN_DW_NS
