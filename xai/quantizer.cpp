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

Tensor Quantizer::centroids() const {
  return mul(sigmoid(w), 6.0);
}

Tensor Quantizer::soft(const Tensor& x) const {
  return soft_assign(x, centroids());
}

Tensor Quantizer::indices(const Tensor& x) const {
  NoGradGuard ng;
  Tensor idx;
  quantize_soft_to_hard(x.detach(), centroids(), &idx);
  return idx;
}

Tensor Quantizer::forward(const Tensor& x) {
  return quantize_soft_to_hard(x, centroids());
}

}  // namespace agilenn::xai
