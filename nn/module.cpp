#include "nn/module.h"

#include <set>

#include "autograd/graph.h"
#include "nn/io/error.h"

namespace agilenn::nn {

void Module::train(bool on) {
  training_ = on;
  for (auto& [n, c] : children_) c->train(on);
}

Module::Named Module::named_parameters(const std::string& prefix) const {
  Named out;
  for (auto& [n, t] : params_) out.emplace_back(prefix + n, t);
  for (auto& [n, c] : children_) {
    auto sub = c->named_parameters(prefix + n + ".");
    out.insert(out.end(), sub.begin(), sub.end());
  }
  return out;
}

Module::Named Module::named_buffers(const std::string& prefix) const {
  Named out;
  for (auto& [n, t] : buffers_) out.emplace_back(prefix + n, t);
  for (auto& [n, c] : children_) {
    auto sub = c->named_buffers(prefix + n + ".");
    out.insert(out.end(), sub.begin(), sub.end());
  }
  return out;
}

std::vector<Tensor*> Module::parameters() const {
  std::vector<Tensor*> out;
  for (auto& [n, t] : named_parameters()) out.push_back(t);
  return out;
}

int64_t Module::num_parameters() const {
  int64_t n = 0;
  for (auto* t : parameters()) n += t->numel();
  return n;
}

std::map<std::string, Tensor> Module::state_dict() const {
  std::map<std::string, Tensor> out;
  for (auto& [n, t] : named_parameters()) out[n] = t->detach();
  for (auto& [n, t] : named_buffers()) out[n] = t->detach();
  return out;
}

void Module::load_state_dict(const std::map<std::string, Tensor>& state,
                             const std::string& source) {
  auto all = named_parameters();
  auto bufs = named_buffers();
  all.insert(all.end(), bufs.begin(), bufs.end());
  std::set<std::string> known;
  for (auto& [name, t] : all) {
    known.insert(name);
    auto it = state.find(name);
    if (it == state.end()) throw error_at(source, "missing tensor '" + name + "'");
    const Tensor& v = it->second;
    if (v.shape() != t->shape())
      throw error_at(source, "tensor '" + name + "': expected shape " + t->shape().str() +
                                 ", got " + v.shape().str());
    const bool req = t->requires_grad();
    Tensor c = v.dtype() == t->dtype() ? v.clone() : ag::cast(v.detach(), t->dtype()).clone();
    *t = c;
    if (req) t->set_requires_grad(true);
  }
  for (auto& [name, v] : state)
    if (!known.count(name)) throw error_at(source, "unexpected tensor '" + name + "'");
}

void Module::to(DType dtype) {
  auto convert = [dtype](Tensor* t) {
    if (!t->is_floating() || t->dtype() == dtype) return;
    const bool req = t->requires_grad();
    ag::NoGradGuard ng;
    *t = ag::cast(*t, dtype);
    if (req) t->set_requires_grad(true);
  };
  for (auto& [n, t] : named_parameters()) convert(t);
  for (auto& [n, t] : named_buffers()) convert(t);
}

void Module::zero_grad() {
  for (auto* t : parameters()) t->set_grad(Tensor());
}

void Module::register_parameter(const std::string& name, Tensor* t) {
  t->set_requires_grad(true);
  params_.emplace_back(name, t);
}

void Module::register_buffer(const std::string& name, Tensor* t) {
  buffers_.emplace_back(name, t);
}

void Module::replace_module(const std::string& name, std::shared_ptr<Module> m) {
  for (auto& [n, c] : children_)
    if (n == name) {
      c = std::move(m);
      return;
    }
  throw Error("replace_module: no child '" + name + "'");
}

void Sequential::replace(size_t i, std::shared_ptr<Module> m) {
  if (i >= layers_.size()) throw Error("Sequential::replace: index out of range");
  layers_[i] = m;
  replace_module(std::to_string(i), std::move(m));
}

Tensor Sequential::forward(const Tensor& x) {
  Tensor h = x;
  for (auto& l : layers_) h = l->forward(h);
  return h;
}

}  // namespace agilenn::nn
