// Optimizers over a module's parameters, updating data in place (no graph).
//   SGDW: v = mu v + g;  w -= lr (v + wd w)        (decoupled weight decay, scaled by the schedule)
//   Adam: m, v moments with bias correction; optional decoupled weight decay (AdamW).
#pragma once
#include <map>
#include <string>
#include <vector>

#include "nn/module.h"

namespace agilenn::nn {

class Optimizer {
 public:
  explicit Optimizer(Module::Named params) : params_(std::move(params)) {}
  virtual ~Optimizer() = default;
  virtual void step(double lr) = 0;  // uses each parameter's .grad(); a missing grad skips it
  void zero_grad();
  // Optimizer state (moments, step count) as named tensors for checkpoints.
  virtual std::map<std::string, Tensor> state() const = 0;
  virtual void load_state(const std::map<std::string, Tensor>& s, const std::string& source) = 0;

 protected:
  Module::Named params_;
};

class SGDW : public Optimizer {
 public:
  SGDW(Module::Named params, double momentum = 0.9, double weight_decay = 5e-4,
       bool nesterov = false);
  void step(double lr) override;
  std::map<std::string, Tensor> state() const override;
  void load_state(const std::map<std::string, Tensor>& s, const std::string& source) override;

 private:
  double momentum_, wd_;
  bool nesterov_;
  std::vector<Tensor> velocity_;
};

class Adam : public Optimizer {
 public:
  Adam(Module::Named params, double beta1 = 0.9, double beta2 = 0.999, double eps = 1e-8,
       double weight_decay = 0);
  void step(double lr) override;
  std::map<std::string, Tensor> state() const override;
  void load_state(const std::map<std::string, Tensor>& s, const std::string& source) override;

 private:
  double b1_, b2_, eps_, wd_;
  int64_t t_ = 0;
  std::vector<Tensor> m_, v_;
};

// Cosine decay from `base` to 0 over `total` steps after a linear warm-up of `warmup` steps.
double cosine_lr(double base, int64_t step, int64_t total, int64_t warmup = 0);

}  // namespace agilenn::nn
