#include "xai/quantizer.h"

#include <cmath>

#include "autograd/graph.h"
#include "nn/io/error.h"

namespace agilenn::xai {

using namespace agilenn::ag;

Quantizer::Quantizer(int c) {
  if (c < 2 || c > 256) throw Error("--centroids must be in [2, 256], got " + std::to_string(c));
  // Centroids start evenly spread over (0, 6): c_i = 6 (i + 0.5) / C.
  std::vector<double> v;
  for (int i = 0; i < c; ++i) {
    const double p = (i + 0.5) / c;
    v.push_back(std::log(p / (1 - p)));
  }
  w = Tensor::from_vector(v, Shape{c});
  register_parameter("w", &w);
}

Tensor Quantizer::centroids() const { return mul(sigmoid(w), 6.0); }

namespace {
Tensor sq_distance(const Tensor& x, const Tensor& c) {  // (..., 1) - (C) -> (..., C)
  Shape s = x.shape();
  s.push_back(1);
  Tensor d = sub(reshape(x, s), c);
  return mul(d, d);
}
}  // namespace

Tensor Quantizer::soft(const Tensor& x) const {
  Tensor c = centroids();
  Tensor p = softmax(neg(sq_distance(x, c)));
  return sum(mul(p, c), {-1});
}

Tensor Quantizer::indices(const Tensor& x) const {
  NoGradGuard ng;
  return argmin_last(sq_distance(x.detach(), centroids()));
}

Tensor Quantizer::forward(const Tensor& x) {
  Tensor c = centroids();
  Tensor s = soft(x);
  Tensor hard = take(c.detach(), indices(x));
  return add(s, stop_gradient(sub(hard, s)));
}

}  // namespace agilenn::xai
