// conv2d entry points: check the geometry, then pick the kernel for its shape.
//   pointwise (1x1, stride 1, no padding, groups 1): one GEMM over all pixels
//   depthwise (groups == c): direct NHWC loop vectorised over channels
//   everything else (dense KxK, strided 1x1, general groups): im2col + GEMM per group
#include "autograd/kernels/conv2d.h"

#include <algorithm>
#include <string>

#include "autograd/kernels/conv2d_common.h"
#include "autograd/parallel.h"
#include "nn/io/error.h"

namespace agilenn::ag::kernels {
namespace detail {

void check_geometry(const Conv2dGeom& g) {
  auto need = [](bool ok, const char* field, const std::string& what) {
    if (!ok) throw error_at(std::string("conv2d geometry: ") + field, what);
  };
  need(g.n >= 1 && g.h >= 1 && g.w >= 1 && g.c >= 1, "n/h/w/c", "input sizes must be >= 1");
  need(g.oh >= 1 && g.ow >= 1 && g.oc >= 1, "oh/ow/oc", "output sizes must be >= 1");
  need(g.kh >= 1 && g.kw >= 1, "kh/kw", "kernel sizes must be >= 1");
  need(g.stride_h >= 1 && g.stride_w >= 1, "stride", "must be >= 1");
  need(g.dil_h >= 1 && g.dil_w >= 1, "dilation", "must be >= 1");
  // Any oh/ow >= 1 is well defined: windows past the input (implied bottom/right padding) read
  // zeros.
  need(g.pad_top >= 0 && g.pad_left >= 0, "pad_top/pad_left", "must be >= 0");
  need(g.groups >= 1 && g.c % g.groups == 0 && g.oc % g.groups == 0, "groups",
       "must divide c=" + std::to_string(g.c) + " and oc=" + std::to_string(g.oc) + ", got " +
           std::to_string(g.groups));
}

int batch_parts(int n) {
  return std::max(1, std::min(n, num_threads()));
}

}  // namespace detail

template <typename T>
void conv2d_forward(const Conv2dGeom& g, const T* x, const T* w, T* y, const T* bias) {
  detail::check_geometry(g);
  if (detail::is_pointwise(g)) return detail::pointwise_forward(g, x, w, y, bias);
  if (detail::is_depthwise(g)) return detail::depthwise_forward(g, x, w, y, bias);
  detail::im2col_forward(g, x, w, y, bias);
}

template <typename T>
void conv2d_backward_input(const Conv2dGeom& g, const T* dy, const T* w, T* dx) {
  detail::check_geometry(g);
  if (detail::is_pointwise(g)) return detail::pointwise_backward_input(g, dy, w, dx);
  if (detail::is_depthwise(g)) return detail::depthwise_backward_input(g, dy, w, dx);
  detail::im2col_backward_input(g, dy, w, dx);
}

template <typename T>
void conv2d_backward_weight(const Conv2dGeom& g, const T* x, const T* dy, T* dw) {
  detail::check_geometry(g);
  if (detail::is_pointwise(g)) return detail::pointwise_backward_weight(g, x, dy, dw);
  if (detail::is_depthwise(g)) return detail::depthwise_backward_weight(g, x, dy, dw);
  detail::im2col_backward_weight(g, x, dy, dw);
}

template void conv2d_forward<float>(const Conv2dGeom&, const float*, const float*, float*,
                                    const float*);
template void conv2d_forward<double>(const Conv2dGeom&, const double*, const double*, double*,
                                     const double*);
template void conv2d_backward_input<float>(const Conv2dGeom&, const float*, const float*, float*);
template void conv2d_backward_input<double>(const Conv2dGeom&, const double*, const double*,
                                            double*);
template void conv2d_backward_weight<float>(const Conv2dGeom&, const float*, const float*, float*);
template void conv2d_backward_weight<double>(const Conv2dGeom&, const double*, const double*,
                                             double*);

}  // namespace agilenn::ag::kernels
