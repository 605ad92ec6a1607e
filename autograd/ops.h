// Every differentiable op of the engine. Forward and backward of each family sit side by side in
// one file (the backward written with these same ops, so it can be differentiated again):
//   ops_elementwise.cpp  unary/binary math, comparisons, where, clamp, activations, cast
//   ops_reduce.cpp       sum/mean/max/min over axes, expand, sum_to
//   ops_shape.cpp        reshape, permute, slice, concat, pad
//   ops_matmul.cpp       matmul
//   ops_conv.cpp         conv2d and its two gradient ops, pooling
//   ops_nn.cpp           batch norm, softmax, log-softmax, cross-entropy, gather, argmin
#pragma once
#include <vector>

#include "autograd/tensor.h"

namespace agilenn::ag {

// ---- elementwise (binary ops broadcast numpy-style; both operands must share a float dtype)
Tensor add(const Tensor& a, const Tensor& b);
Tensor sub(const Tensor& a, const Tensor& b);
Tensor mul(const Tensor& a, const Tensor& b);
Tensor div(const Tensor& a, const Tensor& b);
Tensor maximum(const Tensor& a, const Tensor& b);  // ties split the gradient evenly
Tensor minimum(const Tensor& a, const Tensor& b);
Tensor add(const Tensor& a, double s);
Tensor mul(const Tensor& a, double s);
Tensor rsub(double s, const Tensor& a);  // s - a
Tensor maximum(const Tensor& a, double s);
Tensor minimum(const Tensor& a, double s);
Tensor neg(const Tensor& a);
Tensor exp(const Tensor& a);
Tensor log(const Tensor& a);
Tensor sqrt(const Tensor& a);
Tensor rsqrt(const Tensor& a);
Tensor pow(const Tensor& a, double p);
Tensor abs(const Tensor& a);
Tensor sigmoid(const Tensor& a);
Tensor tanh(const Tensor& a);
Tensor silu(const Tensor& a);
Tensor relu(const Tensor& a);                                        // gradient where a > 0
Tensor relu6(const Tensor& a);                                       // gradient where 0 < a < 6
Tensor clamp(const Tensor& a, double lo, double hi);                 // gradient where lo <= a <= hi
Tensor where(const Tensor& cond, const Tensor& a, const Tensor& b);  // cond: nonzero = true
Tensor cast(const Tensor& a, DType dtype);
// Not differentiable (constant results): 0/1 masks in the operands' dtype, and sign.
Tensor gt(const Tensor& a, const Tensor& b);
Tensor lt(const Tensor& a, const Tensor& b);
Tensor ge(const Tensor& a, const Tensor& b);
Tensor eq(const Tensor& a, const Tensor& b);
Tensor gt(const Tensor& a, double s);
Tensor lt(const Tensor& a, double s);
Tensor sign(const Tensor& a);

inline Tensor operator+(const Tensor& a, const Tensor& b) {
  return add(a, b);
}
inline Tensor operator-(const Tensor& a, const Tensor& b) {
  return sub(a, b);
}
inline Tensor operator*(const Tensor& a, const Tensor& b) {
  return mul(a, b);
}
inline Tensor operator/(const Tensor& a, const Tensor& b) {
  return div(a, b);
}
inline Tensor operator-(const Tensor& a) {
  return neg(a);
}
inline Tensor operator+(const Tensor& a, double s) {
  return add(a, s);
}
inline Tensor operator-(const Tensor& a, double s) {
  return add(a, -s);
}
inline Tensor operator*(const Tensor& a, double s) {
  return mul(a, s);
}
inline Tensor operator*(double s, const Tensor& a) {
  return mul(a, s);
}
inline Tensor operator/(const Tensor& a, double s) {
  return mul(a, 1.0 / s);
}
inline Tensor operator-(double s, const Tensor& a) {
  return rsub(s, a);
}

// ---- reductions (axes may be negative; empty axes = all)
Tensor sum(const Tensor& a, std::vector<int> axes = {}, bool keepdim = false);
Tensor mean(const Tensor& a, std::vector<int> axes = {}, bool keepdim = false);
Tensor amax(const Tensor& a, std::vector<int> axes = {}, bool keepdim = false);  // ties share
Tensor amin(const Tensor& a, std::vector<int> axes = {}, bool keepdim = false);
Tensor expand(const Tensor& a, const Shape& shape);  // broadcast_to, materialised
Tensor sum_to(const Tensor& a, const Shape& shape);  // reverse of expand

// ---- shape
Tensor reshape(const Tensor& a, const Shape& shape);  // view; one dim may be -1 via the vector form
Tensor reshape(const Tensor& a, const std::vector<int64_t>& shape);
Tensor permute(const Tensor& a, const std::vector<int>& perm);
Tensor transpose(const Tensor& a);  // 2-D
Tensor slice(const Tensor& a, int axis, int64_t start, int64_t end);
// Zero padding along one axis: `before` zeros, then a, then zeros up to total length `size`.
Tensor pad_axis(const Tensor& a, int axis, int64_t before, int64_t size);
Tensor concat(const std::vector<Tensor>& xs, int axis);

// ---- linear algebra: op(a) @ op(b) for 2-D a, b; op transposes when the flag is set
Tensor matmul(const Tensor& a, const Tensor& b, bool trans_a = false, bool trans_b = false);

// ---- convolution (NHWC input, HWIO weight (KH, KW, C/groups, OC))
struct Conv2dOptions {
  int stride_h = 1, stride_w = 1;
  int dil_h = 1, dil_w = 1;
  int groups = 1;
  bool same = false;  // TF/Keras 'same' padding (extra pixel at the bottom/right); else explicit
  int pad_h = 0, pad_w = 0;  // explicit symmetric padding when !same
  static Conv2dOptions stride(int s) {
    Conv2dOptions o;
    o.stride_h = o.stride_w = s;
    return o;
  }
};
Tensor conv2d(const Tensor& x, const Tensor& w, const Conv2dOptions& opt = {});
// conv2d(x, w) + bias (OC,) in one op: the bias is the GEMM's starting value, not a second pass
// over the output. Gradient of the bias: the sum of the output gradient over (N, H, W).
Tensor conv2d(const Tensor& x, const Tensor& w, const Tensor& bias, const Conv2dOptions& opt = {});
// Gradients of conv2d as ops of their own (each differentiable in terms of the three):
Tensor conv2d_input_grad(const Tensor& dy, const Tensor& w, const Shape& x_shape,
                         const Conv2dOptions& opt);
Tensor conv2d_weight_grad(const Tensor& x, const Tensor& dy, const Shape& w_shape,
                          const Conv2dOptions& opt);
Tensor global_avg_pool(const Tensor& x);  // (N,H,W,C) -> (N,C)
// Average pooling to a G x G grid with PyTorch adaptive_avg_pool2d cell edges: (N,H,W,C) ->
// (N,G,G,C).
Tensor adaptive_avg_pool(const Tensor& x, int grid);

// ---- neural-network ops (class / channel axis is the last one)
// Normalise over all axes but the last with the batch statistics; mean/var (biased) are returned
// through the out-pointers (no graph) so the module can update running statistics.
Tensor batch_norm_train(const Tensor& x, const Tensor& gamma, const Tensor& beta, double eps,
                        Tensor* batch_mean = nullptr, Tensor* batch_var = nullptr);
Tensor batch_norm_eval(const Tensor& x, const Tensor& gamma, const Tensor& beta,
                       const Tensor& running_mean, const Tensor& running_var, double eps);
Tensor softmax(const Tensor& x);
Tensor log_softmax(const Tensor& x);
// out[i...] = x[i..., idx[i...]]: x (..., C), idx int32 (...) -> (...)
Tensor gather_last(const Tensor& x, const Tensor& idx);
// The adjoint of gather_last: zeros (..., C) with g[i...] added at idx[i...].
Tensor scatter_last(const Tensor& g, const Tensor& idx, int64_t classes);
// out = table[idx] for a 1-D table and an int32 index tensor of any shape; adjoint: index_add.
Tensor take(const Tensor& table, const Tensor& idx);
Tensor index_add(const Tensor& g, const Tensor& idx, int64_t n);
Tensor cross_entropy(const Tensor& logits, const Tensor& labels);  // mean over the batch
Tensor argmin_last(const Tensor& x);                               // int32, no gradient
Tensor argmax_last(const Tensor& x);
Tensor stop_gradient(const Tensor& x);  // = detach
// Soft-to-hard vector quantization (Agustsson et al. 2017) of every element of x onto the 1-D
// centroids c: the value is the nearest centroid (ties to the lower index; its index written to
// *indices when given), the gradient that of the soft assignment s = sum_i softmax(-(x-c)^2)_i c_i.
Tensor quantize_soft_to_hard(const Tensor& x, const Tensor& c, Tensor* indices = nullptr);
// The soft assignment alone (differentiable to any order).
Tensor soft_assign(const Tensor& x, const Tensor& c);

// Counts the multiply-accumulates of conv2d and matmul forwards run on this thread while alive.
class MacCounter {
 public:
  MacCounter();
  ~MacCounter();
  MacCounter(const MacCounter&) = delete;
  MacCounter& operator=(const MacCounter&) = delete;
  int64_t macs() const { return macs_; }
  static void add(int64_t n);

 private:
  int64_t macs_ = 0;
  MacCounter* prev_;
};

}  // namespace agilenn::ag
