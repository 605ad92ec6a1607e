// Shape ops. reshape is a view; permute/slice/concat copy. slice and pad_axis are adjoints.
#include <cstring>

#include "autograd/op_util.h"

namespace agilenn::ag {

using namespace detail;

Tensor reshape(const Tensor& a, const Shape& shape) {
  check_defined(a, "reshape");
  if (shape.numel() != a.numel())
    throw Error("reshape: cannot view " + a.shape().str() + " as " + shape.str());
  if (shape == a.shape()) return a;
  Tensor out(std::make_shared<TensorImpl>(shape, a.dtype(), a.impl()->storage));
  if (any_requires_grad({&a}))
    record(out, "reshape", {a}, [as = a.shape()](Node&, const Tensor& g) {
      return std::vector<Tensor>{reshape(g, as)};
    });
  return out;
}

Tensor reshape(const Tensor& a, const std::vector<int64_t>& dims) {
  check_defined(a, "reshape");
  int infer = -1;
  int64_t known = 1;
  for (size_t i = 0; i < dims.size(); ++i) {
    if (dims[i] == -1) {
      if (infer >= 0) throw Error("reshape: more than one -1 dimension");
      infer = int(i);
    } else {
      known *= dims[i];
    }
  }
  std::vector<int64_t> d = dims;
  if (infer >= 0) {
    if (known == 0 || a.numel() % known != 0)
      throw Error("reshape: cannot infer -1 for " + a.shape().str());
    d[infer] = a.numel() / known;
  }
  return reshape(a, Shape(d));
}

Tensor permute(const Tensor& a, const std::vector<int>& perm) {
  check_defined(a, "permute");
  const int n = a.ndim();
  if (int(perm.size()) != n)
    throw Error("permute: " + std::to_string(perm.size()) + " axes for " + a.shape().str());
  std::vector<bool> seen(n, false);
  Shape out_shape;
  for (int i = 0; i < n; ++i) {
    int p = normalize_axis(perm[i], n);
    if (seen[p]) throw Error("permute: axis repeated");
    seen[p] = true;
    out_shape.push_back(a.dim(p));
  }
  Tensor out = Tensor::empty(out_shape, a.dtype());
  // Source strides, reordered to the output's axis order.
  int64_t in_stride[Shape::kMaxDims], st[Shape::kMaxDims];
  int64_t r = 1;
  for (int i = n - 1; i >= 0; --i) {
    in_stride[i] = r;
    r *= a.dim(i);
  }
  for (int i = 0; i < n; ++i) st[i] = in_stride[normalize_axis(perm[i], n)];
  const size_t es = dtype_size(a.dtype());
  const char* src = static_cast<const char*>(a.raw_data());
  char* dst = static_cast<char*>(out.raw_data());
  int64_t idx[Shape::kMaxDims] = {};
  int64_t off = 0;
  const int64_t total = out.numel();
  for (int64_t i = 0; i < total; ++i) {
    std::memcpy(dst + i * es, src + off * es, es);
    for (int d = n - 1; d >= 0; --d) {
      off += st[d];
      if (++idx[d] < out_shape[d]) break;
      off -= st[d] * out_shape[d];
      idx[d] = 0;
    }
  }
  if (any_requires_grad({&a})) {
    std::vector<int> inv(n);
    for (int i = 0; i < n; ++i) inv[normalize_axis(perm[i], n)] = i;
    record(out, "permute", {a},
           [inv](Node&, const Tensor& g) { return std::vector<Tensor>{permute(g, inv)}; });
  }
  return out;
}

Tensor transpose(const Tensor& a) {
  if (a.ndim() != 2) throw Error("transpose: needs a 2-D tensor, got " + a.shape().str());
  return permute(a, {1, 0});
}

// Copies blocks: the tensor is viewed as (outer, len, inner) around `axis`.
static void copy_axis_block(const Tensor& src, Tensor& dst, int axis, int64_t src_start,
                            int64_t dst_start, int64_t count) {
  const Shape& ss = src.shape();
  const Shape& ds = dst.shape();
  int64_t outer = 1, inner = 1;
  for (int i = 0; i < axis; ++i) outer *= ss[i];
  for (int i = axis + 1; i < ss.ndim(); ++i) inner *= ss[i];
  const size_t es = dtype_size(src.dtype());
  const char* s = static_cast<const char*>(src.raw_data());
  char* d = static_cast<char*>(dst.raw_data());
  const int64_t slen = ss[axis], dlen = ds[axis];
  for (int64_t o = 0; o < outer; ++o)
    std::memcpy(d + ((o * dlen + dst_start) * inner) * es,
                s + ((o * slen + src_start) * inner) * es, size_t(count * inner) * es);
}

Tensor slice(const Tensor& a, int axis, int64_t start, int64_t end) {
  check_defined(a, "slice");
  const int ax = normalize_axis(axis, a.ndim());
  if (start < 0 || end > a.dim(ax) || start > end)
    throw Error("slice: range [" + std::to_string(start) + ", " + std::to_string(end) +
                ") out of axis " + std::to_string(axis) + " of " + a.shape().str());
  Shape os = a.shape();
  os[ax] = end - start;
  Tensor out = Tensor::empty(os, a.dtype());
  copy_axis_block(a, out, ax, start, 0, end - start);
  if (any_requires_grad({&a}))
    record(out, "slice", {a}, [ax, start, len = a.dim(ax)](Node&, const Tensor& g) {
      return std::vector<Tensor>{pad_axis(g, ax, start, len)};
    });
  return out;
}

Tensor pad_axis(const Tensor& a, int axis, int64_t before, int64_t size) {
  check_defined(a, "pad_axis");
  const int ax = normalize_axis(axis, a.ndim());
  if (before < 0 || before + a.dim(ax) > size)
    throw Error("pad_axis: " + std::to_string(before) + " + " + std::to_string(a.dim(ax)) + " > " +
                std::to_string(size));
  Shape os = a.shape();
  os[ax] = size;
  Tensor out = Tensor::zeros(os, a.dtype());
  copy_axis_block(a, out, ax, 0, before, a.dim(ax));
  if (any_requires_grad({&a}))
    record(out, "pad_axis", {a}, [ax, before, len = a.dim(ax)](Node&, const Tensor& g) {
      return std::vector<Tensor>{slice(g, ax, before, before + len)};
    });
  return out;
}

Tensor concat(const std::vector<Tensor>& xs, int axis) {
  if (xs.empty()) throw Error("concat: no tensors");
  check_defined(xs[0], "concat");
  const int ax = normalize_axis(axis, xs[0].ndim());
  Shape os = xs[0].shape();
  int64_t total = 0;
  for (size_t i = 0; i < xs.size(); ++i) {
    check_defined(xs[i], "concat");
    const Shape& s = xs[i].shape();
    bool ok = s.ndim() == os.ndim() && xs[i].dtype() == xs[0].dtype();
    for (int d = 0; ok && d < s.ndim(); ++d) ok = d == ax || s[d] == os[d];
    if (!ok)
      throw Error("concat: tensor " + std::to_string(i) + " " + s.str() + " does not match " +
                  os.str());
    total += s[ax];
  }
  os[ax] = total;
  Tensor out = Tensor::empty(os, xs[0].dtype());
  std::vector<int64_t> starts;
  int64_t at = 0;
  bool grad = false;
  for (auto& x : xs) {
    copy_axis_block(x, out, ax, 0, at, x.dim(ax));
    starts.push_back(at);
    at += x.dim(ax);
    grad = grad || any_requires_grad({&x});
  }
  if (grad) {
    std::vector<int64_t> lens;
    for (auto& x : xs) lens.push_back(x.dim(ax));
    record(out, "concat", xs, [ax, starts, lens](Node&, const Tensor& g) {
      std::vector<Tensor> gs;
      for (size_t i = 0; i < starts.size(); ++i)
        gs.push_back(slice(g, ax, starts[i], starts[i] + lens[i]));
      return gs;
    });
  }
  return out;
}

}  // namespace agilenn::ag
