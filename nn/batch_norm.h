// Batch normalisation over all axes but the last (channels): BatchNorm2d on NHWC and BatchNorm1d on
// (N, C) are the same module. Keras defaults: momentum 0.99 (running = m running + (1-m) batch),
// epsilon 1e-3. The running variance uses the unbiased batch variance (as PyTorch).
#pragma once
#include "nn/module.h"

namespace agilenn::nn {

class BatchNorm : public Module {
 public:
  explicit BatchNorm(int channels, double momentum = 0.99, double eps = 1e-3);
  Tensor forward(const Tensor& x) override;
  Tensor gamma, beta;                // parameters
  Tensor running_mean, running_var;  // buffers
  double momentum, eps;
};

}  // namespace agilenn::nn
