#include "autograd/shape.h"

#include <stdexcept>

#include "nn/io/error.h"

namespace agilenn::ag {

Shape::Shape(std::initializer_list<int64_t> dims) {
  for (int64_t d : dims) push_back(d);
}
Shape::Shape(const std::vector<int64_t>& dims) {
  for (int64_t d : dims) push_back(d);
}
void Shape::push_back(int64_t v) {
  if (n_ == kMaxDims) throw Error("shape: more than 8 dimensions");
  if (v < 0) throw Error("shape: negative dimension " + std::to_string(v));
  d_[n_++] = v;
}
int64_t Shape::numel() const {
  int64_t n = 1;
  for (int i = 0; i < n_; ++i) n *= d_[i];
  return n;
}
bool Shape::operator==(const Shape& o) const {
  if (n_ != o.n_) return false;
  for (int i = 0; i < n_; ++i)
    if (d_[i] != o.d_[i]) return false;
  return true;
}
std::string Shape::str() const {
  std::string s = "[";
  for (int i = 0; i < n_; ++i) s += (i ? ", " : "") + std::to_string(d_[i]);
  return s + "]";
}

Shape broadcast_shapes(const Shape& a, const Shape& b) {
  const int n = std::max(a.ndim(), b.ndim());
  std::vector<int64_t> out(n);
  for (int i = 0; i < n; ++i) {
    int64_t da = i < n - a.ndim() ? 1 : a[i - (n - a.ndim())];
    int64_t db = i < n - b.ndim() ? 1 : b[i - (n - b.ndim())];
    if (da != db && da != 1 && db != 1)
      throw Error("shapes " + a.str() + " and " + b.str() + " do not broadcast");
    out[i] = da == 1 ? db : da;
  }
  return Shape(out);
}

int normalize_axis(int axis, int ndim) {
  int a = axis < 0 ? axis + ndim : axis;
  if (a < 0 || a >= ndim)
    throw Error("axis " + std::to_string(axis) + " out of range for " + std::to_string(ndim) +
                " dims");
  return a;
}

}  // namespace agilenn::ag
