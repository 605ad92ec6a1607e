#include "nn/optimizer.h"

#include <cmath>
#include <cstring>

#include "nn/io/error.h"

namespace agilenn::nn {

void Optimizer::zero_grad() {
  for (auto& [n, p] : params_) p->set_grad(Tensor());
}

namespace {
// Raw float views of a parameter and its gradient (float32 or float64 alike).
template <typename F>
void for_each_float(Tensor& p, const Tensor& g, Tensor& s1, Tensor* s2, F f) {
  const int64_t n = p.numel();
  if (p.dtype() == DType::F32) {
    float *w = p.data<float>(), *a = s1.data<float>(), *b = s2 ? s2->data<float>() : nullptr;
    const float* gr = g.data<float>();
    for (int64_t i = 0; i < n; ++i) {
      double wi = w[i], ai = a[i], bi = b ? b[i] : 0;
      f(wi, double(gr[i]), ai, bi);
      w[i] = float(wi);
      a[i] = float(ai);
      if (b) b[i] = float(bi);
    }
  } else {
    double *w = p.data<double>(), *a = s1.data<double>(), *b = s2 ? s2->data<double>() : nullptr;
    const double* gr = g.data<double>();
    for (int64_t i = 0; i < n; ++i) {
      double bi = b ? b[i] : 0;
      f(w[i], gr[i], a[i], bi);
      if (b) b[i] = bi;
    }
  }
}

void check_grad(const std::string& name, const Tensor& p, const Tensor& g) {
  if (g.shape() != p.shape() || g.dtype() != p.dtype())
    throw Error("optimizer: gradient of '" + name + "' has shape " + g.shape().str() +
                ", parameter " + p.shape().str());
}

void load_named(std::vector<Tensor>& dst, const Module::Named& params,
                const std::map<std::string, Tensor>& s, const std::string& suffix,
                const std::string& source) {
  for (size_t i = 0; i < params.size(); ++i) {
    const std::string key = params[i].first + suffix;
    auto it = s.find(key);
    if (it == s.end()) throw error_at(source, "missing optimizer tensor '" + key + "'");
    if (it->second.shape() != params[i].second->shape())
      throw error_at(source,
                     "optimizer tensor '" + key + "' has shape " + it->second.shape().str());
    dst[i] = ag::cast(it->second, params[i].second->dtype()).clone();
  }
}
}  // namespace

SGDW::SGDW(Module::Named params, double momentum, double wd, bool nesterov)
    : Optimizer(std::move(params)), momentum_(momentum), wd_(wd), nesterov_(nesterov) {
  for (auto& [n, p] : params_) velocity_.push_back(Tensor::zeros(p->shape(), p->dtype()));
}

void SGDW::step(double lr) {
  for (size_t i = 0; i < params_.size(); ++i) {
    auto& [name, p] = params_[i];
    Tensor g = p->grad();
    if (!g.defined()) continue;
    check_grad(name, *p, g);
    const double mu = momentum_, wd = wd_;
    const bool nest = nesterov_;
    for_each_float(*p, g, velocity_[i], nullptr, [&](double& w, double gr, double& v, double&) {
      v = mu * v + gr;
      const double d = nest ? gr + mu * v : v;
      w -= lr * (d + wd * w);
    });
  }
}

std::map<std::string, Tensor> SGDW::state() const {
  std::map<std::string, Tensor> s;
  for (size_t i = 0; i < params_.size(); ++i) s[params_[i].first + ".velocity"] = velocity_[i];
  return s;
}

void SGDW::load_state(const std::map<std::string, Tensor>& s, const std::string& source) {
  load_named(velocity_, params_, s, ".velocity", source);
}

Adam::Adam(Module::Named params, double b1, double b2, double eps, double wd)
    : Optimizer(std::move(params)), b1_(b1), b2_(b2), eps_(eps), wd_(wd) {
  for (auto& [n, p] : params_) {
    m_.push_back(Tensor::zeros(p->shape(), p->dtype()));
    v_.push_back(Tensor::zeros(p->shape(), p->dtype()));
  }
}

void Adam::step(double lr) {
  ++t_;
  const double c1 = 1 - std::pow(b1_, double(t_)), c2 = 1 - std::pow(b2_, double(t_));
  for (size_t i = 0; i < params_.size(); ++i) {
    auto& [name, p] = params_[i];
    Tensor g = p->grad();
    if (!g.defined()) continue;
    check_grad(name, *p, g);
    const double b1 = b1_, b2 = b2_, eps = eps_, wd = wd_;
    for_each_float(*p, g, m_[i], &v_[i], [&](double& w, double gr, double& m, double& v) {
      m = b1 * m + (1 - b1) * gr;
      v = b2 * v + (1 - b2) * gr * gr;
      w -= lr * ((m / c1) / (std::sqrt(v / c2) + eps) + wd * w);
    });
  }
}

std::map<std::string, Tensor> Adam::state() const {
  std::map<std::string, Tensor> s;
  for (size_t i = 0; i < params_.size(); ++i) {
    s[params_[i].first + ".m"] = m_[i];
    s[params_[i].first + ".v"] = v_[i];
  }
  s["adam.step"] = Tensor::scalar(double(t_), DType::F64);
  return s;
}

void Adam::load_state(const std::map<std::string, Tensor>& s, const std::string& source) {
  load_named(m_, params_, s, ".m", source);
  load_named(v_, params_, s, ".v", source);
  auto it = s.find("adam.step");
  if (it == s.end()) throw error_at(source, "missing optimizer tensor 'adam.step'");
  t_ = int64_t(it->second.item());
}

double cosine_lr(double base, int64_t step, int64_t total, int64_t warmup) {
  if (warmup > 0 && step < warmup) return base * double(step + 1) / double(warmup);
  if (total <= warmup) return base;
  const double t = std::min(1.0, double(step - warmup) / double(total - warmup));
  return base * 0.5 * (1.0 + std::cos(M_PI * t));
}

}  // namespace agilenn::nn
