#include "nn/batch_norm.h"

#include "autograd/graph.h"

namespace agilenn::nn {

BatchNorm::BatchNorm(int channels, double m, double e) : momentum(m), eps(e) {
  gamma = Tensor::full(Shape{channels}, 1.0);
  beta = Tensor::zeros(Shape{channels});
  running_mean = Tensor::zeros(Shape{channels});
  running_var = Tensor::full(Shape{channels}, 1.0);
  register_parameter("gamma", &gamma);
  register_parameter("beta", &beta);
  register_buffer("running_mean", &running_mean);
  register_buffer("running_var", &running_var);
}

Tensor BatchNorm::forward(const Tensor& x) {
  if (!training()) return ag::batch_norm_eval(x, gamma, beta, running_mean, running_var, eps);
  Tensor bm, bv;
  Tensor y = ag::batch_norm_train(x, gamma, beta, eps, &bm, &bv);
  ag::NoGradGuard ng;
  const double n = double(x.numel() / x.dim(-1));
  const double unbias = n > 1 ? n / (n - 1) : 1.0;
  running_mean = ag::add(ag::mul(running_mean, momentum), ag::mul(bm, 1.0 - momentum));
  running_var = ag::add(ag::mul(running_var, momentum), ag::mul(bv, (1.0 - momentum) * unbias));
  return y;
}

}  // namespace agilenn::nn
