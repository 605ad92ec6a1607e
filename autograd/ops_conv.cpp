// conv2d and its gradients. conv is bilinear in (x, w), so its two gradients are linear maps that
// are convolutions again (as in PyTorch's _convolution_double_backward):
//   conv2d(x, w)              -> dx = conv2d_input_grad(g, w),  dw = conv2d_weight_grad(x, g)
//   conv2d_input_grad(dy, w)  -> d dy = conv2d(h, w),           dw = conv2d_weight_grad(h, dy)
//   conv2d_weight_grad(x, dy) -> dx = conv2d_input_grad(dy, h), d dy = conv2d(x, h)
// (h is the incoming gradient of each op's own output). Average pooling and its adjoint likewise.
#include "autograd/kernels/conv2d.h"

#include "autograd/op_util.h"

namespace agilenn::ag {

using namespace detail;
using kernels::Conv2dGeom;

namespace {

// Output size and leading padding of one spatial dimension.
void conv_dim(int64_t in, int k, int stride, int dil, const Conv2dOptions& o, int pad, int64_t* out,
              int* pad_before) {
  const int64_t eff = int64_t(dil) * (k - 1) + 1;
  if (o.same) {
    *out = (in + stride - 1) / stride;
    const int64_t total = std::max<int64_t>((*out - 1) * stride + eff - in, 0);
    *pad_before = int(total / 2);  // TF/Keras: the odd pixel goes after
  } else {
    if (in + 2 * pad < eff) throw Error("conv2d: kernel larger than the padded input");
    *out = (in + 2 * pad - eff) / stride + 1;
    *pad_before = pad;
  }
}

Conv2dGeom make_geom(const Shape& xs, const Shape& ws, const Conv2dOptions& o, const char* op) {
  if (xs.ndim() != 4) throw Error(std::string(op) + ": input must be NHWC (4-D), got " + xs.str());
  if (ws.ndim() != 4) throw Error(std::string(op) + ": weight must be HWIO (4-D), got " + ws.str());
  if (o.stride_h < 1 || o.stride_w < 1 || o.dil_h < 1 || o.dil_w < 1 || o.groups < 1 ||
      o.pad_h < 0 || o.pad_w < 0)
    throw Error(std::string(op) + ": stride, dilation and groups must be >= 1 and padding >= 0");
  Conv2dGeom g{};
  g.n = int(xs[0]);
  g.h = int(xs[1]);
  g.w = int(xs[2]);
  g.c = int(xs[3]);
  g.kh = int(ws[0]);
  g.kw = int(ws[1]);
  g.oc = int(ws[3]);
  g.groups = o.groups;
  if (g.c % g.groups || g.oc % g.groups)
    throw Error(std::string(op) + ": channels " + std::to_string(g.c) + " -> " +
                std::to_string(g.oc) + " not divisible by groups " + std::to_string(g.groups));
  if (ws[2] != g.c / g.groups)
    throw Error(std::string(op) + ": weight " + ws.str() + " expects " +
                std::to_string(ws[2] * g.groups) + " input channels, input has " +
                std::to_string(g.c));
  g.stride_h = o.stride_h;
  g.stride_w = o.stride_w;
  g.dil_h = o.dil_h;
  g.dil_w = o.dil_w;
  int64_t oh, ow;
  conv_dim(g.h, g.kh, g.stride_h, g.dil_h, o, o.pad_h, &oh, &g.pad_top);
  conv_dim(g.w, g.kw, g.stride_w, g.dil_w, o, o.pad_w, &ow, &g.pad_left);
  g.oh = int(oh);
  g.ow = int(ow);
  return g;
}

Shape out_shape(const Conv2dGeom& g) {
  return Shape{g.n, g.oh, g.ow, g.oc};
}

}  // namespace

Tensor conv2d(const Tensor& x, const Tensor& w, const Conv2dOptions& opt) {
  check_same_dtype(x, w, "conv2d");
  const Conv2dGeom g = make_geom(x.shape(), w.shape(), opt, "conv2d");
  Tensor y = Tensor::empty(out_shape(g), x.dtype());
  MacCounter::add(int64_t(g.n) * g.oh * g.ow * g.oc * g.kh * g.kw * (g.c / g.groups));
  AG_DISPATCH_FLOAT(x.dtype(), "conv2d",
                    kernels::conv2d_forward<T>(g, x.data<T>(), w.data<T>(), y.data<T>()));
  if (any_requires_grad({&x, &w})) {
    record(y, "conv2d", {x, w}, [x, w, opt](Node&, const Tensor& gy) {
      return std::vector<Tensor>{
          x.requires_grad() ? conv2d_input_grad(gy, w, x.shape(), opt) : Tensor(),
          w.requires_grad() ? conv2d_weight_grad(x, gy, w.shape(), opt) : Tensor()};
    });
  }
  return y;
}

Tensor conv2d(const Tensor& x, const Tensor& w, const Tensor& bias, const Conv2dOptions& opt) {
  if (!bias.defined()) return conv2d(x, w, opt);
  check_same_dtype(x, w, "conv2d");
  check_same_dtype(x, bias, "conv2d");
  const Conv2dGeom g = make_geom(x.shape(), w.shape(), opt, "conv2d");
  if (bias.ndim() != 1 || bias.dim(0) != g.oc)
    throw Error("conv2d: bias " + bias.shape().str() + " must be (" + std::to_string(g.oc) + ")");
  Tensor y = Tensor::empty(out_shape(g), x.dtype());
  MacCounter::add(int64_t(g.n) * g.oh * g.ow * g.oc * g.kh * g.kw * (g.c / g.groups));
  AG_DISPATCH_FLOAT(
      x.dtype(), "conv2d",
      kernels::conv2d_forward<T>(g, x.data<T>(), w.data<T>(), y.data<T>(), bias.data<T>()));
  if (any_requires_grad({&x, &w, &bias})) {
    record(y, "conv2d_bias", {x, w, bias},
           [x, w, opt, rb = bias.requires_grad()](Node&, const Tensor& gy) {
             return std::vector<Tensor>{
                 x.requires_grad() ? conv2d_input_grad(gy, w, x.shape(), opt) : Tensor(),
                 w.requires_grad() ? conv2d_weight_grad(x, gy, w.shape(), opt) : Tensor(),
                 rb ? sum(gy, {0, 1, 2}) : Tensor()};
           });
  }
  return y;
}

Tensor conv2d_input_grad(const Tensor& dy, const Tensor& w, const Shape& x_shape,
                         const Conv2dOptions& opt) {
  check_same_dtype(dy, w, "conv2d_input_grad");
  const Conv2dGeom g = make_geom(x_shape, w.shape(), opt, "conv2d_input_grad");
  if (dy.shape() != out_shape(g))
    throw Error("conv2d_input_grad: gradient " + dy.shape().str() + " != output " +
                out_shape(g).str());
  Tensor dx = Tensor::empty(x_shape, dy.dtype());
  AG_DISPATCH_FLOAT(dy.dtype(), "conv2d_input_grad",
                    kernels::conv2d_backward_input<T>(g, dy.data<T>(), w.data<T>(), dx.data<T>()));
  if (any_requires_grad({&dy, &w})) {
    record(dx, "conv2d_input_grad", {dy, w}, [dy, w, opt](Node&, const Tensor& h) {
      return std::vector<Tensor>{
          dy.requires_grad() ? conv2d(h, w, opt) : Tensor(),
          w.requires_grad() ? conv2d_weight_grad(h, dy, w.shape(), opt) : Tensor()};
    });
  }
  return dx;
}

Tensor conv2d_weight_grad(const Tensor& x, const Tensor& dy, const Shape& w_shape,
                          const Conv2dOptions& opt) {
  check_same_dtype(x, dy, "conv2d_weight_grad");
  const Conv2dGeom g = make_geom(x.shape(), w_shape, opt, "conv2d_weight_grad");
  if (dy.shape() != out_shape(g))
    throw Error("conv2d_weight_grad: gradient " + dy.shape().str() + " != output " +
                out_shape(g).str());
  Tensor dw = Tensor::empty(w_shape, x.dtype());
  AG_DISPATCH_FLOAT(x.dtype(), "conv2d_weight_grad",
                    kernels::conv2d_backward_weight<T>(g, x.data<T>(), dy.data<T>(), dw.data<T>()));
  if (any_requires_grad({&x, &dy})) {
    record(dw, "conv2d_weight_grad", {x, dy}, [x, dy, opt](Node&, const Tensor& h) {
      return std::vector<Tensor>{
          x.requires_grad() ? conv2d_input_grad(dy, h, x.shape(), opt) : Tensor(),
          dy.requires_grad() ? conv2d(x, h, opt) : Tensor()};
    });
  }
  return dw;
}

Tensor global_avg_pool(const Tensor& x) {
  if (x.ndim() != 4) throw Error("global_avg_pool: input must be NHWC, got " + x.shape().str());
  return mean(x, {1, 2});
}

// ---- adaptive average pooling to a G x G grid (cells as torch adaptive_avg_pool2d: they may
// overlap)
namespace {
struct Cells {
  std::vector<int64_t> h0, h1, w0, w1;
};
Cells grid_cells(int64_t h, int64_t w, int grid) {
  Cells c;
  for (int i = 0; i < grid; ++i) {
    c.h0.push_back(i * h / grid);
    c.h1.push_back(((i + 1) * h + grid - 1) / grid);
    c.w0.push_back(i * w / grid);
    c.w1.push_back(((i + 1) * w + grid - 1) / grid);
  }
  return c;
}
Tensor adaptive_avg_pool_adjoint(const Tensor& g, const Shape& x_shape, int grid);
}  // namespace

Tensor adaptive_avg_pool(const Tensor& x, int grid) {
  check_float(x, "adaptive_avg_pool");
  if (x.ndim() != 4) throw Error("adaptive_avg_pool: input must be NHWC, got " + x.shape().str());
  if (grid < 1 || grid > x.dim(1) || grid > x.dim(2))
    throw Error("adaptive_avg_pool: grid " + std::to_string(grid) +
                " must be in [1, min(H, W)] for " + x.shape().str());
  const int64_t n = x.dim(0), h = x.dim(1), w = x.dim(2), c = x.dim(3);
  const Cells cells = grid_cells(h, w, grid);
  Tensor y = Tensor::zeros(Shape{n, grid, grid, c}, x.dtype());
  AG_DISPATCH_FLOAT(x.dtype(), "adaptive_avg_pool", {
    // x (n,h,w,c) -> y (n,G,G,c)
    const T* xp = x.data<T>();
    T* yp = y.data<T>();
    for (int64_t b = 0; b < n; ++b)
      for (int i = 0; i < grid; ++i)
        for (int j = 0; j < grid; ++j) {
          T* dst = yp + ((b * grid + i) * grid + j) * c;
          for (int64_t r = cells.h0[i]; r < cells.h1[i]; ++r)
            for (int64_t q = cells.w0[j]; q < cells.w1[j]; ++q) {
              const T* src = xp + ((b * h + r) * w + q) * c;
              for (int64_t ch = 0; ch < c; ++ch) dst[ch] += src[ch];
            }
          const T inv = T(1) / T((cells.h1[i] - cells.h0[i]) * (cells.w1[j] - cells.w0[j]));
          for (int64_t ch = 0; ch < c; ++ch) dst[ch] *= inv;
        }
  });
  if (any_requires_grad({&x}))
    record(y, "adaptive_avg_pool", {x}, [xs = x.shape(), grid](Node&, const Tensor& g) {
      return std::vector<Tensor>{adaptive_avg_pool_adjoint(g, xs, grid)};
    });
  return y;
}

namespace {
Tensor adaptive_avg_pool_adjoint(const Tensor& g, const Shape& xs, int grid) {
  const int64_t n = xs[0], h = xs[1], w = xs[2], c = xs[3];
  const Cells cells = grid_cells(h, w, grid);
  Tensor dx = Tensor::zeros(xs, g.dtype());
  AG_DISPATCH_FLOAT(g.dtype(), "adaptive_avg_pool_adjoint", {
    // g (n,G,G,c) -> dx (n,h,w,c): each cell spreads g/count over its pixels
    const T* gp = g.data<T>();
    T* dp = dx.data<T>();
    for (int64_t b = 0; b < n; ++b)
      for (int i = 0; i < grid; ++i)
        for (int j = 0; j < grid; ++j) {
          const T* src = gp + ((b * grid + i) * grid + j) * c;
          const T inv = T(1) / T((cells.h1[i] - cells.h0[i]) * (cells.w1[j] - cells.w0[j]));
          for (int64_t r = cells.h0[i]; r < cells.h1[i]; ++r)
            for (int64_t q = cells.w0[j]; q < cells.w1[j]; ++q) {
              T* dst = dp + ((b * h + r) * w + q) * c;
              for (int64_t ch = 0; ch < c; ++ch) dst[ch] += src[ch] * inv;
            }
        }
  });
  if (any_requires_grad({&g}))
    record(dx, "adaptive_avg_pool_adjoint", {g}, [grid](Node&, const Tensor& h) {
      return std::vector<Tensor>{adaptive_avg_pool(h, grid)};
    });
  return dx;
}
}  // namespace

}  // namespace agilenn::ag
