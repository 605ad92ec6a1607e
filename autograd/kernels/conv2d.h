// 2-D convolution kernels over raw buffers: NHWC activations, HWIO weights (KH, KW, C/groups, OC).
// No graph code here; autograd/conv.cpp wraps them as differentiable ops.
#pragma once

namespace agilenn::ag::kernels {

struct Conv2dGeom {
  int n, h, w, c;          // input  (n, h, w, c)
  int oh, ow, oc;          // output (n, oh, ow, oc)
  int kh, kw;              // kernel
  int stride_h, stride_w;  // >= 1
  int pad_top, pad_left;   // zero padding before; the padding after is implied by oh/ow
  int dil_h, dil_w;        // >= 1
  int groups;              // c % groups == 0 and oc % groups == 0; groups == c is depthwise
};

// y(n,oh,ow,oc) = bias(oc) + sum over (kh,kw,c/groups) x * w.  y is overwritten; a null bias
// is zero. The bias is the GEMM's starting value (beta = 1), not a pass of its own.
template <typename T>
void conv2d_forward(const Conv2dGeom& g, const T* x, const T* w, T* y, const T* bias = nullptr);
// dx(n,h,w,c) = transpose-conv of dy(n,oh,ow,oc) with w.  dx is overwritten.
template <typename T>
void conv2d_backward_input(const Conv2dGeom& g, const T* dy, const T* w, T* dx);
// dw(kh,kw,c/groups,oc) = correlation of x(n,h,w,c) with dy(n,oh,ow,oc).  dw is overwritten.
template <typename T>
void conv2d_backward_weight(const Conv2dGeom& g, const T* x, const T* dy, T* dw);

}  // namespace agilenn::ag::kernels
