// Module: named parameters, buffers and sub-modules, train/eval mode, state dicts (as
// torch.nn.Module). Parameters are Tensor members registered by pointer; modules live behind
// shared_ptr and never move.
#pragma once
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "autograd/ops.h"
#include "autograd/random.h"
#include "autograd/tensor.h"

namespace agilenn::nn {

using ag::DType;
using ag::Shape;
using ag::Tensor;

class Module {
 public:
  virtual ~Module() = default;
  virtual Tensor forward(const Tensor& x) = 0;
  Tensor operator()(const Tensor& x) { return forward(x); }

  void train(bool on = true);
  void eval() { train(false); }
  bool training() const { return training_; }

  using Named = std::vector<std::pair<std::string, Tensor*>>;
  Named named_parameters(const std::string& prefix = "") const;
  Named named_buffers(const std::string& prefix = "") const;
  std::vector<Tensor*> parameters() const;
  int64_t num_parameters() const;
  // Parameters and buffers by dotted name ("body.0.conv.weight").
  std::map<std::string, Tensor> state_dict() const;
  // Copies values in; every name must be present with the right shape (errors name `source`).
  void load_state_dict(const std::map<std::string, Tensor>& state,
                       const std::string& source = "state");
  // Converts every parameter and buffer (e.g. to float64 for gradient checks).
  void to(DType dtype);
  void zero_grad();

 protected:
  void register_parameter(const std::string& name, Tensor* t);
  void register_buffer(const std::string& name, Tensor* t);
  template <typename M>
  std::shared_ptr<M> register_module(const std::string& name, std::shared_ptr<M> m) {
    children_.emplace_back(name, m);
    return m;
  }
  void replace_module(const std::string& name, std::shared_ptr<Module> m);

 private:
  bool training_ = true;
  Named params_, buffers_;
  std::vector<std::pair<std::string, std::shared_ptr<Module>>> children_;
};

// Runs children in order.
class Sequential : public Module {
 public:
  Sequential() = default;
  template <typename M>
  std::shared_ptr<M> add(std::shared_ptr<M> m) {
    layers_.push_back(m);
    return register_module(std::to_string(layers_.size() - 1), m);
  }
  Tensor forward(const Tensor& x) override;
  size_t size() const { return layers_.size(); }
  const std::shared_ptr<Module>& operator[](size_t i) const { return layers_[i]; }
  // Replaces layer i (same registered name).
  void replace(size_t i, std::shared_ptr<Module> m);

 private:
  std::vector<std::shared_ptr<Module>> layers_;
};

}  // namespace agilenn::nn
