#include "xai/skewness.h"

#include "autograd/graph.h"
#include "autograd/ops.h"
#include "nn/io/error.h"

namespace agilenn::xai {

using namespace agilenn::ag;

namespace {
void check_k(const Tensor& p, int k) {
  if (k < 1 || k >= p.dim(-1))
    throw Error("split: k = " + std::to_string(k) + " must be in [1, " +
                std::to_string(p.dim(-1) - 1) + "]");
}
// Mean over the selected samples (weights 0/1), or over all.
Tensor weighted_mean(const Tensor& v, const Tensor& weights) {
  if (!weights.defined()) return mean(v);
  const double count = sum(weights).item();
  if (count <= 0) return mul(sum(v), 0.0);
  return mul(sum(mul(v, weights)), 1.0 / count);
}
}  // namespace

Tensor channel_importance(const Tensor& importance) {
  if (importance.ndim() != 4)
    throw Error("channel_importance: expected (N,H,W,C), got " + importance.shape().str());
  Tensor per_channel = sum(importance, {1, 2});            // (N, C)
  Tensor total = add(sum(per_channel, {1}, true), 1e-12);  // (N, 1); guards all-zero maps
  return div(per_channel, total);
}

Tensor skewness(const Tensor& p, int k) {
  check_k(p, k);
  return sum(slice(p, 1, 0, k), {1});
}

Tensor skewness_loss(const Tensor& p, int k, double rho, const Tensor& weights) {
  return weighted_mean(relu(rsub(rho, skewness(p, k))), weights);
}

Tensor disorder_loss(const Tensor& importance, const Tensor& p, int k, DisorderForm form,
                     const Tensor& weights) {
  check_k(p, k);
  const int64_t c = p.dim(1);
  if (form == DisorderForm::Paper) {
    Tensor gap = sub(amax(slice(p, 1, k, c), {1}), amin(slice(p, 1, 0, k), {1}));
    return weighted_mean(relu(gap), weights);
  }
  Tensor local = slice(importance, 3, 0, k), remote = slice(importance, 3, k, c);
  Tensor total = add(sum(importance, {1, 2, 3}), 1e-12);
  Tensor gap = div(sub(amax(remote, {1, 2, 3}), amin(local, {1, 2, 3})), total);
  return weighted_mean(relu(gap), weights);
}

double disorder_violation_rate(const Tensor& p, int k) {
  NoGradGuard ng;
  check_k(p, k);
  Tensor gap = sub(amax(slice(p, 1, k, p.dim(1)), {1}), amin(slice(p, 1, 0, k), {1}));
  auto v = gap.to_vector();
  double bad = 0;
  for (double x : v) bad += x > 0;
  return v.empty() ? 0.0 : bad / double(v.size());
}

}  // namespace agilenn::xai
