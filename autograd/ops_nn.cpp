// Neural-network ops over the last (channel / class) axis.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <vector>

#include "autograd/op_util.h"
#include "autograd/parallel.h"

namespace agilenn::ag {

using namespace detail;

namespace {
std::vector<int> all_but_last(int ndim) {
  std::vector<int> axes;
  for (int i = 0; i + 1 < ndim; ++i) axes.push_back(i);
  return axes;
}
void check_channels(const Tensor& x, const Tensor& p, const char* op, const char* what) {
  check_same_dtype(x, p, op);
  if (p.ndim() != 1 || p.dim(0) != x.dim(-1))
    throw Error(std::string(op) + ": " + what + " " + p.shape().str() + " does not match " +
                std::to_string(x.dim(-1)) + " channels of " + x.shape().str());
}
}  // namespace

// ---- batch norm: y = (x - mean) / sqrt(var + eps) * gamma + beta, statistics over all axes but
// the last. The forward is one fused kernel. The backward rule is written with differentiable ops
// (recomputing the statistics from x so it can be differentiated again); when the backward is not
// being recorded the same formula runs as one fused kernel:
//   xhat = (x - mean) rstd,  dbeta = sum g,  dgamma = sum g xhat,
//   dx = gamma rstd (g - mean(g) - xhat mean(g xhat))
namespace {
// Per-channel sums over rows of an (m, c) matrix: rows in blocks of kRows, each block summed in T
// (vectorised over channels) and the blocks added in double, in a fixed order (deterministic for
// any thread count). f(row_ptrs..., j) gives the value of row r, channel j.
constexpr int64_t kRows = 128;

template <typename T, typename F>
void channel_sums(int64_t m, int64_t c, int n_out, F f, std::vector<double>* out) {
  const int64_t blocks = (m + kRows - 1) / kRows;
  std::vector<T> partial(size_t(blocks * c * n_out), T(0));
  parallel_for(0, blocks, 1, [&](int64_t b0, int64_t b1) {
    for (int64_t b = b0; b < b1; ++b) {
      T* acc = partial.data() + b * c * n_out;
      for (int64_t r = b * kRows; r < std::min(m, (b + 1) * kRows); ++r) f(r, acc);
    }
  });
  for (int k = 0; k < n_out; ++k) out[k].assign(size_t(c), 0.0);
  for (int64_t b = 0; b < blocks; ++b)
    for (int k = 0; k < n_out; ++k)
      for (int64_t j = 0; j < c; ++j)
        out[k][size_t(j)] += double(partial[size_t((b * n_out + k) * c + j)]);
}

template <typename T>
void bn_forward_kernel(const T* x, const T* gamma, const T* beta, T* y, T* mean, T* var, int64_t m,
                       int64_t c, double eps) {
  // x, y (m, c); mean, var (c): two passes (mean, then squared deviations) and the output pass.
  std::vector<double> s[1], s2[1];
  channel_sums<T>(
      m, c, 1,
      [&](int64_t r, T* acc) {
        const T* xr = x + r * c;
        for (int64_t j = 0; j < c; ++j) acc[j] += xr[j];
      },
      s);
  std::vector<T> mu(static_cast<size_t>(c));
  for (int64_t j = 0; j < c; ++j) mu[size_t(j)] = mean[j] = T(s[0][size_t(j)] / double(m));
  channel_sums<T>(
      m, c, 1,
      [&](int64_t r, T* acc) {
        const T* xr = x + r * c;
        for (int64_t j = 0; j < c; ++j) {
          const T d = xr[j] - mu[size_t(j)];
          acc[j] += d * d;
        }
      },
      s2);
  std::vector<T> scale(static_cast<size_t>(c)), shift(static_cast<size_t>(c));
  for (int64_t j = 0; j < c; ++j) {
    const double v = s2[0][size_t(j)] / double(m);
    var[j] = T(v);
    const double rstd = 1.0 / std::sqrt(v + eps);
    scale[size_t(j)] = T(rstd * double(gamma[j]));
    shift[size_t(j)] = T(double(beta[j]) - double(mean[j]) * rstd * double(gamma[j]));
  }
  parallel_for(0, m, kRows, [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r) {
      const T* xr = x + r * c;
      T* yr = y + r * c;
      for (int64_t j = 0; j < c; ++j) yr[j] = xr[j] * scale[size_t(j)] + shift[size_t(j)];
    }
  });
}

template <typename T>
void bn_backward_kernel(const T* g, const T* x, const T* gamma, const T* mean, const T* var, T* dx,
                        T* dgamma, T* dbeta, int64_t m, int64_t c, double eps) {
  std::vector<double> sums[2];  // sum g, sum g (x - mean)
  std::vector<double> rstd(static_cast<size_t>(c));
  std::vector<T> mu(mean, mean + c);
  for (int64_t j = 0; j < c; ++j) rstd[size_t(j)] = 1.0 / std::sqrt(double(var[j]) + eps);
  channel_sums<T>(
      m, c, 2,
      [&](int64_t r, T* acc) {
        const T *gr = g + r * c, *xr = x + r * c;
        T* acc2 = acc + c;
        for (int64_t j = 0; j < c; ++j) {
          acc[j] += gr[j];
          acc2[j] += gr[j] * (xr[j] - mu[size_t(j)]);
        }
      },
      sums);
  std::vector<T> a(static_cast<size_t>(c)), b(static_cast<size_t>(c)), k(static_cast<size_t>(c));
  for (int64_t j = 0; j < c; ++j) {
    const double sg = sums[0][size_t(j)], sgxhat = sums[1][size_t(j)] * rstd[size_t(j)];
    if (dbeta) dbeta[j] = T(sg);
    if (dgamma) dgamma[j] = T(sgxhat);
    // dx = gamma rstd (g - sg/m - xhat sgxhat/m) = k g + a x + b
    const double kk = double(gamma[j]) * rstd[size_t(j)];
    const double coef = sgxhat / double(m) * rstd[size_t(j)];  // multiplies (x - mean)
    k[size_t(j)] = T(kk);
    a[size_t(j)] = T(-kk * coef);
    b[size_t(j)] = T(kk * (-sg / double(m) + coef * double(mean[j])));
  }
  if (dx)
    parallel_for(0, m, kRows, [&](int64_t r0, int64_t r1) {
      for (int64_t r = r0; r < r1; ++r) {
        const T *gr = g + r * c, *xr = x + r * c;
        T* dr = dx + r * c;
        for (int64_t j = 0; j < c; ++j)
          dr[j] = k[size_t(j)] * gr[j] + a[size_t(j)] * xr[j] + b[size_t(j)];
      }
    });
}
}  // namespace

Tensor batch_norm_train(const Tensor& x, const Tensor& gamma, const Tensor& beta, double eps,
                        Tensor* batch_mean, Tensor* batch_var) {
  check_float(x, "batch_norm_train");
  if (x.ndim() < 2) throw Error("batch_norm_train: needs a batch axis, got " + x.shape().str());
  check_channels(x, gamma, "batch_norm_train", "gamma");
  check_channels(x, beta, "batch_norm_train", "beta");
  const int64_t c = x.dim(-1), m = x.numel() / c;
  if (m < 1) throw Error("batch_norm_train: empty batch");
  Tensor y = Tensor::empty(x.shape(), x.dtype());
  Tensor mu = Tensor::empty(Shape{c}, x.dtype()), var = Tensor::empty(Shape{c}, x.dtype());
  AG_DISPATCH_FLOAT(x.dtype(), "batch_norm_train",
                    bn_forward_kernel<T>(x.data<T>(), gamma.data<T>(), beta.data<T>(), y.data<T>(),
                                         mu.data<T>(), var.data<T>(), m, c, eps));
  if (batch_mean) *batch_mean = mu;
  if (batch_var) *batch_var = var;
  if (any_requires_grad({&x, &gamma, &beta})) {
    record(y, "batch_norm_train", {x, gamma, beta},
           [x, gamma, mu, var, eps, m, c](Node&, const Tensor& g) {
             if (grad_mode_enabled()) {  // recorded: the rule in differentiable ops
               const auto axes = all_but_last(x.ndim());
               Tensor xc = sub(x, mean(x, axes, true));
               Tensor rstd = rsqrt(add(mean(mul(xc, xc), axes, true), eps));
               Tensor xhat = mul(xc, rstd);
               Tensor dbeta = sum(g, axes);
               Tensor dgamma = sum(mul(g, xhat), axes);
               Tensor dx = mul(mul(gamma, rstd), sub(sub(g, mean(g, axes, true)),
                                                     mul(xhat, mean(mul(g, xhat), axes, true))));
               return std::vector<Tensor>{dx, dgamma, dbeta};
             }
             Tensor dx = x.requires_grad() ? Tensor::empty(x.shape(), x.dtype()) : Tensor();
             Tensor dgamma = Tensor::empty(Shape{c}, x.dtype()),
                    dbeta = Tensor::empty(Shape{c}, x.dtype());
             AG_DISPATCH_FLOAT(
                 x.dtype(), "batch_norm_train",
                 bn_backward_kernel<T>(g.data<T>(), x.data<T>(), gamma.data<T>(), mu.data<T>(),
                                       var.data<T>(), dx.defined() ? dx.data<T>() : nullptr,
                                       dgamma.data<T>(), dbeta.data<T>(), m, c, eps));
             return std::vector<Tensor>{dx, dgamma, dbeta};
           });
  }
  return y;
}

Tensor batch_norm_eval(const Tensor& x, const Tensor& gamma, const Tensor& beta,
                       const Tensor& running_mean, const Tensor& running_var, double eps) {
  check_float(x, "batch_norm_eval");
  check_channels(x, gamma, "batch_norm_eval", "gamma");
  check_channels(x, beta, "batch_norm_eval", "beta");
  check_channels(x, running_mean, "batch_norm_eval", "running_mean");
  check_channels(x, running_var, "batch_norm_eval", "running_var");
  Tensor scale = mul(gamma, rsqrt(add(running_var, eps)));
  Tensor shift = sub(beta, mul(running_mean, scale));
  return add(mul(x, scale), shift);
}

// ---- softmax family over the last axis
namespace {
template <typename T>
void log_softmax_rows(const T* x, T* y, int64_t rows, int64_t c, bool log_out) {
  for (int64_t r = 0; r < rows; ++r) {
    const T* xr = x + r * c;
    T* yr = y + r * c;
    T mx = -std::numeric_limits<T>::infinity();
    for (int64_t i = 0; i < c; ++i) mx = std::max(mx, xr[i]);
    T s = 0;
    for (int64_t i = 0; i < c; ++i) s += std::exp(xr[i] - mx);
    if (log_out) {
      const T lse = mx + std::log(s);
      for (int64_t i = 0; i < c; ++i) yr[i] = xr[i] - lse;
    } else {
      const T inv = T(1) / s;
      for (int64_t i = 0; i < c; ++i) yr[i] = std::exp(xr[i] - mx) * inv;
    }
  }
}
}  // namespace

Tensor log_softmax(const Tensor& x) {
  check_float(x, "log_softmax");
  if (x.ndim() < 1 || x.dim(-1) == 0) throw Error("log_softmax: needs a non-empty last axis");
  Tensor y = Tensor::empty(x.shape(), x.dtype());
  const int64_t c = x.dim(-1);
  AG_DISPATCH_FLOAT(x.dtype(), "log_softmax",
                    log_softmax_rows<T>(x.data<T>(), y.data<T>(), x.numel() / c, c, true));
  if (any_requires_grad({&x}))  // dx = g - softmax(x) * sum(g)
    record(
        y, "log_softmax", {x},
        [](Node& self, const Tensor& g) {
          return std::vector<Tensor>{sub(g, mul(exp(self.output()), sum(g, {-1}, true)))};
        },
        true);
  return y;
}

Tensor softmax(const Tensor& x) {
  check_float(x, "softmax");
  if (x.ndim() < 1 || x.dim(-1) == 0) throw Error("softmax: needs a non-empty last axis");
  Tensor y = Tensor::empty(x.shape(), x.dtype());
  const int64_t c = x.dim(-1);
  AG_DISPATCH_FLOAT(x.dtype(), "softmax",
                    log_softmax_rows<T>(x.data<T>(), y.data<T>(), x.numel() / c, c, false));
  if (any_requires_grad({&x}))  // dx = y * (g - sum(g y))
    record(
        y, "softmax", {x},
        [](Node& self, const Tensor& g) {
          Tensor s = self.output();
          return std::vector<Tensor>{mul(s, sub(g, sum(mul(g, s), {-1}, true)))};
        },
        true);
  return y;
}

// ---- indexing
namespace {
void check_index(const Tensor& idx, int64_t limit, const char* op) {
  check_defined(idx, op);
  if (idx.dtype() != DType::I32) throw Error(std::string(op) + ": indices must be int32");
  const int32_t* p = idx.data<int32_t>();
  for (int64_t i = 0, n_idx = idx.numel(); i < n_idx; ++i)
    if (p[i] < 0 || p[i] >= limit)
      throw Error(std::string(op) + ": index " + std::to_string(p[i]) + " at position " +
                  std::to_string(i) + " out of range [0, " + std::to_string(limit) + ")");
}
Shape with_last(const Shape& s, int64_t c) {
  Shape r = s;
  r.push_back(c);
  return r;
}
}  // namespace

Tensor gather_last(const Tensor& x, const Tensor& idx) {
  check_float(x, "gather_last");
  check_index(idx, x.dim(-1), "gather_last");
  const int64_t c = x.dim(-1);
  if (with_last(idx.shape(), c) != x.shape())
    throw Error("gather_last: indices " + idx.shape().str() + " do not match " + x.shape().str());
  Tensor out = Tensor::empty(idx.shape(), x.dtype());
  AG_DISPATCH_FLOAT(x.dtype(), "gather_last", {
    const int32_t* ip = idx.data<int32_t>();
    T* op = out.data<T>();
    const T* xp = x.data<T>();
    for (int64_t i = 0, n = idx.numel(); i < n; ++i) op[i] = xp[i * c + ip[i]];
  });
  if (any_requires_grad({&x}))
    record(out, "gather_last", {x}, [idx, c](Node&, const Tensor& g) {
      return std::vector<Tensor>{scatter_last(g, idx, c)};
    });
  return out;
}

Tensor scatter_last(const Tensor& g, const Tensor& idx, int64_t classes) {
  check_float(g, "scatter_last");
  check_index(idx, classes, "scatter_last");
  if (g.shape() != idx.shape())
    throw Error("scatter_last: values " + g.shape().str() + " vs indices " + idx.shape().str());
  Tensor out = Tensor::zeros(with_last(g.shape(), classes), g.dtype());
  AG_DISPATCH_FLOAT(g.dtype(), "scatter_last", {
    const int32_t* ip = idx.data<int32_t>();
    for (int64_t i = 0, n_idx = idx.numel(); i < n_idx; ++i)
      out.data<T>()[i * classes + ip[i]] += g.data<T>()[i];
  });
  if (any_requires_grad({&g}))
    record(out, "scatter_last", {g},
           [idx](Node&, const Tensor& h) { return std::vector<Tensor>{gather_last(h, idx)}; });
  return out;
}

Tensor take(const Tensor& table, const Tensor& idx) {
  check_float(table, "take");
  if (table.ndim() != 1) throw Error("take: table must be 1-D, got " + table.shape().str());
  check_index(idx, table.dim(0), "take");
  Tensor out = Tensor::empty(idx.shape(), table.dtype());
  AG_DISPATCH_FLOAT(table.dtype(), "take", {
    const int32_t* ip = idx.data<int32_t>();
    for (int64_t i = 0, n_idx = idx.numel(); i < n_idx; ++i)
      out.data<T>()[i] = table.data<T>()[ip[i]];
  });
  if (any_requires_grad({&table}))
    record(out, "take", {table}, [idx, n = table.dim(0)](Node&, const Tensor& g) {
      return std::vector<Tensor>{index_add(g, idx, n)};
    });
  return out;
}

Tensor index_add(const Tensor& g, const Tensor& idx, int64_t n) {
  check_float(g, "index_add");
  check_index(idx, n, "index_add");
  if (g.shape() != idx.shape())
    throw Error("index_add: values " + g.shape().str() + " vs indices " + idx.shape().str());
  Tensor out = Tensor::zeros(Shape{n}, g.dtype());
  AG_DISPATCH_FLOAT(g.dtype(), "index_add", {
    const int32_t* ip = idx.data<int32_t>();
    for (int64_t i = 0, n_idx = idx.numel(); i < n_idx; ++i) out.data<T>()[ip[i]] += g.data<T>()[i];
  });
  if (any_requires_grad({&g}))
    record(out, "index_add", {g},
           [idx](Node&, const Tensor& h) { return std::vector<Tensor>{take(h, idx)}; });
  return out;
}

Tensor cross_entropy(const Tensor& logits, const Tensor& labels) {
  check_float(logits, "cross_entropy");
  if (logits.ndim() != 2)
    throw Error("cross_entropy: logits must be (N, classes), got " + logits.shape().str());
  if (labels.ndim() != 1 || labels.dim(0) != logits.dim(0))
    throw Error("cross_entropy: labels " + labels.shape().str() + " do not match logits " +
                logits.shape().str());
  return neg(mean(gather_last(log_softmax(logits), labels)));
}

namespace {
template <bool Min>
Tensor arg_extreme_last(const Tensor& x, const char* op) {
  check_float(x, op);
  const int64_t c = x.dim(-1);
  if (c == 0) throw Error(std::string(op) + ": empty last axis");
  Shape os;
  for (int i = 0; i + 1 < x.ndim(); ++i) os.push_back(x.dim(i));
  Tensor out = Tensor::empty(os, DType::I32);
  AG_DISPATCH_FLOAT(x.dtype(), op, {
    const T* p = x.data<T>();
    int32_t* o = out.data<int32_t>();
    for (int64_t r = 0, rows = out.numel(); r < rows; ++r) {
      const T* row = p + r * c;
      int32_t best = 0;
      for (int64_t i = 1; i < c; ++i)  // strict: ties go to the lower index
        if (Min ? row[i] < row[best] : row[i] > row[best]) best = int32_t(i);
      o[r] = best;
    }
  });
  return out;
}
}  // namespace

Tensor argmin_last(const Tensor& x) {
  return arg_extreme_last<true>(x, "argmin_last");
}
Tensor argmax_last(const Tensor& x) {
  return arg_extreme_last<false>(x, "argmax_last");
}
Tensor stop_gradient(const Tensor& x) {
  return x.detach();
}

// ---- soft-to-hard quantization. With d_i = (x - c_i)^2, p = softmax(-d), s = sum p_i c_i:
//   ds/dx   = 2 (sum p_i c_i^2 - s^2)
//   ds/dc_k = p_k (1 + 2 (x - c_k)(c_k - s))
// The forward returns the nearest centroid; the backward is the soft path's (straight-through).
namespace {
Tensor with_centroid_axis(const Tensor& x) {
  Shape s = x.shape();
  s.push_back(1);
  return reshape(x, s);
}

// exp(x) for x <= 0 on 4 floats at once: Cody-Waite range reduction and Cephes' degree-6
// polynomial (relative error ~2e-7). GCC vector types (SSE2, the default build's baseline);
// std::exp in a loop does not vectorise.
typedef float f32x4 __attribute__((vector_size(16)));
typedef int32_t i32x4 __attribute__((vector_size(16)));

inline f32x4 exp_nonpositive(f32x4 x) {
  const f32x4 lo = f32x4{} - 87.0f;
  x = x < lo ? lo : x;
  const float magic = 12582912.0f;  // 1.5 * 2^23: adding and subtracting it rounds to nearest
  const f32x4 n = (x * 1.44269504f + magic) - magic;
  const f32x4 f = x - n * 0.693359375f + n * 2.12194440e-4f;
  f32x4 p = f32x4{} + 1.9875691500e-4f;
  p = p * f + 1.3981999507e-3f;
  p = p * f + 8.3334519073e-3f;
  p = p * f + 4.1665795894e-2f;
  p = p * f + 1.6666665459e-1f;
  p = p * f + 5.0000001201e-1f;
  p = p * f * f + f + 1.0f;
  const i32x4 bits = (__builtin_convertvector(n, i32x4) + 127) << 23;
  return p * (f32x4)bits;  // same-size vector cast: a bit reinterpretation
}

// The soft path's gradient, fused: x, g, dx (n); c, dc (k).
//   p = softmax(-(x - c)^2), s = sum p c:  dx = 2 g (sum p c^2 - s^2),  dc_j = sum g p_j (1 + 2 (x
//   - c_j)(c_j - s))
// Per-centroid sums are kept per block of 4096 elements, in double, and added in block order.
template <typename T>
void soft_assign_backward(const T* xp, const T* gp, const T* cp, int64_t n, int64_t k, T* dxp,
                          T* dcp) {
  constexpr int64_t kBlock = 4096;
  const int64_t blocks = (n + kBlock - 1) / kBlock;
  std::vector<double> partial(size_t(blocks * k), 0.0);
  parallel_for(0, blocks, 1, [&](int64_t b0, int64_t b1) {
    std::vector<T> p(static_cast<size_t>(k));
    for (int64_t b = b0; b < b1; ++b) {
      double* acc = partial.data() + b * k;
      for (int64_t i = b * kBlock; i < std::min(n, (b + 1) * kBlock); ++i) {
        const T xi = xp[i];
        T mx = -std::numeric_limits<T>::infinity();
        for (int64_t j = 0; j < k; ++j) mx = std::max(mx, -(xi - cp[j]) * (xi - cp[j]));
        T z = 0, s = 0, s2 = 0;
        for (int64_t j = 0; j < k; ++j) {
          p[size_t(j)] = std::exp(-(xi - cp[j]) * (xi - cp[j]) - mx);
          z += p[size_t(j)];
          s += p[size_t(j)] * cp[j];
          s2 += p[size_t(j)] * cp[j] * cp[j];
        }
        s /= z;
        s2 /= z;
        dxp[i] = gp[i] * T(2) * (s2 - s * s);
        for (int64_t j = 0; j < k; ++j)
          acc[j] += double(gp[i] * p[size_t(j)] / z * (T(1) + T(2) * (xi - cp[j]) * (cp[j] - s)));
      }
    }
  });
  for (int64_t b = 0; b < blocks; ++b)
    for (int64_t j = 0; j < k; ++j) dcp[j] += T(partial[size_t(b * k + j)]);
}

// float: 4 elements per step in vector registers, the exp above. A ragged last step is padded
// with g = 0, which contributes nothing.
template <>
void soft_assign_backward<float>(const float* xp, const float* gp, const float* cp, int64_t n,
                                 int64_t k, float* dxp, float* dcp) {
  constexpr int64_t kBlock = 4096, kLanes = 4;
  const int64_t blocks = (n + kBlock - 1) / kBlock;
  std::vector<double> partial(size_t(blocks * k), 0.0);
  parallel_for(0, blocks, 1, [&](int64_t b0, int64_t b1) {
    std::vector<f32x4> e(static_cast<size_t>(k)), acc(static_cast<size_t>(k));
    for (int64_t b = b0; b < b1; ++b) {
      for (auto& a : acc) a = f32x4{};
      for (int64_t i = b * kBlock; i < std::min(n, (b + 1) * kBlock); i += kLanes) {
        const int64_t m = std::min(kLanes, n - i);
        f32x4 x{}, g{};
        if (m == kLanes) {
          std::memcpy(&x, xp + i, sizeof x);
          std::memcpy(&g, gp + i, sizeof g);
        } else {
          for (int64_t l = 0; l < m; ++l) x[l] = xp[i + l], g[l] = gp[i + l];
        }
        f32x4 mx = f32x4{} - std::numeric_limits<float>::infinity();
        for (int64_t j = 0; j < k; ++j) {
          const f32x4 d = x - cp[j];
          e[size_t(j)] = -(d * d);
          mx = e[size_t(j)] > mx ? e[size_t(j)] : mx;
        }
        f32x4 z{}, s{}, s2{};
        for (int64_t j = 0; j < k; ++j) {
          const f32x4 ej = exp_nonpositive(e[size_t(j)] - mx);
          e[size_t(j)] = ej;
          z += ej;
          s += ej * cp[j];
          s2 += ej * (cp[j] * cp[j]);
        }
        s /= z;
        s2 /= z;
        const f32x4 dx = g * 2.0f * (s2 - s * s);
        for (int64_t l = 0; l < m; ++l) dxp[i + l] = dx[l];
        const f32x4 w = g / z;
        for (int64_t j = 0; j < k; ++j)
          acc[size_t(j)] += w * e[size_t(j)] * (1.0f + 2.0f * (x - cp[j]) * (cp[j] - s));
      }
      for (int64_t j = 0; j < k; ++j) {
        double t = 0;
        for (int64_t l = 0; l < kLanes; ++l) t += double(acc[size_t(j)][l]);
        partial[size_t(b * k + j)] = t;
      }
    }
  });
  for (int64_t b = 0; b < blocks; ++b)
    for (int64_t j = 0; j < k; ++j) dcp[j] += float(partial[size_t(b * k + j)]);
}
}  // namespace

Tensor soft_assign(const Tensor& x, const Tensor& c) {
  Tensor d = sub(with_centroid_axis(x), c);
  Tensor p = softmax(neg(mul(d, d)));
  return sum(mul(p, c), {-1});
}

Tensor quantize_soft_to_hard(const Tensor& x, const Tensor& c, Tensor* indices) {
  check_same_dtype(x, c, "quantize_soft_to_hard");
  if (c.ndim() != 1 || c.dim(0) < 1)
    throw Error("quantize_soft_to_hard: centroids must be 1-D, got " + c.shape().str());
  const int64_t n = x.numel(), k = c.dim(0);
  Tensor y = Tensor::empty(x.shape(), x.dtype());
  Tensor idx = Tensor::empty(x.shape(), DType::I32);
  AG_DISPATCH_FLOAT(x.dtype(), "quantize_soft_to_hard", {
    // x, y, idx (n); c (k)
    const T *xp = x.data<T>(), *cp = c.data<T>();
    T* yp = y.data<T>();
    int32_t* ip = idx.data<int32_t>();
    parallel_for(0, n, 4096, [&](int64_t i0, int64_t i1) {
      for (int64_t i = i0; i < i1; ++i) {
        int32_t best = 0;
        T bd = (xp[i] - cp[0]) * (xp[i] - cp[0]);
        for (int64_t j = 1; j < k; ++j) {
          const T d = (xp[i] - cp[j]) * (xp[i] - cp[j]);
          if (d < bd) {
            bd = d;
            best = int32_t(j);
          }
        }
        ip[i] = best;
        yp[i] = cp[best];
      }
    });
  });
  if (indices) *indices = idx;
  if (any_requires_grad({&x, &c})) {
    record(y, "quantize_soft_to_hard", {x, c}, [x = x.detach(), c](Node&, const Tensor& g) {
      if (grad_mode_enabled()) {  // recorded: the soft path's gradient in differentiable ops
        Tensor xe = with_centroid_axis(x);
        Tensor d = sub(xe, c);
        Tensor p = softmax(neg(mul(d, d)));
        Tensor s = sum(mul(p, c), {-1}, true);
        Tensor dx =
            mul(reshape(g, x.shape()), mul(sub(reshape(sum(mul(p, mul(c, c)), {-1}), x.shape()),
                                               mul(reshape(s, x.shape()), reshape(s, x.shape()))),
                                           2.0));
        Tensor term = mul(p, add(mul(mul(d, sub(c, s)), 2.0), 1.0));
        Tensor dc = sum_to(mul(with_centroid_axis(g), term), c.shape());
        return std::vector<Tensor>{dx, dc};
      }
      Tensor dx = Tensor::empty(x.shape(), x.dtype());
      Tensor dc = Tensor::zeros(c.shape(), c.dtype());
      AG_DISPATCH_FLOAT(x.dtype(), "quantize_soft_to_hard", {
        soft_assign_backward<T>(x.data<T>(), g.data<T>(), c.data<T>(), x.numel(), c.dim(0),
                                dx.data<T>(), dc.data<T>());
      });
      return std::vector<Tensor>{dx, dc};
    });
  }
  return y;
}

}  // namespace agilenn::ag
