// Soft-to-hard vector quantizer (Agustsson et al. 2017) on the remote channels. C learnable
// centroids kept in ReLU6's range: c = 6 sigmoid(w). Forward: the nearest centroid (ties to the
// lower index); backward: the soft assignment sum_i softmax(-(x - c)^2)_i c_i, through
//   y = soft + stop_gradient(hard - soft).
#pragma once
#include "nn/module.h"

namespace agilenn::xai {

using nn::Module;
using nn::Tensor;

class Quantizer : public Module {
 public:
  explicit Quantizer(int centroids);
  Tensor forward(const Tensor& x) override;  // same shape as x
  Tensor centroids() const;                  // (C), differentiable
  Tensor indices(const Tensor& x) const;     // int32, same shape as x (no gradient)
  Tensor soft(const Tensor& x) const;        // the soft path alone (tests)
  int num_centroids() const { return int(w.numel()); }
  Tensor w;  // (C) logits of the centroids
};

}  // namespace agilenn::xai
