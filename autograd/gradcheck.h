// Finite-difference checks of the engine's gradients, in float64 (as torch.autograd.gradcheck).
#pragma once
#include <functional>
#include <string>
#include <vector>

#include "autograd/tensor.h"

namespace agilenn::ag {

struct GradcheckResult {
  bool ok = true;
  double max_abs_err = 0, max_rel_err = 0;
  std::string message;  // the first mismatch, naming the input and element
};

using TensorFn = std::function<Tensor(const std::vector<Tensor>&)>;

// Checks the vector-Jacobian product of fn at `inputs` (float64 tensors; those with requires_grad
// are checked): for a random cotangent v, autograd's d<v, fn>/dx_i against central differences of
// <v, fn> element by element. Passes when |a - n| <= atol + rtol |n| everywhere.
GradcheckResult gradcheck(const TensorFn& fn, const std::vector<Tensor>& inputs, double eps = 1e-6,
                          double atol = 1e-7, double rtol = 1e-5, uint64_t seed = 1);

// Second order: checks the gradient of (x, v) -> d<v, fn(x)>/dx, taken with create_graph, with
// gradcheck, so every backward rule's own backward is checked.
GradcheckResult gradgradcheck(const TensorFn& fn, const std::vector<Tensor>& inputs,
                              double eps = 1e-6, double atol = 1e-6, double rtol = 1e-4,
                              uint64_t seed = 2);

}  // namespace agilenn::ag
