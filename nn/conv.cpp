#include "nn/conv.h"

#include <cmath>

#include "autograd/graph.h"
#include "nn/io/error.h"

namespace agilenn::nn {

Conv2d::Conv2d(const ConvSpec& s, ag::Rng& rng) : spec_(s) {
  if (s.in < 1 || s.out < 1 || s.kernel < 1 || s.stride < 1 || s.groups < 1 || s.in % s.groups ||
      s.out % s.groups)
    throw Error("Conv2d: bad spec in=" + std::to_string(s.in) + " out=" + std::to_string(s.out) +
                " groups=" + std::to_string(s.groups));
  // He normal with fan_out (torchvision's MobileNetV2 initialisation).
  const double fan_out = double(s.kernel) * s.kernel * s.out / s.groups;
  weight = ag::randn(Shape{s.kernel, s.kernel, s.in / s.groups, s.out}, rng, DType::F32,
                     std::sqrt(2.0 / fan_out));
  register_parameter("weight", &weight);
  if (s.bias) {
    bias = Tensor::zeros(Shape{s.out});
    register_parameter("bias", &bias);
  }
}

ag::Conv2dOptions Conv2d::options() const {
  ag::Conv2dOptions o = ag::Conv2dOptions::stride(spec_.stride);
  o.groups = spec_.groups;
  o.same = spec_.same;
  return o;
}

Tensor Conv2d::forward(const Tensor& x) {
  // The bias in the conv's own op (its GEMM's starting value): no second pass over the output.
  return spec_.bias ? ag::conv2d(x, weight, bias, options()) : ag::conv2d(x, weight, options());
}

void Conv2d::fold_scale_shift(const Tensor& scale, const Tensor& shift) {
  ag::NoGradGuard ng;
  const bool req = weight.requires_grad();
  weight = ag::mul(weight, scale);  // HWIO: the output channel is the last axis
  bias = spec_.bias ? ag::add(ag::mul(bias, scale), shift) : shift.clone();
  if (!spec_.bias) {
    spec_.bias = true;
    register_parameter("bias", &bias);
  }
  weight.set_requires_grad(req);
  bias.set_requires_grad(req);
}

std::shared_ptr<Conv2d> depthwise_conv2d(int channels, int kernel, int stride, ag::Rng& rng,
                                         int multiplier) {
  return std::make_shared<Conv2d>(
      ConvSpec{channels, channels * multiplier, kernel, stride, channels, false, true}, rng);
}

SeparableConv2d::SeparableConv2d(int in, int out, int kernel, int stride, ag::Rng& rng,
                                 int depth_multiplier) {
  depthwise =
      register_module("depthwise", depthwise_conv2d(in, kernel, stride, rng, depth_multiplier));
  pointwise = register_module(
      "pointwise",
      std::make_shared<Conv2d>(ConvSpec{in * depth_multiplier, out, 1, 1, 1, false, true}, rng));
}

Tensor SeparableConv2d::forward(const Tensor& x) {
  return pointwise->forward(depthwise->forward(x));
}

}  // namespace agilenn::nn
