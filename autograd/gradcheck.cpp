#include "autograd/gradcheck.h"

#include <cmath>
#include <random>

#include "autograd/engine.h"
#include "autograd/graph.h"
#include "autograd/ops.h"
#include "nn/io/error.h"

namespace agilenn::ag {

namespace {

Tensor random_like(const Tensor& t, std::mt19937_64& rng) {
  std::normal_distribution<double> nd(0.0, 1.0);
  std::vector<double> v(size_t(t.numel()));
  for (auto& x : v) x = nd(rng);
  return Tensor::from_vector(v, t.shape(), DType::F64);
}

double dot_value(const Tensor& a, const Tensor& b) {
  auto va = a.to_vector(), vb = b.to_vector();
  double s = 0;
  for (size_t i = 0; i < va.size(); ++i) s += va[i] * vb[i];
  return s;
}

}  // namespace

GradcheckResult gradcheck(const TensorFn& fn, const std::vector<Tensor>& inputs, double eps,
                          double atol, double rtol, uint64_t seed) {
  for (auto& t : inputs)
    if (t.defined() && t.dtype() != DType::F64) throw Error("gradcheck: inputs must be float64");
  std::mt19937_64 rng(seed);
  Tensor out = fn(inputs);
  Tensor v = random_like(out, rng);
  std::vector<Tensor> wrt;
  std::vector<size_t> which;
  for (size_t i = 0; i < inputs.size(); ++i)
    if (inputs[i].defined() && inputs[i].requires_grad()) {
      wrt.push_back(inputs[i]);
      which.push_back(i);
    }
  GradcheckResult r;
  if (wrt.empty()) return r;
  std::vector<Tensor> analytic = grad({out}, wrt, {v}, false, 0, true);

  for (size_t k = 0; k < wrt.size(); ++k) {
    // Perturb a detached copy so the finite differences run without recording.
    std::vector<Tensor> probe;
    // (requires_grad is kept: a second-order fn takes gradients inside.)
    for (auto& t : inputs) {
      if (!t.defined()) {
        probe.push_back(t);
        continue;
      }
      Tensor c = t.detach().clone();
      if (t.requires_grad()) c.set_requires_grad(true);
      probe.push_back(c);
    }
    Tensor& x = probe[which[k]];
    double* xp = x.data<double>();
    std::vector<double> a = analytic[k].defined() ? analytic[k].to_vector()
                                                  : std::vector<double>(size_t(x.numel()), 0.0);
    for (int64_t e = 0; e < x.numel(); ++e) {
      const double orig = xp[e];
      xp[e] = orig + eps;
      const double fp = dot_value(fn(probe), v);
      xp[e] = orig - eps;
      const double fm = dot_value(fn(probe), v);
      xp[e] = orig;
      const double num = (fp - fm) / (2 * eps);
      const double err = std::fabs(a[e] - num);
      r.max_abs_err = std::max(r.max_abs_err, err);
      if (std::fabs(num) > 0) r.max_rel_err = std::max(r.max_rel_err, err / std::fabs(num));
      if (err > atol + rtol * std::fabs(num) && r.ok) {
        r.ok = false;
        r.message = "input " + std::to_string(which[k]) + " element " + std::to_string(e) +
                    ": analytic " + std::to_string(a[e]) + " vs numeric " + std::to_string(num);
      }
    }
  }
  return r;
}

GradcheckResult gradgradcheck(const TensorFn& fn, const std::vector<Tensor>& inputs, double eps,
                              double atol, double rtol, uint64_t seed) {
  std::mt19937_64 rng(seed);
  Tensor out0;
  {
    NoGradGuard ng;
    std::vector<Tensor> d;
    for (auto& t : inputs) d.push_back(t.defined() ? t.detach() : t);
    out0 = fn(d);
  }
  Tensor v = random_like(out0, rng).set_requires_grad(true);
  std::vector<size_t> which;
  for (size_t i = 0; i < inputs.size(); ++i)
    if (inputs[i].defined() && inputs[i].requires_grad()) which.push_back(i);
  const size_t n_in = inputs.size();
  // g(x..., v) = concat of flattened d<v, fn(x)>/dx_i: a function of the inputs and of v.
  TensorFn g = [&](const std::vector<Tensor>& args) {
    std::vector<Tensor> xs(args.begin(), args.begin() + long(n_in));
    Tensor vv = args[n_in];
    Tensor out = fn(xs);
    std::vector<Tensor> wrt;
    for (size_t i : which) wrt.push_back(xs[i]);
    auto gs = grad({out}, wrt, {vv}, true, 1, true);
    std::vector<Tensor> flat;
    for (size_t i = 0; i < gs.size(); ++i)
      flat.push_back(gs[i].defined() ? reshape(gs[i], Shape{wrt[i].numel()})
                                     : Tensor::zeros(Shape{wrt[i].numel()}, DType::F64));
    return concat(flat, 0);
  };
  std::vector<Tensor> args(inputs.begin(), inputs.end());
  args.push_back(v);
  return gradcheck(g, args, eps, atol, rtol, seed + 1);
}

}  // namespace agilenn::ag
