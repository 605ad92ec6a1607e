#include "autograd/tensor.h"

#include <atomic>
#include <cmath>
#include <cstring>
#include <sstream>

#include "autograd/engine.h"
#include "autograd/graph.h"
#include "autograd/ops.h"
#include "nn/io/error.h"

namespace agilenn::ag {

namespace {
std::atomic<int64_t> g_live_tensors{0};
}

size_t dtype_size(DType t) {
  return t == DType::F64 ? 8 : 4;
}
const char* dtype_name(DType t) {
  switch (t) {
    case DType::F32:
      return "float32";
    case DType::F64:
      return "float64";
    case DType::I32:
      return "int32";
  }
  return "?";
}

TensorImpl::TensorImpl(const Shape& s, DType t, std::shared_ptr<Storage> st)
    : shape(s), dtype(t), storage(std::move(st)) {
  g_live_tensors.fetch_add(1, std::memory_order_relaxed);
}
TensorImpl::~TensorImpl() {
  g_live_tensors.fetch_sub(1, std::memory_order_relaxed);
}
int64_t live_tensor_count() {
  return g_live_tensors.load();
}

Tensor Tensor::empty(const Shape& shape, DType dtype) {
  auto st = std::make_shared<Storage>(size_t(shape.numel()) * dtype_size(dtype));
  return Tensor(std::make_shared<TensorImpl>(shape, dtype, std::move(st)));
}
Tensor Tensor::zeros(const Shape& shape, DType dtype) {
  Tensor t = empty(shape, dtype);
  std::memset(t.raw_data(), 0, size_t(t.numel()) * dtype_size(dtype));
  return t;
}
Tensor Tensor::full(const Shape& shape, double value, DType dtype) {
  Tensor t = empty(shape, dtype);
  const int64_t n = t.numel();
  switch (dtype) {
    case DType::F32: {
      float* p = t.data<float>();
      for (int64_t i = 0; i < n; ++i) p[i] = float(value);
      break;
    }
    case DType::F64: {
      double* p = t.data<double>();
      for (int64_t i = 0; i < n; ++i) p[i] = value;
      break;
    }
    case DType::I32: {
      int32_t* p = t.data<int32_t>();
      for (int64_t i = 0; i < n; ++i) p[i] = int32_t(value);
      break;
    }
  }
  return t;
}
Tensor Tensor::scalar(double value, DType dtype) {
  return full(Shape{}, value, dtype);
}
Tensor Tensor::from_vector(const std::vector<double>& values, const Shape& shape, DType dtype) {
  if (int64_t(values.size()) != shape.numel())
    throw Error("from_vector: " + std::to_string(values.size()) + " values for shape " +
                shape.str());
  Tensor t = empty(shape, dtype);
  for (size_t i = 0; i < values.size(); ++i) {
    switch (dtype) {
      case DType::F32:
        t.data<float>()[i] = float(values[i]);
        break;
      case DType::F64:
        t.data<double>()[i] = values[i];
        break;
      case DType::I32:
        t.data<int32_t>()[i] = int32_t(values[i]);
        break;
    }
  }
  return t;
}
Tensor Tensor::from_floats(const std::vector<float>& values, const Shape& shape) {
  if (int64_t(values.size()) != shape.numel())
    throw Error("from_floats: " + std::to_string(values.size()) + " values for shape " +
                shape.str());
  Tensor t = empty(shape, DType::F32);
  if (!values.empty()) std::memcpy(t.raw_data(), values.data(), values.size() * sizeof(float));
  return t;
}
Tensor Tensor::from_ints(const std::vector<int32_t>& values, const Shape& shape) {
  if (int64_t(values.size()) != shape.numel())
    throw Error("from_ints: " + std::to_string(values.size()) + " values for shape " + shape.str());
  Tensor t = empty(shape, DType::I32);
  if (!values.empty()) std::memcpy(t.raw_data(), values.data(), values.size() * sizeof(int32_t));
  return t;
}

const Shape& Tensor::shape() const {
  if (!impl_) throw Error("use of an undefined tensor");
  return impl_->shape;
}
int64_t Tensor::numel() const {
  return shape().numel();
}
DType Tensor::dtype() const {
  if (!impl_) throw Error("use of an undefined tensor");
  return impl_->dtype;
}
void* Tensor::raw_data() const {
  if (!impl_) throw Error("use of an undefined tensor");
  return impl_->storage->data();
}
template <>
float* Tensor::data<float>() const {
  if (dtype() != DType::F32)
    throw Error(std::string("data<float>() on a ") + dtype_name(dtype()) + " tensor");
  return static_cast<float*>(raw_data());
}
template <>
double* Tensor::data<double>() const {
  if (dtype() != DType::F64)
    throw Error(std::string("data<double>() on a ") + dtype_name(dtype()) + " tensor");
  return static_cast<double*>(raw_data());
}
template <>
int32_t* Tensor::data<int32_t>() const {
  if (dtype() != DType::I32)
    throw Error(std::string("data<int32_t>() on a ") + dtype_name(dtype()) + " tensor");
  return static_cast<int32_t*>(raw_data());
}

std::vector<double> Tensor::to_vector() const {
  const int64_t n = numel();
  std::vector<double> v(size_t(n), 0.0);
  for (int64_t i = 0; i < n; ++i) {
    switch (dtype()) {
      case DType::F32:
        v[i] = data<float>()[i];
        break;
      case DType::F64:
        v[i] = data<double>()[i];
        break;
      case DType::I32:
        v[i] = data<int32_t>()[i];
        break;
    }
  }
  return v;
}
std::vector<float> Tensor::to_floats() const {
  if (dtype() == DType::F32) return std::vector<float>(data<float>(), data<float>() + numel());
  auto v = to_vector();
  return std::vector<float>(v.begin(), v.end());
}
double Tensor::item() const {
  if (numel() != 1) throw Error("item() on a tensor of shape " + shape().str());
  return to_vector()[0];
}
Tensor Tensor::clone() const {
  Tensor t = empty(shape(), dtype());
  std::memcpy(t.raw_data(), raw_data(), size_t(numel()) * dtype_size(dtype()));
  return t;
}
Tensor Tensor::to(DType t) const {
  return cast(*this, t);
}

std::string Tensor::str(int max_items) const {
  if (!impl_) return "Tensor(undefined)";
  std::ostringstream os;
  os << "Tensor(" << dtype_name(dtype()) << ", " << shape().str() << ", [";
  auto v = to_vector();
  for (int64_t i = 0; i < int64_t(v.size()) && i < max_items; ++i) os << (i ? ", " : "") << v[i];
  if (int64_t(v.size()) > max_items) os << ", ...";
  os << "])";
  return os.str();
}

bool Tensor::requires_grad() const {
  return impl_ && (impl_->requires_grad || impl_->grad_fn);
}
Tensor& Tensor::set_requires_grad(bool r) {
  if (!impl_) throw Error("set_requires_grad on an undefined tensor");
  if (impl_->grad_fn)
    throw Error("set_requires_grad: only leaf tensors (not results of ops) can be set");
  if (r && !is_floating()) throw Error("set_requires_grad: int32 tensors cannot require gradients");
  impl_->requires_grad = r;
  if (!r) impl_->accumulator.reset();
  return *this;
}
bool Tensor::is_leaf() const {
  return impl_ && !impl_->grad_fn;
}
const std::shared_ptr<Node>& Tensor::grad_fn() const {
  static const std::shared_ptr<Node> none;
  return impl_ ? impl_->grad_fn : none;
}
Tensor Tensor::grad() const {
  return impl_ && impl_->grad ? Tensor(impl_->grad) : Tensor();
}
void Tensor::set_grad(const Tensor& g) {
  if (!impl_) throw Error("set_grad on an undefined tensor");
  if (g.defined() && g.shape() != shape())
    throw Error("set_grad: gradient shape " + g.shape().str() + " != tensor shape " +
                shape().str());
  impl_->grad = g.impl_ptr();
}
Tensor Tensor::detach() const {
  return Tensor(std::make_shared<TensorImpl>(shape(), dtype(), impl_->storage));
}

void Tensor::backward(const Tensor& grad_output, bool retain_graph, bool create_graph) const {
  ag::backward({*this}, {grad_output}, retain_graph, create_graph);
}

std::shared_ptr<Node> gradient_edge(const Tensor& t) {
  TensorImpl* impl = t.impl();
  if (!impl) return nullptr;
  if (impl->grad_fn) return impl->grad_fn;
  if (!impl->requires_grad) return nullptr;
  if (!impl->accumulator) {
    impl->accumulator = std::make_shared<Node>("AccumulateGrad");
    impl->accumulator->leaf = t.impl_ptr();
    impl->accumulator->is_accumulator = true;
  }
  return impl->accumulator;
}

}  // namespace agilenn::ag
