// Small layers: activations, dense, pooling, dropout.
#pragma once
#include "nn/module.h"

namespace agilenn::nn {

class Identity : public Module {
 public:
  Tensor forward(const Tensor& x) override { return x; }
};

class ReLU6 : public Module {
 public:
  Tensor forward(const Tensor& x) override { return ag::relu6(x); }
};

class SiLU : public Module {
 public:
  Tensor forward(const Tensor& x) override { return ag::silu(x); }
};

// y = x W + b, W (in, out); PyTorch's default uniform(+-1/sqrt(in)) initialisation.
class Linear : public Module {
 public:
  Linear(int in, int out, ag::Rng& rng, bool bias = true);
  Tensor forward(const Tensor& x) override;
  Tensor weight, bias;
};

// (N, H, W, C) -> (N, C)
class GlobalAvgPool : public Module {
 public:
  Tensor forward(const Tensor& x) override { return ag::global_avg_pool(x); }
};

// (N, H, W, C) -> (N, G*G*C): adaptive average pooling to a G x G grid, flattened (cell-major).
class GridAvgPool : public Module {
 public:
  explicit GridAvgPool(int grid) : grid(grid) {}
  Tensor forward(const Tensor& x) override;
  int grid;
};

// Inverted dropout; its generator state is a buffer so checkpoints resume it exactly.
class Dropout : public Module {
 public:
  Dropout(double p, uint64_t seed);
  Tensor forward(const Tensor& x) override;
  double p;
  Tensor rng_state;  // int32 (8): the xoshiro state

 private:
};

}  // namespace agilenn::nn
