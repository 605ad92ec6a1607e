// Tensor shapes: up to 8 dims stored inline (no heap allocation per tensor).
#pragma once
#include <cstdint>
#include <initializer_list>
#include <string>
#include <vector>

namespace agilenn::ag {

class Shape {
 public:
  static constexpr int kMaxDims = 8;
  Shape() = default;
  Shape(std::initializer_list<int64_t> dims);
  explicit Shape(const std::vector<int64_t>& dims);

  int ndim() const { return n_; }
  int64_t operator[](int i) const { return d_[i < 0 ? i + n_ : i]; }
  int64_t& operator[](int i) { return d_[i < 0 ? i + n_ : i]; }
  int64_t numel() const;
  void push_back(int64_t v);
  std::vector<int64_t> vec() const { return std::vector<int64_t>(d_, d_ + n_); }
  bool operator==(const Shape& o) const;
  bool operator!=(const Shape& o) const { return !(*this == o); }
  std::string str() const;  // "[2, 3]"
  const int64_t* begin() const { return d_; }
  const int64_t* end() const { return d_ + n_; }

 private:
  int64_t d_[kMaxDims] = {};
  int n_ = 0;
};

// Shape both operands broadcast to (numpy rules); throws naming both shapes.
Shape broadcast_shapes(const Shape& a, const Shape& b);
// Normalise an axis (negative counts from the end); throws if out of range.
int normalize_axis(int axis, int ndim);

}  // namespace agilenn::ag
