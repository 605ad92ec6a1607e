// Convolution layers, NHWC with HWIO weights; 'same' padding by default, as Keras.
#pragma once
#include "nn/module.h"

namespace agilenn::nn {

struct ConvSpec {
  int in = 0, out = 0, kernel = 3, stride = 1, groups = 1;
  bool bias = false;
  bool same = true;  // else 'valid'
};

class Conv2d : public Module {
 public:
  Conv2d(const ConvSpec& spec, ag::Rng& rng);
  Tensor forward(const Tensor& x) override;
  const ConvSpec& spec() const { return spec_; }
  ag::Conv2dOptions options() const;
  // Folds a following inference-mode batch norm (y = x scale + shift per output channel) into
  // the weights and bias. For frozen networks only.
  void fold_scale_shift(const Tensor& scale, const Tensor& shift);
  Tensor weight;  // (k, k, in/groups, out)
  Tensor bias;    // (out) when spec.bias

 private:
  ConvSpec spec_;
};

// Depthwise conv: groups == channels, `multiplier` outputs per input channel.
std::shared_ptr<Conv2d> depthwise_conv2d(int channels, int kernel, int stride, ag::Rng& rng,
                                         int multiplier = 1);

// Keras SeparableConv2D: depthwise k x k (stride, depth_multiplier outputs per input channel) then
// pointwise 1 x 1, no bias.
class SeparableConv2d : public Module {
 public:
  SeparableConv2d(int in, int out, int kernel, int stride, ag::Rng& rng, int depth_multiplier = 1);
  Tensor forward(const Tensor& x) override;
  std::shared_ptr<Conv2d> depthwise, pointwise;
};

}  // namespace agilenn::nn
