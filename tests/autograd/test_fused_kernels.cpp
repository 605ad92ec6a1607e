// The fused fast paths against plain loops: conv2d with its bias as the GEMM's starting value,
// and the piecewise-linear activations that save a byte mask instead of their input.
#include <boost/test/unit_test.hpp>
#include <cmath>
#include <functional>

#include "autograd/engine.h"
#include "autograd/ops.h"
#include "autograd/parallel.h"
#include "autograd/random.h"
#include "nn/io/error.h"

using namespace agilenn::ag;

namespace {

struct ConvShape {
  int n, h, w, c, kh, kw, oc, stride, groups, pad;
  bool same;
};

// y(n, oh, ow, oc) = bias(oc) + sum over (i, j, ci) x(n, ih, iw, g*cg + ci) w(i, j, ci, oc)
std::vector<double> plain_conv_bias(const ConvShape& s, const std::vector<double>& x,
                                    const std::vector<double>& w, const std::vector<double>& b,
                                    int* oh_out, int* ow_out) {
  auto dim = [&](int in, int k, int* out, int* pad) {
    if (s.same) {
      *out = (in + s.stride - 1) / s.stride;
      *pad = std::max((*out - 1) * s.stride + k - in, 0) / 2;
    } else {
      *out = (in + 2 * s.pad - k) / s.stride + 1;
      *pad = s.pad;
    }
  };
  int oh, ow, pt, pl;
  dim(s.h, s.kh, &oh, &pt);
  dim(s.w, s.kw, &ow, &pl);
  *oh_out = oh, *ow_out = ow;
  const int cg = s.c / s.groups, ocg = s.oc / s.groups;
  std::vector<double> y(size_t(s.n) * oh * ow * s.oc);
  for (int n = 0; n < s.n; ++n)
    for (int p = 0; p < oh; ++p)
      for (int q = 0; q < ow; ++q)
        for (int o = 0; o < s.oc; ++o) {
          double acc = b[size_t(o)];
          const int grp = o / ocg;
          for (int i = 0; i < s.kh; ++i)
            for (int j = 0; j < s.kw; ++j) {
              const int ih = p * s.stride - pt + i, iw = q * s.stride - pl + j;
              if (ih < 0 || ih >= s.h || iw < 0 || iw >= s.w) continue;
              for (int ci = 0; ci < cg; ++ci)
                acc += x[((size_t(n) * s.h + ih) * s.w + iw) * s.c + grp * cg + ci] *
                       w[((size_t(i) * s.kw + j) * cg + ci) * s.oc + o];
            }
          y[((size_t(n) * oh + p) * ow + q) * s.oc + o] = acc;
        }
  return y;
}

// Largest |a - b| / (1 + |b|): relative for large values, absolute near zero (sums that cancel).
double max_scaled_diff(const std::vector<double>& a, const std::vector<double>& b) {
  if (a.size() != b.size()) return INFINITY;
  double m = 0;
  for (size_t i = 0; i < a.size(); ++i)
    m = std::max(m, std::fabs(a[i] - b[i]) / (1 + std::fabs(b[i])));
  return m;
}

Conv2dOptions options_of(const ConvShape& s) {
  Conv2dOptions o = Conv2dOptions::stride(s.stride);
  o.groups = s.groups;
  o.same = s.same;
  o.pad_h = o.pad_w = s.pad;
  return o;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(fused_kernels)

BOOST_AUTO_TEST_CASE(conv2d_bias_equals_the_plain_loop) {
  // Every kernel path: pointwise (several parallel row chunks), dense 3x3 im2col (more pixels
  // than one patch block), strided 1x1, grouped, depthwise flat / blocked (> 32 channels, with a
  // remainder) / multiplier 2; odd sizes, stride 2 and 3, 'same' and explicit padding.
  const std::vector<ConvShape> shapes = {
      {3, 13, 11, 7, 1, 1, 9, 1, 1, 0, false},   {2, 15, 17, 6, 3, 3, 5, 1, 1, 0, true},
      {2, 9, 7, 5, 3, 3, 4, 2, 1, 1, false},     {1, 11, 10, 4, 1, 1, 6, 2, 1, 0, false},
      {2, 8, 7, 6, 3, 3, 9, 3, 3, 0, true},      {2, 9, 8, 5, 3, 3, 5, 1, 5, 0, true},
      {2, 9, 9, 37, 3, 3, 37, 2, 37, 0, true},   {1, 10, 7, 35, 3, 3, 35, 3, 35, 1, false},
      {2, 7, 6, 3, 3, 3, 6, 2, 3, 0, true},      {1, 17, 19, 3, 3, 3, 24, 2, 1, 0, true},
      {2, 14, 14, 24, 1, 1, 96, 1, 1, 0, false}, {2, 14, 14, 96, 3, 3, 96, 1, 96, 0, true},
  };
  Rng rng(17);
  for (int threads : {1, 2}) {
    set_num_threads(threads);
    for (const ConvShape& s : shapes) {
      for (DType dt : {DType::F32, DType::F64}) {
        Tensor x = randn(Shape{s.n, s.h, s.w, s.c}, rng, dt);
        Tensor w = randn(Shape{s.kh, s.kw, s.c / s.groups, s.oc}, rng, dt);
        Tensor b = randn(Shape{s.oc}, rng, dt);
        int oh, ow;
        const std::vector<double> expect =
            plain_conv_bias(s, x.to_vector(), w.to_vector(), b.to_vector(), &oh, &ow);
        Tensor y = conv2d(x, w, b, options_of(s));
        BOOST_TEST_REQUIRE((y.shape() == Shape{s.n, oh, ow, s.oc}));
        const double tol = dt == DType::F32 ? 2e-5 : 1e-12;
        BOOST_TEST(max_scaled_diff(y.to_vector(), expect) < tol);
        // And equal to the unfused conv followed by the broadcast add.
        BOOST_TEST(max_scaled_diff(y.to_vector(), add(conv2d(x, w, options_of(s)), b).to_vector()) <
                   tol);
      }
    }
  }
  set_num_threads(1);
  Tensor x = Tensor::zeros(Shape{1, 4, 4, 2});
  Tensor w = Tensor::zeros(Shape{3, 3, 2, 3});
  BOOST_CHECK_THROW(conv2d(x, w, Tensor::zeros(Shape{2}), Conv2dOptions{}), agilenn::Error);
}

BOOST_AUTO_TEST_CASE(conv2d_bias_gradients_equal_the_unfused_ops) {
  // Bias gradient = sum of the output gradient over (N, H, W); x and w as the plain conv.
  Rng rng(23);
  Conv2dOptions o = Conv2dOptions::stride(2);
  o.same = true;
  Tensor x = randn(Shape{3, 9, 7, 5}, rng, DType::F64).set_requires_grad(true);
  Tensor w = randn(Shape{3, 3, 5, 4}, rng, DType::F64).set_requires_grad(true);
  Tensor b = randn(Shape{4}, rng, DType::F64).set_requires_grad(true);
  Tensor probe = randn(Shape{3, 5, 4, 4}, rng, DType::F64);
  auto fused = grad({sum(mul(conv2d(x, w, b, o), probe))}, {x, w, b});
  auto plain = grad({sum(mul(add(conv2d(x, w, o), b), probe))}, {x, w, b});
  for (size_t i = 0; i < 3; ++i)
    BOOST_TEST(max_scaled_diff(fused[i].to_vector(), plain[i].to_vector()) < 1e-12);
}

BOOST_AUTO_TEST_CASE(byte_mask_activations_equal_the_plain_loop) {
  // Large enough to split over threads; values exactly on the window bounds check which side
  // each bound belongs to (relu, relu6: open; clamp: closed). First and second order.
  for (int threads : {1, 2}) {
    set_num_threads(threads);
    const int64_t n = 3 * 40000 + 7;
    std::vector<double> v(static_cast<size_t>(n), 0.0);
    Rng rng(31);
    const std::vector<double> r = rand_uniform(Shape{n}, rng, -2, 8, DType::F64).to_vector();
    for (int64_t i = 0; i < n; ++i) {
      const double bounds[] = {0.0, 6.0, -0.5, 0.75};
      v[size_t(i)] = i % 5 == 4 ? bounds[(i / 5) % 4] : r[size_t(i)];
    }
    struct Act {
      const char* name;
      std::function<Tensor(const Tensor&)> f;
      double lo, hi;
      bool closed;
    };
    const std::vector<Act> acts = {
        {"relu", [](const Tensor& a) { return relu(a); }, 0, INFINITY, false},
        {"relu6", [](const Tensor& a) { return relu6(a); }, 0, 6, false},
        {"clamp", [](const Tensor& a) { return clamp(a, -0.5, 0.75); }, -0.5, 0.75, true},
    };
    for (DType dt : {DType::F32, DType::F64}) {
      Tensor x0 = Tensor::from_vector(v, Shape{n}, dt);
      const std::vector<double> xv = x0.to_vector();
      Tensor gv = rand_uniform(Shape{n}, rng, -1, 1, dt);
      for (const Act& act : acts) {
        Tensor x = x0.detach().set_requires_grad(true);
        Tensor y = act.f(x);
        auto g = grad({sum(mul(y, gv))}, {x}, {}, true)[0];
        // d/dgv of <g, gv> = mask * gv again: the masked op's own gradient (second order).
        Tensor gvv = gv.detach().set_requires_grad(true);
        Tensor x2 = x0.detach().set_requires_grad(true);
        auto g1 = grad({sum(mul(act.f(x2), gvv))}, {x2}, {}, true)[0];
        auto gg = grad({sum(mul(g1, gv))}, {gvv})[0];
        const std::vector<double> yv = y.to_vector(), gd = g.to_vector(), ggv = gg.to_vector(),
                                  gvec = gv.to_vector();
        int bad = 0;
        for (int64_t i = 0; i < n; ++i) {
          const double a = xv[size_t(i)];
          const bool in = act.closed ? (a >= act.lo && a <= act.hi) : (a > act.lo && a < act.hi);
          const double ey = a < act.lo ? act.lo : (a > act.hi ? act.hi : a);
          const double eg = in ? gvec[size_t(i)] : 0.0;
          bad += yv[size_t(i)] != ey;
          bad += gd[size_t(i)] != eg;
          bad += ggv[size_t(i)] != eg;
        }
        BOOST_TEST(bad == 0, act.name << " threads " << threads << ": " << bad << " mismatches");
      }
    }
  }
  set_num_threads(1);
}

BOOST_AUTO_TEST_SUITE_END()
