// Reductions and broadcasting. sum/expand/sum_to are each other's adjoints; max/min route the
// gradient to the extreme elements (shared evenly between ties, as PyTorch's amax).
#include <algorithm>
#include <limits>

#include "autograd/op_util.h"

namespace agilenn::ag {

using namespace detail;

namespace {

enum class Reduce { Sum, Max, Min };

// Shape with the reduced axes kept as size 1.
Shape keepdim_shape(const Shape& s, const std::vector<bool>& reduced) {
  Shape k;
  for (int i = 0; i < s.ndim(); ++i) k.push_back(reduced[i] ? 1 : s[i]);
  return k;
}

std::vector<bool> axes_mask(const std::vector<int>& axes, int ndim, const char* op) {
  std::vector<bool> m(ndim, axes.empty());
  for (int a : axes) {
    int n = normalize_axis(a, ndim);
    if (m[n] && !axes.empty())
      throw Error(std::string(op) + ": axis " + std::to_string(a) + " given twice");
    m[n] = true;
  }
  return m;
}

// Reduce `a` into a tensor of shape `kshape` (a's shape with size-1 dims where reduced). No graph.
Tensor reduce_into(const Tensor& a, const Shape& kshape, Reduce kind, const char* op) {
  check_float(a, op);
  Tensor out = Tensor::empty(kshape, a.dtype());
  const BroadcastPlan p = make_broadcast_plan(a.shape(), kshape, a.shape());
  AG_DISPATCH_FLOAT(a.dtype(), op, {
    T* o = out.data<T>();
    const T* x = a.data<T>();
    const int64_t on = out.numel();
    const T init = kind == Reduce::Sum   ? T(0)
                   : kind == Reduce::Max ? -std::numeric_limits<T>::infinity()
                                         : std::numeric_limits<T>::infinity();
    std::fill(o, o + on, init);
    if (a.numel() > 0 && p.ndim == 0) {
      o[0] = kind == Reduce::Sum ? x[0] + o[0] : x[0];
    } else if (a.numel() > 0) {
      // Walk the input in order; the output offset advances with stride 0 along reduced dims.
      const int last = p.ndim - 1;
      const int64_t n_in = p.size[last], sb = p.sb[last];
      const int64_t outer = p.numel / n_in;
      int64_t idx[Shape::kMaxDims] = {};
      int64_t ob = 0;
      for (int64_t q = 0; q < outer; ++q) {
        const T* src = x + q * n_in;
        T* dst = o + ob;
        if (sb == 1) {
          if (kind == Reduce::Sum)
            for (int64_t i = 0; i < n_in; ++i) dst[i] += src[i];
          else if (kind == Reduce::Max)
            for (int64_t i = 0; i < n_in; ++i) dst[i] = std::max(dst[i], src[i]);
          else
            for (int64_t i = 0; i < n_in; ++i) dst[i] = std::min(dst[i], src[i]);
        } else {
          T acc = dst[0];
          if (kind == Reduce::Sum)
            for (int64_t i = 0; i < n_in; ++i) acc += src[i];
          else if (kind == Reduce::Max)
            for (int64_t i = 0; i < n_in; ++i) acc = std::max(acc, src[i]);
          else
            for (int64_t i = 0; i < n_in; ++i) acc = std::min(acc, src[i]);
          dst[0] = acc;
        }
        for (int d = last - 1; d >= 0; --d) {
          ob += p.sb[d];
          if (++idx[d] < p.size[d]) break;
          ob -= p.sb[d] * p.size[d];
          idx[d] = 0;
        }
      }
    }
  });
  return out;
}

Shape drop_reduced(const Shape& s, const std::vector<bool>& reduced) {
  Shape r;
  for (int i = 0; i < s.ndim(); ++i)
    if (!reduced[i]) r.push_back(s[i]);
  return r;
}

Tensor extreme(const Tensor& a, std::vector<int> axes, bool keepdim, Reduce kind,
               const char* name) {
  check_float(a, name);
  const auto red = axes_mask(axes, a.ndim(), name);
  const Shape ks = keepdim_shape(a.shape(), red);
  for (int i = 0; i < a.ndim(); ++i)
    if (red[i] && a.dim(i) == 0) throw Error(std::string(name) + ": reduction over an empty axis");
  Tensor k = reduce_into(a, ks, kind, name);
  Tensor out = keepdim ? k : reshape(k, drop_reduced(a.shape(), red));
  if (any_requires_grad({&a})) {
    record(out, name, {a}, [a, k, ks](Node&, const Tensor& g) {
      Tensor mask, count;
      {
        NoGradGuard ng;
        mask = eq(a, k);
        count = reduce_into(mask, ks, Reduce::Sum, "amax");
      }
      return std::vector<Tensor>{mul(expand(reshape(g, ks), a.shape()), div(mask, count))};
    });
  }
  return out;
}

}  // namespace

Tensor sum(const Tensor& a, std::vector<int> axes, bool keepdim) {
  check_float(a, "sum");
  const auto red = axes_mask(axes, a.ndim(), "sum");
  const Shape ks = keepdim_shape(a.shape(), red);
  Tensor k = reduce_into(a, ks, Reduce::Sum, "sum");
  Tensor out = keepdim ? k
                       : Tensor(std::make_shared<TensorImpl>(drop_reduced(a.shape(), red),
                                                             k.dtype(), k.impl()->storage));
  if (any_requires_grad({&a})) {
    record(out, "sum", {a}, [ks, as = a.shape()](Node&, const Tensor& g) {
      return std::vector<Tensor>{expand(reshape(g, ks), as)};
    });
  }
  return out;
}

Tensor mean(const Tensor& a, std::vector<int> axes, bool keepdim) {
  check_float(a, "mean");
  const auto red = axes_mask(axes, a.ndim(), "mean");
  int64_t count = 1;
  for (int i = 0; i < a.ndim(); ++i)
    if (red[i]) count *= a.dim(i);
  if (count == 0) throw Error("mean: reduction over an empty axis");
  return mul(sum(a, axes, keepdim), 1.0 / double(count));
}

Tensor amax(const Tensor& a, std::vector<int> axes, bool keepdim) {
  return extreme(a, std::move(axes), keepdim, Reduce::Max, "amax");
}
Tensor amin(const Tensor& a, std::vector<int> axes, bool keepdim) {
  return extreme(a, std::move(axes), keepdim, Reduce::Min, "amin");
}

Tensor expand(const Tensor& a, const Shape& shape) {
  check_float(a, "expand");
  if (broadcast_shapes(a.shape(), shape) != shape)
    throw Error("expand: cannot broadcast " + a.shape().str() + " to " + shape.str());
  if (a.shape() == shape) return a;
  Tensor out = Tensor::empty(shape, a.dtype());
  const BroadcastPlan p = make_broadcast_plan(a.shape(), Shape{}, shape);
  AG_DISPATCH_FLOAT(a.dtype(), "expand", {
    const T zero = 0;
    broadcast_loop<T>(p, a.data<T>(), &zero, out.data<T>(), [](T x, T) { return x; });
  });
  if (any_requires_grad({&a}))
    record(out, "expand", {a},
           [as = a.shape()](Node&, const Tensor& g) { return std::vector<Tensor>{sum_to(g, as)}; });
  return out;
}

Tensor sum_to(const Tensor& a, const Shape& shape) {
  check_float(a, "sum_to");
  if (a.shape() == shape) return a;
  if (broadcast_shapes(shape, a.shape()) != a.shape())
    throw Error("sum_to: " + a.shape().str() + " is not a broadcast of " + shape.str());
  // Reduce leading extra dims and dims that are 1 in `shape`, keeping rank, then view as `shape`.
  const int lead = a.ndim() - shape.ndim();
  Shape ks;
  for (int i = 0; i < a.ndim(); ++i) ks.push_back(i < lead ? 1 : shape[i - lead]);
  Tensor k = reduce_into(a, ks, Reduce::Sum, "sum_to");
  Tensor out(std::make_shared<TensorImpl>(shape, k.dtype(), k.impl()->storage));
  if (any_requires_grad({&a}))
    record(out, "sum_to", {a},
           [as = a.shape()](Node&, const Tensor& g) { return std::vector<Tensor>{expand(g, as)}; });
  return out;
}

}  // namespace agilenn::ag
