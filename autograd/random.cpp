#include "autograd/random.h"

#include <cmath>

namespace agilenn::ag {

Tensor randn(const Shape& shape, Rng& rng, DType dtype, double stddev) {
  Tensor t = Tensor::empty(shape, dtype);
  for (int64_t i = 0; i < t.numel(); ++i) {
    const double v = rng.normal() * stddev;
    if (dtype == DType::F32)
      t.data<float>()[i] = float(v);
    else
      t.data<double>()[i] = v;
  }
  return t;
}

Tensor rand_uniform(const Shape& shape, Rng& rng, double lo, double hi, DType dtype) {
  Tensor t = Tensor::empty(shape, dtype);
  for (int64_t i = 0; i < t.numel(); ++i) {
    const double v = lo + (hi - lo) * rng.uniform();
    if (dtype == DType::F32)
      t.data<float>()[i] = float(v);
    else
      t.data<double>()[i] = v;
  }
  return t;
}

}  // namespace agilenn::ag
