// Tensor initialisers drawn from the project's seeded generator (nn/io/rng.h).
#pragma once
#include <array>
#include <cstdint>

#include "autograd/tensor.h"
#include "nn/io/rng.h"

namespace agilenn::ag {

using agilenn::Rng;  // nn/io/rng.h: the one generator the whole project uses

Tensor randn(const Shape& shape, Rng& rng, DType dtype = DType::F32, double stddev = 1.0);
Tensor rand_uniform(const Shape& shape, Rng& rng, double lo, double hi, DType dtype = DType::F32);

}  // namespace agilenn::ag
