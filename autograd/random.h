// A small seeded generator (splitmix64 seeding xoshiro256**) whose state can be saved, so training
// runs are reproducible and resumable; and tensor initialisers built on it.
#pragma once
#include <array>
#include <cstdint>

#include "autograd/tensor.h"

namespace agilenn::ag {

class Rng {
 public:
  explicit Rng(uint64_t seed = 0);
  uint64_t next_u64();
  double uniform();            // [0, 1)
  double normal();             // standard normal (Box-Muller, no cached pair: state is just s_)
  uint64_t below(uint64_t n);  // uniform integer in [0, n)
  std::array<uint64_t, 4> state() const { return s_; }
  void set_state(const std::array<uint64_t, 4>& s) { s_ = s; }

 private:
  std::array<uint64_t, 4> s_;
};

Tensor randn(const Shape& shape, Rng& rng, DType dtype = DType::F32, double stddev = 1.0);
Tensor rand_uniform(const Shape& shape, Rng& rng, double lo, double hi, DType dtype = DType::F32);

}  // namespace agilenn::ag
