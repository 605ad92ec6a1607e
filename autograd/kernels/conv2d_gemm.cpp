// GEMM-based conv2d kernels: pointwise (1x1) convs as one matrix product, everything else that
// is not depthwise as im2col (NHWC patches) + GEMM per group, in row blocks that keep the patch
// buffer cache-sized. Parallel over images (or pixel rows), BLAS single-threaded inside.
#include <algorithm>
#include <cstring>

#include "autograd/kernels/conv2d_common.h"
#include "autograd/parallel.h"

namespace agilenn::ag::kernels::detail {
namespace {

// Patch block sizes, by measurement on the 3x3 shapes of tools/bench (1 thread, AVX-512 host):
// 64 KiB was fastest for forward and backward-weight, 192 KiB for backward-input.
constexpr size_t kPatchBytes = 64 * 1024;
constexpr size_t kPatchBytesBackwardInput = 192 * 1024;
constexpr int kMinBlockRows = 16;

// Pixel rows per im2col block for patch width k.
template <typename T>
int block_rows(int pixels, int k, size_t bytes = kPatchBytes) {
  int rows = static_cast<int>(bytes / (sizeof(T) * size_t(k)));
  return std::clamp(rows, std::min(kMinBlockRows, pixels), pixels);
}

// Rows of y and x per parallel chunk of a pointwise GEMM: big enough that BLAS runs efficiently.
constexpr int64_t kPointwiseGrain = 256;
// Rows per GEMM call when reducing over pixels (backward-weight).
constexpr int64_t kPointwiseWeightRows = 256;

// Short copies (a few channels) as plain loops: a libc memcpy call per 3-channel tap cost more
// than the copy itself (perf on the 3->24 stem). GCC would turn the loop back into a memcpy
// call, hence the attribute.
template <typename T>
__attribute__((optimize("no-tree-loop-distribute-patterns"))) inline void copy_short(
    T* __restrict d, const T* __restrict s, int n) {
  if (n >= 64) {
    std::memcpy(d, s, sizeof(T) * n);
    return;
  }
  for (int t = 0; t < n; ++t) d[t] = s[t];
}

template <typename T>
__attribute__((optimize("no-tree-loop-distribute-patterns"))) inline void zero_short(T* d, int n) {
  for (int t = 0; t < n; ++t) d[t] = T(0);
}

// col(rows, kh*kw*cg) = patches of x(h, w, c) for output pixels [p0, p0 + rows), channels of
// group grp. Zeros where the window reaches into padding.
template <typename T>
void im2col(const Conv2dGeom& g, const T* x, int grp, int p0, int rows, T* col) {
  const int cg = g.c / g.groups, k = g.kh * g.kw * cg;
  const T* xg = x + grp * cg;
  const bool contiguous = g.groups == 1 && g.dil_w == 1;
  for (int r = 0; r < rows; ++r) {
    const int p = p0 + r, oh = p / g.ow, ow = p % g.ow;
    T* dst = col + size_t(r) * k;
    for (int i = 0; i < g.kh; ++i) {
      const int ih = oh * g.stride_h - g.pad_top + i * g.dil_h;
      if (ih < 0 || ih >= g.h) {
        zero_short(dst, g.kw * cg);
        dst += g.kw * cg;
        continue;
      }
      const int iw0 = ow * g.stride_w - g.pad_left;
      if (contiguous && iw0 >= 0 && iw0 + g.kw <= g.w) {  // the whole kernel row is one run
        copy_short(dst, x + (size_t(ih) * g.w + iw0) * g.c, g.kw * cg);
        dst += g.kw * cg;
        continue;
      }
      for (int j = 0; j < g.kw; ++j, dst += cg) {
        const int iw = iw0 + j * g.dil_w;
        if (iw < 0 || iw >= g.w)
          zero_short(dst, cg);
        else
          copy_short(dst, xg + (size_t(ih) * g.w + iw) * g.c, cg);
      }
    }
  }
}

// dx(h, w, c) += scatter of col(rows, kh*kw*cg) for output pixels [p0, p0 + rows), group grp.
template <typename T>
void col2im_add(const Conv2dGeom& g, const T* col, int grp, int p0, int rows, T* dx) {
  const int cg = g.c / g.groups, k = g.kh * g.kw * cg;
  T* dxg = dx + grp * cg;
  const bool contiguous = g.groups == 1 && g.dil_w == 1;
  for (int r = 0; r < rows; ++r) {
    const int p = p0 + r, oh = p / g.ow, ow = p % g.ow;
    const T* src = col + size_t(r) * k;
    for (int i = 0; i < g.kh; ++i) {
      const int ih = oh * g.stride_h - g.pad_top + i * g.dil_h;
      if (ih < 0 || ih >= g.h) {
        src += g.kw * cg;
        continue;
      }
      const int iw0 = ow * g.stride_w - g.pad_left;
      if (contiguous && iw0 >= 0 && iw0 + g.kw <= g.w) {  // the whole kernel row is one run
        T* __restrict d = dx + (size_t(ih) * g.w + iw0) * g.c;
        const T* __restrict s = src;
        for (int e = 0; e < g.kw * cg; ++e) d[e] += s[e];
        src += g.kw * cg;
        continue;
      }
      for (int j = 0; j < g.kw; ++j, src += cg) {
        const int iw = iw0 + j * g.dil_w;
        if (iw < 0 || iw >= g.w) continue;
        T* __restrict d = dxg + (size_t(ih) * g.w + iw) * g.c;
        const T* __restrict s = src;
        for (int c = 0; c < cg; ++c) d[c] += s[c];
      }
    }
  }
}

}  // namespace

// y(NHW, oc) = bias(oc) + x(NHW, c) * w(c, oc)
template <typename T>
void pointwise_forward(const Conv2dGeom& g, const T* x, const T* w, T* y, const T* bias) {
  const int64_t rows = int64_t(g.n) * g.h * g.w;
  parallel_for_ref(0, rows, kPointwiseGrain, [&](int64_t r0, int64_t r1) {
    if (bias) fill_bias_rows(y + r0 * g.oc, r1 - r0, g.oc, g.oc, bias);
    gemm(false, false, int(r1 - r0), g.oc, g.c, T(1), x + r0 * g.c, g.c, w, g.oc,
         bias ? T(1) : T(0), y + r0 * g.oc, g.oc);
  });
}

// dx(NHW, c) = dy(NHW, oc) * w(c, oc)^T
template <typename T>
void pointwise_backward_input(const Conv2dGeom& g, const T* dy, const T* w, T* dx) {
  const int64_t rows = int64_t(g.n) * g.h * g.w;
  parallel_for_ref(0, rows, kPointwiseGrain, [&](int64_t r0, int64_t r1) {
    gemm(false, true, int(r1 - r0), g.c, g.oc, T(1), dy + r0 * g.oc, g.oc, w, g.oc, T(0),
         dx + r0 * g.c, g.c);
  });
}

// dw(c, oc) = x(NHW, c)^T * dy(NHW, oc); partial sums per batch part, added in part order.
template <typename T>
void pointwise_backward_weight(const Conv2dGeom& g, const T* x, const T* dy, T* dw) {
  const int parts = batch_parts(g.n);
  const size_t wsize = size_t(g.c) * g.oc;
  const int64_t pix = int64_t(g.h) * g.w;
  T* partial = parts > 1 ? scratch<T>(wsize * (parts - 1), 3) : nullptr;
  parallel_for_ref(0, parts, 1, [&](int64_t p0, int64_t p1) {
    for (int64_t p = p0; p < p1; ++p) {
      const int64_t r0 = part_begin(g.n, parts, int(p)) * pix;
      const int64_t r1 = part_begin(g.n, parts, int(p) + 1) * pix;
      T* out = p == 0 ? dw : partial + wsize * (p - 1);
      // Short slices of the reduction: OpenBLAS ran ~1.8x faster this way than with one call
      // over all rows (the slices of x and dy stay in L1/L2 while being packed).
      for (int64_t r = r0; r < r1; r += kPointwiseWeightRows) {
        const int rows = int(std::min<int64_t>(kPointwiseWeightRows, r1 - r));
        gemm(true, false, g.c, g.oc, rows, T(1), x + r * g.c, g.c, dy + r * g.oc, g.oc,
             r == r0 ? T(0) : T(1), out, g.oc);
      }
    }
  });
  for (int p = 1; p < parts; ++p) {
    const T* __restrict s = partial + wsize * (p - 1);
    for (size_t i = 0; i < wsize; ++i) dw[i] += s[i];
  }
}

// Per image, per pixel block, per group: y(rows, ocg) = bias_g(ocg) + col(rows, k) * w_g(k, ocg).
template <typename T>
void im2col_forward(const Conv2dGeom& g, const T* x, const T* w, T* y, const T* bias) {
  const int cg = g.c / g.groups, ocg = g.oc / g.groups, k = g.kh * g.kw * cg;
  const int pixels = g.oh * g.ow, brows = block_rows<T>(pixels, k);
  parallel_for_ref(0, g.n, 1, [&](int64_t n0, int64_t n1) {
    T* col = scratch<T>(size_t(brows) * k, 0);
    for (int64_t n = n0; n < n1; ++n) {
      const T* xn = x + size_t(n) * g.h * g.w * g.c;
      T* yn = y + size_t(n) * pixels * g.oc;
      for (int p0 = 0; p0 < pixels; p0 += brows) {
        const int rows = std::min(brows, pixels - p0);
        if (bias) fill_bias_rows(yn + size_t(p0) * g.oc, rows, g.oc, g.oc, bias);
        for (int grp = 0; grp < g.groups; ++grp) {
          im2col(g, xn, grp, p0, rows, col);
          gemm(false, false, rows, ocg, k, T(1), col, k, w + grp * ocg, g.oc, bias ? T(1) : T(0),
               yn + size_t(p0) * g.oc + grp * ocg, g.oc);
        }
      }
    }
  });
}

// Stride 1, dense: dx is the forward conv of dy with the kernel rotated by 180 degrees and its
// channel axes swapped, padded by (k-1)*d - pad before (the rest implied). This runs the
// forward im2col+GEMM path instead of GEMM+col2im: 1.3x faster on the 24- and 32-channel 3x3
// bench shapes (1 thread), 2.3x slower on the 3-channel stem.
template <typename T>
bool backward_input_as_forward(const Conv2dGeom& g, const T* dy, const T* w, T* dx) {
  const int pt = (g.kh - 1) * g.dil_h - g.pad_top, pl = (g.kw - 1) * g.dil_w - g.pad_left;
  // Few input channels (the 3-channel stem) make the rotated conv's GEMM too narrow.
  if (g.groups != 1 || g.stride_h != 1 || g.stride_w != 1 || pt < 0 || pl < 0 || g.c < 8)
    return false;
  Conv2dGeom t = g;
  t.h = g.oh, t.w = g.ow, t.c = g.oc;
  t.oh = g.h, t.ow = g.w, t.oc = g.c;
  t.pad_top = pt, t.pad_left = pl;
  // wt(i, j, o, c) = w(kh-1-i, kw-1-j, c, o)
  T* wt = scratch<T>(size_t(g.kh) * g.kw * g.c * g.oc, 1);
  for (int i = 0; i < g.kh; ++i)
    for (int j = 0; j < g.kw; ++j) {
      const T* src = w + (size_t(g.kh - 1 - i) * g.kw + (g.kw - 1 - j)) * g.c * g.oc;
      T* dst = wt + (size_t(i) * g.kw + j) * g.oc * g.c;
      for (int c = 0; c < g.c; ++c)
        for (int o = 0; o < g.oc; ++o) dst[size_t(o) * g.c + c] = src[size_t(c) * g.oc + o];
    }
  im2col_forward<T>(t, dy, wt, dx, nullptr);
  return true;
}

// Per image: dcol(rows, k) = dy_g(rows, ocg) * w_g(k, ocg)^T, then scatter-add into dx.
template <typename T>
void im2col_backward_input(const Conv2dGeom& g, const T* dy, const T* w, T* dx) {
  if (backward_input_as_forward(g, dy, w, dx)) return;
  const int cg = g.c / g.groups, ocg = g.oc / g.groups, k = g.kh * g.kw * cg;
  const int pixels = g.oh * g.ow, brows = block_rows<T>(pixels, k, kPatchBytesBackwardInput);
  parallel_for_ref(0, g.n, 1, [&](int64_t n0, int64_t n1) {
    T* col = scratch<T>(size_t(brows) * k, 0);
    for (int64_t n = n0; n < n1; ++n) {
      T* dxn = dx + size_t(n) * g.h * g.w * g.c;
      const T* dyn = dy + size_t(n) * pixels * g.oc;
      std::memset(dxn, 0, sizeof(T) * g.h * g.w * g.c);
      for (int p0 = 0; p0 < pixels; p0 += brows) {
        const int rows = std::min(brows, pixels - p0);
        for (int grp = 0; grp < g.groups; ++grp) {
          gemm(false, true, rows, k, ocg, T(1), dyn + size_t(p0) * g.oc + grp * ocg, g.oc,
               w + grp * ocg, g.oc, T(0), col, k);
          col2im_add(g, col, grp, p0, rows, dxn);
        }
      }
    }
  });
}

// dw_g(k, ocg) = sum over images and pixel blocks of col(rows, k)^T * dy_g(rows, ocg);
// partial sums per batch part, added in part order.
template <typename T>
void im2col_backward_weight(const Conv2dGeom& g, const T* x, const T* dy, T* dw) {
  const int cg = g.c / g.groups, ocg = g.oc / g.groups, k = g.kh * g.kw * cg;
  const int pixels = g.oh * g.ow, brows = block_rows<T>(pixels, k);
  const int parts = batch_parts(g.n);
  const size_t wsize = size_t(g.kh) * g.kw * cg * g.oc;
  T* partial = parts > 1 ? scratch<T>(wsize * (parts - 1), 3) : nullptr;
  parallel_for_ref(0, parts, 1, [&](int64_t q0, int64_t q1) {
    T* col = scratch<T>(size_t(brows) * k, 0);
    for (int64_t q = q0; q < q1; ++q) {
      T* out = q == 0 ? dw : partial + wsize * (q - 1);
      bool first = true;
      for (int n = part_begin(g.n, parts, int(q)); n < part_begin(g.n, parts, int(q) + 1); ++n) {
        const T* xn = x + size_t(n) * g.h * g.w * g.c;
        const T* dyn = dy + size_t(n) * pixels * g.oc;
        for (int p0 = 0; p0 < pixels; p0 += brows) {
          const int rows = std::min(brows, pixels - p0);
          for (int grp = 0; grp < g.groups; ++grp) {
            im2col(g, xn, grp, p0, rows, col);
            gemm(true, false, k, ocg, rows, T(1), col, k, dyn + size_t(p0) * g.oc + grp * ocg, g.oc,
                 first ? T(0) : T(1), out + grp * ocg, g.oc);
          }
          first = false;
        }
      }
    }
  });
  for (int q = 1; q < parts; ++q) {
    const T* __restrict s = partial + wsize * (q - 1);
    for (size_t i = 0; i < wsize; ++i) dw[i] += s[i];
  }
}

#define AGILENN_INSTANTIATE(T)                                                             \
  template void pointwise_forward<T>(const Conv2dGeom&, const T*, const T*, T*, const T*); \
  template void pointwise_backward_input<T>(const Conv2dGeom&, const T*, const T*, T*);    \
  template void pointwise_backward_weight<T>(const Conv2dGeom&, const T*, const T*, T*);   \
  template void im2col_forward<T>(const Conv2dGeom&, const T*, const T*, T*, const T*);    \
  template void im2col_backward_input<T>(const Conv2dGeom&, const T*, const T*, T*);       \
  template void im2col_backward_weight<T>(const Conv2dGeom&, const T*, const T*, T*);
AGILENN_INSTANTIATE(float)
AGILENN_INSTANTIATE(double)
#undef AGILENN_INSTANTIATE

}  // namespace agilenn::ag::kernels::detail
