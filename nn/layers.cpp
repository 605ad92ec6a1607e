#include "nn/layers.h"

#include <cmath>
#include <cstring>

#include "autograd/graph.h"
#include "nn/io/error.h"

namespace agilenn::nn {

Linear::Linear(int in, int out, ag::Rng& rng, bool has_bias) {
  const double bound = 1.0 / std::sqrt(double(in));
  weight = ag::rand_uniform(Shape{in, out}, rng, -bound, bound);
  register_parameter("weight", &weight);
  if (has_bias) {
    bias = ag::rand_uniform(Shape{out}, rng, -bound, bound);
    register_parameter("bias", &bias);
  }
}

Tensor Linear::forward(const Tensor& x) {
  if (x.ndim() != 2) throw Error("Linear: input must be (N, features), got " + x.shape().str());
  Tensor y = ag::matmul(x, weight);
  return bias.defined() ? ag::add(y, bias) : y;
}

Tensor GridAvgPool::forward(const Tensor& x) {
  Tensor p = ag::adaptive_avg_pool(x, grid);
  return ag::reshape(p, Shape{x.dim(0), int64_t(grid) * grid * x.dim(3)});
}

Dropout::Dropout(double prob, uint64_t seed) : p(prob) {
  if (p < 0 || p >= 1) throw Error("Dropout: p must be in [0, 1), got " + std::to_string(p));
  ag::Rng rng(seed);
  auto s = rng.state();
  rng_state = Tensor::empty(Shape{8}, DType::I32);
  std::memcpy(rng_state.raw_data(), s.data(), sizeof s);
  register_buffer("rng_state", &rng_state);
}

Tensor Dropout::forward(const Tensor& x) {
  if (!training() || p == 0) return x;
  std::array<uint64_t, 4> s;
  std::memcpy(s.data(), rng_state.raw_data(), sizeof s);
  ag::Rng rng(0);
  rng.set_state(s);
  Tensor mask = Tensor::empty(x.shape(), x.dtype());
  const double keep = 1.0 / (1.0 - p);
  for (int64_t i = 0; i < x.numel(); ++i) {
    const double m = rng.uniform() >= p ? keep : 0.0;
    if (x.dtype() == DType::F32)
      mask.data<float>()[i] = float(m);
    else
      mask.data<double>()[i] = m;
  }
  s = rng.state();
  std::memcpy(rng_state.raw_data(), s.data(), sizeof s);
  return ag::mul(x, mask);
}

}  // namespace agilenn::nn
