// Knowledge distillation (Hinton et al. 2015): the student's logits are pulled towards a frozen
// teacher's softened class distribution,
//   KD(s, t) = T^2 * mean_n KL(softmax(t_n / T) || softmax(s_n / T)),
// the T^2 keeping its gradient on the scale of the hard-label cross-entropy as T grows.
#pragma once
#include "autograd/tensor.h"

namespace agilenn::nn {

// student (N, C) differentiable; teacher (N, C) constant (detached here). Scalar, >= 0.
ag::Tensor distillation_loss(const ag::Tensor& student_logits, const ag::Tensor& teacher_logits,
                             double temperature);

}  // namespace agilenn::nn
