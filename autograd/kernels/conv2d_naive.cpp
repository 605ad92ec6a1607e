// Placeholder: plain loops until the optimised kernels land (to be replaced).
#include "autograd/kernels/conv2d.h"
#include <cstring>
namespace agilenn::ag::kernels {
template <typename T> void conv2d_forward(const Conv2dGeom& g, const T* x, const T* w, T* y) {
  const int cg = g.c / g.groups, og = g.oc / g.groups;
  for (int n = 0; n < g.n; ++n) for (int oy = 0; oy < g.oh; ++oy) for (int ox = 0; ox < g.ow; ++ox)
    for (int o = 0; o < g.oc; ++o) {
      int gr = o / og; T acc = 0;
      for (int ky = 0; ky < g.kh; ++ky) for (int kx = 0; kx < g.kw; ++kx) {
        int iy = oy * g.stride_h - g.pad_top + ky * g.dil_h, ix = ox * g.stride_w - g.pad_left + kx * g.dil_w;
        if (iy < 0 || iy >= g.h || ix < 0 || ix >= g.w) continue;
        for (int ci = 0; ci < cg; ++ci)
          acc += x[((size_t(n) * g.h + iy) * g.w + ix) * g.c + gr * cg + ci] * w[((size_t(ky) * g.kw + kx) * cg + ci) * g.oc + o];
      }
      y[((size_t(n) * g.oh + oy) * g.ow + ox) * g.oc + o] = acc;
    }
}
template <typename T> void conv2d_backward_input(const Conv2dGeom& g, const T* dy, const T* w, T* dx) {
  const int cg = g.c / g.groups, og = g.oc / g.groups;
  std::memset(dx, 0, sizeof(T) * size_t(g.n) * g.h * g.w * g.c);
  for (int n = 0; n < g.n; ++n) for (int oy = 0; oy < g.oh; ++oy) for (int ox = 0; ox < g.ow; ++ox)
    for (int o = 0; o < g.oc; ++o) {
      int gr = o / og; T d = dy[((size_t(n) * g.oh + oy) * g.ow + ox) * g.oc + o];
      for (int ky = 0; ky < g.kh; ++ky) for (int kx = 0; kx < g.kw; ++kx) {
        int iy = oy * g.stride_h - g.pad_top + ky * g.dil_h, ix = ox * g.stride_w - g.pad_left + kx * g.dil_w;
        if (iy < 0 || iy >= g.h || ix < 0 || ix >= g.w) continue;
        for (int ci = 0; ci < cg; ++ci)
          dx[((size_t(n) * g.h + iy) * g.w + ix) * g.c + gr * cg + ci] += d * w[((size_t(ky) * g.kw + kx) * cg + ci) * g.oc + o];
      }
    }
}
template <typename T> void conv2d_backward_weight(const Conv2dGeom& g, const T* x, const T* dy, T* dw) {
  const int cg = g.c / g.groups, og = g.oc / g.groups;
  std::memset(dw, 0, sizeof(T) * size_t(g.kh) * g.kw * cg * g.oc);
  for (int n = 0; n < g.n; ++n) for (int oy = 0; oy < g.oh; ++oy) for (int ox = 0; ox < g.ow; ++ox)
    for (int o = 0; o < g.oc; ++o) {
      int gr = o / og; T d = dy[((size_t(n) * g.oh + oy) * g.ow + ox) * g.oc + o];
      for (int ky = 0; ky < g.kh; ++ky) for (int kx = 0; kx < g.kw; ++kx) {
        int iy = oy * g.stride_h - g.pad_top + ky * g.dil_h, ix = ox * g.stride_w - g.pad_left + kx * g.dil_w;
        if (iy < 0 || iy >= g.h || ix < 0 || ix >= g.w) continue;
        for (int ci = 0; ci < cg; ++ci)
          dw[((size_t(ky) * g.kw + kx) * cg + ci) * g.oc + o] += d * x[((size_t(n) * g.h + iy) * g.w + ix) * g.c + gr * cg + ci];
      }
    }
}
#define INST(T) template void conv2d_forward<T>(const Conv2dGeom&, const T*, const T*, T*); \
  template void conv2d_backward_input<T>(const Conv2dGeom&, const T*, const T*, T*); \
  template void conv2d_backward_weight<T>(const Conv2dGeom&, const T*, const T*, T*);
INST(float) INST(double)
}
