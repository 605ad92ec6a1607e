#include "nn/distillation.h"

#include "autograd/graph.h"
#include "autograd/ops.h"
#include "nn/io/error.h"

namespace agilenn::nn {

using namespace agilenn::ag;

Tensor distillation_loss(const Tensor& student_logits, const Tensor& teacher_logits,
                         double temperature) {
  if (!(temperature > 0)) throw Error("distillation temperature must be > 0");
  if (student_logits.shape() != teacher_logits.shape())
    throw Error("distillation: student logits " + student_logits.shape().str() +
                " but teacher logits " + teacher_logits.shape().str());
  Tensor log_q, q;  // teacher: constants
  {
    NoGradGuard ng;
    Tensor t = mul(teacher_logits.detach(), 1.0 / temperature);
    log_q = log_softmax(t);
    q = exp(log_q);
  }
  // KL(q || p) = sum q (log q - log p); q log q is constant but keeps the value a true KL (>= 0).
  Tensor log_p = log_softmax(mul(student_logits, 1.0 / temperature));
  Tensor kl = sum(mul(q, sub(log_q, log_p)), {-1});  // (N,)
  return mul(mean(kl), temperature * temperature);
}

}  // namespace agilenn::nn
