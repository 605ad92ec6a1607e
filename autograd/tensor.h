// Tensor: a shared handle to contiguous storage with a shape, a dtype and autograd metadata.
// Copies of a Tensor share everything (like torch.Tensor). Data is always contiguous, row-major;
// reshape returns a view sharing storage, every other op returns fresh storage.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "autograd/shape.h"
#include "autograd/storage.h"

namespace agilenn::ag {

enum class DType : uint8_t { F32, F64, I32 };
size_t dtype_size(DType t);
const char* dtype_name(DType t);

struct Node;
struct TensorImpl;

class Tensor {
 public:
  Tensor() = default;
  explicit Tensor(std::shared_ptr<TensorImpl> impl) : impl_(std::move(impl)) {}

  // ---- factories
  static Tensor empty(const Shape& shape, DType dtype = DType::F32);
  static Tensor zeros(const Shape& shape, DType dtype = DType::F32);
  static Tensor full(const Shape& shape, double value, DType dtype = DType::F32);
  static Tensor scalar(double value, DType dtype = DType::F32);
  static Tensor from_vector(const std::vector<double>& values, const Shape& shape,
                            DType dtype = DType::F32);
  static Tensor from_floats(const std::vector<float>& values, const Shape& shape);
  static Tensor from_ints(const std::vector<int32_t>& values, const Shape& shape);

  // ---- properties
  bool defined() const { return impl_ != nullptr; }
  const Shape& shape() const;
  int ndim() const { return shape().ndim(); }
  int64_t dim(int i) const { return shape()[i]; }
  int64_t numel() const;
  DType dtype() const;
  bool is_floating() const { return dtype() != DType::I32; }
  template <typename T>
  T* data() const;  // checked against dtype
  void* raw_data() const;
  double item() const;                    // single-element tensors
  std::vector<double> to_vector() const;  // any dtype, as double
  std::vector<float> to_floats() const;
  Tensor to(DType dtype) const;  // copy, differentiable between float types
  Tensor clone() const;          // copy of the data, no graph
  std::string str(int max_items = 16) const;

  // ---- autograd
  bool requires_grad() const;
  Tensor& set_requires_grad(bool r = true);  // leaves only
  bool is_leaf() const;
  const std::shared_ptr<Node>& grad_fn() const;
  Tensor grad() const;             // accumulated by backward(); undefined if none
  void set_grad(const Tensor& g);  // undefined clears
  // torch.Tensor.backward: seeds with ones for a scalar when grad_output is undefined.
  void backward(const Tensor& grad_output = Tensor(), bool retain_graph = false,
                bool create_graph = false) const;
  Tensor detach() const;  // shares storage, no graph

  TensorImpl* impl() const { return impl_.get(); }
  const std::shared_ptr<TensorImpl>& impl_ptr() const { return impl_; }
  bool same(const Tensor& o) const { return impl_ == o.impl_; }

 private:
  std::shared_ptr<TensorImpl> impl_;
};

template <>
float* Tensor::data<float>() const;
template <>
double* Tensor::data<double>() const;
template <>
int32_t* Tensor::data<int32_t>() const;

struct TensorImpl {
  TensorImpl(const Shape& s, DType t, std::shared_ptr<Storage> st);
  ~TensorImpl();
  Shape shape;
  DType dtype;
  std::shared_ptr<Storage> storage;
  bool requires_grad = false;
  std::shared_ptr<Node> grad_fn;      // set for results of recorded ops
  std::shared_ptr<Node> accumulator;  // leaves: created on first use, routes gradients here
  std::shared_ptr<TensorImpl> grad;
};

// The node gradients of `t` flow into: its grad_fn, or the leaf's accumulator.
std::shared_ptr<Node> gradient_edge(const Tensor& t);

int64_t live_tensor_count();  // TensorImpl objects alive (for leak tests)

}  // namespace agilenn::ag
