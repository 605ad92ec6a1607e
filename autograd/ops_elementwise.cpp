// Elementwise ops and their backward rules. Binary rules reduce the gradient back to each operand's
// shape with sum_to (the adjoint of broadcasting).
#include <algorithm>
#include <cmath>

#include "autograd/op_util.h"
#include "autograd/storage.h"

namespace agilenn::ag {

using namespace detail;

BroadcastPlan detail::make_broadcast_plan(const Shape& a, const Shape& b, const Shape& out) {
  const int n = out.ndim();
  int64_t size[Shape::kMaxDims], sa[Shape::kMaxDims], sb[Shape::kMaxDims];
  int64_t ra = 1, rb = 1;
  for (int i = n - 1; i >= 0; --i) {
    const int ia = i - (n - a.ndim()), ib = i - (n - b.ndim());
    const int64_t da = ia >= 0 ? a[ia] : 1, db = ib >= 0 ? b[ib] : 1;
    size[i] = out[i];
    sa[i] = (da == 1 && out[i] != 1) ? 0 : ra;
    sb[i] = (db == 1 && out[i] != 1) ? 0 : rb;
    ra *= da;
    rb *= db;
  }
  BroadcastPlan p;
  p.numel = out.numel();
  for (int i = 0; i < n; ++i) {
    if (size[i] == 1) continue;  // size-1 dims carry nothing
    if (p.ndim > 0) {
      const int j = p.ndim - 1;
      // Merge into the previous dim when each operand steps through both as one run.
      const bool merge_a = sa[i] * size[i] == sa[j] || (sa[i] == 0 && sa[j] == 0);
      const bool merge_b = sb[i] * size[i] == sb[j] || (sb[i] == 0 && sb[j] == 0);
      if (merge_a && merge_b) {
        p.size[j] *= size[i];
        p.sa[j] = sa[i];
        p.sb[j] = sb[i];
        continue;
      }
    }
    p.size[p.ndim] = size[i];
    p.sa[p.ndim] = sa[i];
    p.sb[p.ndim] = sb[i];
    ++p.ndim;
  }
  return p;
}

namespace {

template <typename F>
Tensor binary_forward(const Tensor& a, const Tensor& b, const char* op, F f) {
  check_same_dtype(a, b, op);
  const Shape out_shape = broadcast_shapes(a.shape(), b.shape());
  Tensor out = Tensor::empty(out_shape, a.dtype());
  const BroadcastPlan p = make_broadcast_plan(a.shape(), b.shape(), out_shape);
  AG_DISPATCH_FLOAT(a.dtype(), op,
                    broadcast_loop<T>(p, a.data<T>(), b.data<T>(), out.data<T>(), f));
  return out;
}

template <typename F>
Tensor unary_forward(const Tensor& a, const char* op, F f) {
  check_float(a, op);
  Tensor out = Tensor::empty(a.shape(), a.dtype());
  AG_DISPATCH_FLOAT(a.dtype(), op, unary_loop<T>(a.numel(), a.data<T>(), out.data<T>(), f));
  return out;
}

// A constant (no-graph) 0/1 mask from a comparison.
template <typename F>
Tensor compare(const Tensor& a, const Tensor& b, const char* op, F f) {
  NoGradGuard ng;
  return binary_forward(a, b, op, [f](auto x, auto y) { return decltype(x)(f(x, y) ? 1 : 0); });
}

}  // namespace

// ======================================================================= binary arithmetic
Tensor add(const Tensor& a, const Tensor& b) {
  Tensor out = binary_forward(a, b, "add", [](auto x, auto y) { return x + y; });
  if (any_requires_grad({&a, &b})) {
    record(
        out, "add", {a, b},
        [sa = a.shape(), sb = b.shape(), ra = a.requires_grad(), rb = b.requires_grad()](
            Node&, const Tensor& g) {
          return std::vector<Tensor>{ra ? sum_to(g, sa) : Tensor(), rb ? sum_to(g, sb) : Tensor()};
        });
  }
  return out;
}

Tensor sub(const Tensor& a, const Tensor& b) {
  Tensor out = binary_forward(a, b, "sub", [](auto x, auto y) { return x - y; });
  if (any_requires_grad({&a, &b})) {
    record(out, "sub", {a, b},
           [sa = a.shape(), sb = b.shape(), ra = a.requires_grad(), rb = b.requires_grad()](
               Node&, const Tensor& g) {
             return std::vector<Tensor>{ra ? sum_to(g, sa) : Tensor(),
                                        rb ? neg(sum_to(g, sb)) : Tensor()};
           });
  }
  return out;
}

Tensor mul(const Tensor& a, const Tensor& b) {
  Tensor out = binary_forward(a, b, "mul", [](auto x, auto y) { return x * y; });
  if (any_requires_grad({&a, &b})) {
    record(out, "mul", {a, b}, [a, b](Node&, const Tensor& g) {
      return std::vector<Tensor>{a.requires_grad() ? sum_to(mul(g, b), a.shape()) : Tensor(),
                                 b.requires_grad() ? sum_to(mul(g, a), b.shape()) : Tensor()};
    });
  }
  return out;
}

Tensor div(const Tensor& a, const Tensor& b) {
  Tensor out = binary_forward(a, b, "div", [](auto x, auto y) { return x / y; });
  if (any_requires_grad({&a, &b})) {
    record(out, "div", {a, b}, [a, b](Node&, const Tensor& g) {
      Tensor ga, gb;
      if (a.requires_grad()) ga = sum_to(div(g, b), a.shape());
      if (b.requires_grad()) gb = sum_to(neg(div(mul(g, a), mul(b, b))), b.shape());  // -g a / b^2
      return std::vector<Tensor>{ga, gb};
    });
  }
  return out;
}

// d max(a,b): the larger operand takes the gradient; ties split it evenly (as PyTorch).
static Tensor select_weight(const Tensor& a, const Tensor& b, bool larger) {
  NoGradGuard ng;
  return binary_forward(a, b, "maximum", [larger](auto x, auto y) {
    using T = decltype(x);
    if (x == y) return T(0.5);
    return T((x > y) == larger ? 1 : 0);
  });
}

static Tensor extremum(const Tensor& a, const Tensor& b, bool larger, const char* name) {
  Tensor out = binary_forward(
      a, b, name, [larger](auto x, auto y) { return larger ? (x > y ? x : y) : (x < y ? x : y); });
  if (any_requires_grad({&a, &b})) {
    record(out, name, {a, b}, [a, b, larger](Node&, const Tensor& g) {
      Tensor wa = select_weight(a, b, larger);  // constant: the choice is piecewise constant
      Tensor ga = a.requires_grad() ? sum_to(mul(g, wa), a.shape()) : Tensor();
      Tensor gb = b.requires_grad() ? sum_to(mul(g, rsub(1.0, wa)), b.shape()) : Tensor();
      return std::vector<Tensor>{ga, gb};
    });
  }
  return out;
}
Tensor maximum(const Tensor& a, const Tensor& b) {
  return extremum(a, b, true, "maximum");
}
Tensor minimum(const Tensor& a, const Tensor& b) {
  return extremum(a, b, false, "minimum");
}

// ======================================================================= with a scalar
Tensor add(const Tensor& a, double s) {
  Tensor out = unary_forward(a, "add_scalar", [s](auto x) { return x + decltype(x)(s); });
  if (any_requires_grad({&a}))
    record(out, "add_scalar", {a}, [](Node&, const Tensor& g) { return std::vector<Tensor>{g}; });
  return out;
}

Tensor mul(const Tensor& a, double s) {
  Tensor out = unary_forward(a, "mul_scalar", [s](auto x) { return x * decltype(x)(s); });
  if (any_requires_grad({&a}))
    record(out, "mul_scalar", {a},
           [s](Node&, const Tensor& g) { return std::vector<Tensor>{mul(g, s)}; });
  return out;
}

Tensor rsub(double s, const Tensor& a) {
  Tensor out = unary_forward(a, "rsub_scalar", [s](auto x) { return decltype(x)(s) - x; });
  if (any_requires_grad({&a}))
    record(out, "rsub_scalar", {a},
           [](Node&, const Tensor& g) { return std::vector<Tensor>{neg(g)}; });
  return out;
}

static Tensor extremum_scalar(const Tensor& a, double s, bool larger, const char* name) {
  Tensor out = unary_forward(a, name, [s, larger](auto x) {
    using T = decltype(x);
    return larger ? (x > T(s) ? x : T(s)) : (x < T(s) ? x : T(s));
  });
  if (any_requires_grad({&a})) {
    record(out, name, {a}, [a, s, larger, name](Node&, const Tensor& g) {
      Tensor w;
      {
        NoGradGuard ng;
        w = unary_forward(a, name, [s, larger](auto x) {
          using T = decltype(x);
          if (x == T(s)) return T(0.5);
          return T((x > T(s)) == larger ? 1 : 0);
        });
      }
      return std::vector<Tensor>{mul(g, w)};
    });
  }
  return out;
}
Tensor maximum(const Tensor& a, double s) {
  return extremum_scalar(a, s, true, "maximum_scalar");
}
Tensor minimum(const Tensor& a, double s) {
  return extremum_scalar(a, s, false, "minimum_scalar");
}

// ======================================================================= unary math
Tensor neg(const Tensor& a) {
  Tensor out = unary_forward(a, "neg", [](auto x) { return -x; });
  if (any_requires_grad({&a}))
    record(out, "neg", {a}, [](Node&, const Tensor& g) { return std::vector<Tensor>{neg(g)}; });
  return out;
}

Tensor exp(const Tensor& a) {
  Tensor out = unary_forward(a, "exp", [](auto x) { return std::exp(x); });
  if (any_requires_grad({&a}))  // d exp = exp
    record(
        out, "exp", {a},
        [](Node& self, const Tensor& g) { return std::vector<Tensor>{mul(g, self.output())}; },
        true);
  return out;
}

Tensor log(const Tensor& a) {
  Tensor out = unary_forward(a, "log", [](auto x) { return std::log(x); });
  if (any_requires_grad({&a}))
    record(out, "log", {a}, [a](Node&, const Tensor& g) { return std::vector<Tensor>{div(g, a)}; });
  return out;
}

Tensor sqrt(const Tensor& a) {
  Tensor out = unary_forward(a, "sqrt", [](auto x) { return std::sqrt(x); });
  if (any_requires_grad({&a}))  // d sqrt(a) = 1 / (2 sqrt(a))
    record(
        out, "sqrt", {a},
        [](Node& self, const Tensor& g) {
          return std::vector<Tensor>{div(mul(g, 0.5), self.output())};
        },
        true);
  return out;
}

Tensor rsqrt(const Tensor& a) {
  Tensor out = unary_forward(a, "rsqrt", [](auto x) { return decltype(x)(1) / std::sqrt(x); });
  if (any_requires_grad({&a}))  // d a^-1/2 = -1/2 a^-3/2 = -1/2 y^3
    record(
        out, "rsqrt", {a},
        [](Node& self, const Tensor& g) {
          Tensor y = self.output();
          return std::vector<Tensor>{mul(mul(g, mul(y, mul(y, y))), -0.5)};
        },
        true);
  return out;
}

Tensor pow(const Tensor& a, double p) {
  Tensor out = unary_forward(a, "pow", [p](auto x) { return decltype(x)(std::pow(x, p)); });
  if (any_requires_grad({&a}))
    record(out, "pow", {a}, [a, p](Node&, const Tensor& g) {
      if (p == 0) return std::vector<Tensor>{mul(g, 0.0)};
      return std::vector<Tensor>{mul(g, mul(pow(a, p - 1), p))};
    });
  return out;
}

Tensor sign(const Tensor& a) {
  NoGradGuard ng;
  return unary_forward(a, "sign", [](auto x) { return decltype(x)((x > 0) - (x < 0)); });
}

Tensor abs(const Tensor& a) {
  Tensor out = unary_forward(a, "abs", [](auto x) { return std::abs(x); });
  if (any_requires_grad({&a}))
    record(out, "abs", {a},
           [a](Node&, const Tensor& g) { return std::vector<Tensor>{mul(g, sign(a))}; });
  return out;
}

Tensor sigmoid(const Tensor& a) {
  Tensor out = unary_forward(a, "sigmoid", [](auto x) {
    using T = decltype(x);
    return x >= 0 ? T(1) / (T(1) + std::exp(-x)) : std::exp(x) / (T(1) + std::exp(x));
  });
  if (any_requires_grad({&a}))  // d sigmoid = y (1 - y)
    record(
        out, "sigmoid", {a},
        [](Node& self, const Tensor& g) {
          Tensor y = self.output();
          return std::vector<Tensor>{mul(g, mul(y, rsub(1.0, y)))};
        },
        true);
  return out;
}

Tensor tanh(const Tensor& a) {
  Tensor out = unary_forward(a, "tanh", [](auto x) { return std::tanh(x); });
  if (any_requires_grad({&a}))  // d tanh = 1 - y^2
    record(
        out, "tanh", {a},
        [](Node& self, const Tensor& g) {
          Tensor y = self.output();
          return std::vector<Tensor>{mul(g, rsub(1.0, mul(y, y)))};
        },
        true);
  return out;
}

Tensor silu(const Tensor& a) {
  Tensor out = unary_forward(a, "silu", [](auto x) {
    using T = decltype(x);
    const T s = x >= 0 ? T(1) / (T(1) + std::exp(-x)) : std::exp(x) / (T(1) + std::exp(x));
    return x * s;
  });
  if (any_requires_grad({&a}))  // d (a s(a)) = s (1 + a (1 - s))
    record(out, "silu", {a}, [a](Node&, const Tensor& g) {
      Tensor s = sigmoid(a);
      return std::vector<Tensor>{mul(g, mul(s, add(mul(a, rsub(1.0, s)), 1.0)))};
    });
  return out;
}

// Piecewise-linear activations: the gradient is g where lo < a < hi (bounds optionally inclusive),
// else 0. That masked copy is one fused op, linear in g, so its own gradient is the same op. The
// forward saves the window test as one byte per element instead of keeping the float input
// alive: the backward (and, in the XAI step, the double backward) reads a quarter of the bytes,
// and the pre-activation can be freed.
namespace {
struct Window {
  double lo, hi;
  bool lo_incl, hi_incl;
  template <typename T>
  bool inside(T x) const {
    return (lo_incl ? x >= T(lo) : x > T(lo)) && (hi_incl ? x <= T(hi) : x < T(hi));
  }
};

using Mask = std::shared_ptr<const Storage>;  // uint8 0/1 per element

Tensor masked_grad(const Tensor& g, const Mask& mask) {
  check_float(g, "masked_grad");
  if (mask->bytes() != size_t(g.numel()))
    throw Error("masked_grad: gradient " + g.shape().str() + " does not match the saved mask");
  Tensor out = Tensor::empty(g.shape(), g.dtype());
  AG_DISPATCH_FLOAT(g.dtype(), "masked_grad", {
    // g, mask, out (n): branch-free so it vectorises (the mask is ~50% random: branches
    // mispredict).
    const T* gp = g.data<T>();
    const uint8_t* mp = static_cast<const uint8_t*>(mask->data());
    T* o = out.data<T>();
    const int64_t n = g.numel();
    auto rows = [&](int64_t i0, int64_t i1) {
      const T* __restrict gi = gp;
      const uint8_t* __restrict mi = mp;
      T* __restrict oi = o;
      for (int64_t i = i0; i < i1; ++i) oi[i] = gi[i] * T(mi[i]);
    };
    if (n < kParallelElements)
      rows(0, n);
    else
      parallel_for(0, n, kParallelElements / 2, rows);
  });
  if (any_requires_grad({&g}))
    record(out, "masked_grad", {g},
           [mask](Node&, const Tensor& h) { return std::vector<Tensor>{masked_grad(h, mask)}; });
  return out;
}

template <typename FwdF>
Tensor masked_linear(const Tensor& a, const char* name, FwdF fwd, Window w) {
  if (!any_requires_grad({&a})) return unary_forward(a, name, fwd);
  check_float(a, name);
  // One pass writes the activation and its mask.
  Tensor out = Tensor::empty(a.shape(), a.dtype());
  auto mask = std::make_shared<Storage>(size_t(a.numel()));
  AG_DISPATCH_FLOAT(a.dtype(), name, {
    // a, out (n) -> mask (n)
    const T* ap = a.data<T>();
    T* o = out.data<T>();
    uint8_t* mp = static_cast<uint8_t*>(mask->data());
    const int64_t n = a.numel();
    // Two simple loops per L1-sized block (each vectorises; one loop doing both did not).
    auto rows = [&](int64_t i0, int64_t i1) {
      constexpr int64_t kBlock = 2048;
      const T lo = T(w.lo), hi = T(w.hi);
      const bool open = !w.lo_incl && !w.hi_incl;
      for (int64_t b0 = i0; b0 < i1; b0 += kBlock) {
        const int64_t b1 = std::min(i1, b0 + kBlock);
        // Local restrict pointers: a uint8 store may alias anything, which kept the mask loop
        // scalar and reloading its pointers.
        const T* __restrict x = ap + b0;
        T* __restrict y = o + b0;
        uint8_t* __restrict m = mp + b0;
        const int64_t len = b1 - b0;
        for (int64_t i = 0; i < len; ++i) y[i] = fwd(x[i]);
        if (open)
          for (int64_t i = 0; i < len; ++i) m[i] = uint8_t((x[i] > lo) & (x[i] < hi));
        else
          for (int64_t i = 0; i < len; ++i) m[i] = uint8_t(w.inside(x[i]));
      }
    };
    if (n < kParallelElements)
      rows(0, n);
    else
      parallel_for(0, n, kParallelElements / 2, rows);
  });
  record(out, name, {a}, [mask = Mask(std::move(mask))](Node&, const Tensor& g) {
    return std::vector<Tensor>{masked_grad(g, mask)};
  });
  return out;
}
}  // namespace

Tensor relu(const Tensor& a) {
  return masked_linear(
      a, "relu", [](auto x) { return x > 0 ? x : decltype(x)(0); },
      Window{0, INFINITY, false, false});
}
Tensor relu6(const Tensor& a) {
  return masked_linear(
      a, "relu6",
      [](auto x) {
        using T = decltype(x);
        return x < 0 ? T(0) : (x > 6 ? T(6) : x);
      },
      Window{0, 6, false, false});
}
Tensor clamp(const Tensor& a, double lo, double hi) {
  if (lo > hi) throw Error("clamp: lo " + std::to_string(lo) + " > hi " + std::to_string(hi));
  return masked_linear(
      a, "clamp",
      [lo, hi](auto x) {
        using T = decltype(x);
        return x < T(lo) ? T(lo) : (x > T(hi) ? T(hi) : x);
      },
      Window{lo, hi, true, true});
}

// ======================================================================= where / comparisons /
// cast
Tensor where(const Tensor& cond, const Tensor& a, const Tensor& b) {
  check_same_dtype(a, b, "where");
  check_defined(cond, "where");
  if (cond.dtype() != a.dtype()) throw Error("where: condition dtype must match the operands'");
  const Shape ab = broadcast_shapes(a.shape(), b.shape());
  const Shape out_shape = broadcast_shapes(cond.shape(), ab);
  Tensor ec = expand(cond.detach(), out_shape), ea = expand(a.detach(), out_shape),
         eb = expand(b.detach(), out_shape);
  Tensor out = Tensor::empty(out_shape, a.dtype());
  AG_DISPATCH_FLOAT(a.dtype(), "where", {
    const T *c = ec.data<T>(), *x = ea.data<T>(), *y = eb.data<T>();
    T* o = out.data<T>();
    const int64_t n = out.numel();
    for (int64_t i = 0; i < n; ++i) o[i] = c[i] != 0 ? x[i] : y[i];
  });
  if (any_requires_grad({&a, &b})) {
    record(out, "where", {a, b},
           [cond, sa = a.shape(), sb = b.shape(), ra = a.requires_grad(), rb = b.requires_grad()](
               Node&, const Tensor& g) {
             Tensor zero = Tensor::zeros(Shape{}, g.dtype());
             return std::vector<Tensor>{ra ? sum_to(where(cond, g, zero), sa) : Tensor(),
                                        rb ? sum_to(where(cond, zero, g), sb) : Tensor()};
           });
  }
  return out;
}

Tensor gt(const Tensor& a, const Tensor& b) {
  return compare(a, b, "gt", [](auto x, auto y) { return x > y; });
}
Tensor lt(const Tensor& a, const Tensor& b) {
  return compare(a, b, "lt", [](auto x, auto y) { return x < y; });
}
Tensor ge(const Tensor& a, const Tensor& b) {
  return compare(a, b, "ge", [](auto x, auto y) { return x >= y; });
}
Tensor eq(const Tensor& a, const Tensor& b) {
  return compare(a, b, "eq", [](auto x, auto y) { return x == y; });
}
Tensor gt(const Tensor& a, double s) {
  NoGradGuard ng;
  return unary_forward(a, "gt", [s](auto x) { return decltype(x)(x > s ? 1 : 0); });
}
Tensor lt(const Tensor& a, double s) {
  NoGradGuard ng;
  return unary_forward(a, "lt", [s](auto x) { return decltype(x)(x < s ? 1 : 0); });
}

Tensor cast(const Tensor& a, DType dtype) {
  check_defined(a, "cast");
  if (a.dtype() == dtype) return a;
  Tensor out = Tensor::empty(a.shape(), dtype);
  const int64_t n = a.numel();
  auto v = [&](int64_t i) -> double {
    switch (a.dtype()) {
      case DType::F32:
        return a.data<float>()[i];
      case DType::F64:
        return a.data<double>()[i];
      case DType::I32:
        return a.data<int32_t>()[i];
    }
    return 0;
  };
  for (int64_t i = 0; i < n; ++i) {
    switch (dtype) {
      case DType::F32:
        out.data<float>()[i] = float(v(i));
        break;
      case DType::F64:
        out.data<double>()[i] = v(i);
        break;
      case DType::I32:
        out.data<int32_t>()[i] = int32_t(v(i));
        break;
    }
  }
  if (a.is_floating() && dtype != DType::I32 && any_requires_grad({&a})) {
    record(out, "cast", {a}, [from = a.dtype()](Node&, const Tensor& g) {
      return std::vector<Tensor>{cast(g, from)};
    });
  }
  return out;
}

}  // namespace agilenn::ag
