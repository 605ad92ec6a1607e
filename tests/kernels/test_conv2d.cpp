// conv2d kernels (every path, float and double, 1 and 2 threads) against a naive loop.
#include <boost/test/unit_test.hpp>
#include <cmath>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "autograd/kernels/conv2d.h"
#include "autograd/parallel.h"
#include "nn/io/error.h"

namespace k = agilenn::ag::kernels;
using k::Conv2dGeom;

namespace {

std::string describe(const Conv2dGeom& g) {
  std::ostringstream s;
  s << "n" << g.n << " " << g.h << "x" << g.w << "x" << g.c << " -> " << g.oh << "x" << g.ow << "x"
    << g.oc << " k" << g.kh << "x" << g.kw << " s" << g.stride_h << "," << g.stride_w << " p"
    << g.pad_top << "," << g.pad_left << " d" << g.dil_h << "," << g.dil_w << " g" << g.groups;
  return s.str();
}

size_t xsize(const Conv2dGeom& g) {
  return size_t(g.n) * g.h * g.w * g.c;
}
size_t ysize(const Conv2dGeom& g) {
  return size_t(g.n) * g.oh * g.ow * g.oc;
}
size_t wsize(const Conv2dGeom& g) {
  return size_t(g.kh) * g.kw * (g.c / g.groups) * g.oc;
}

// Calls f(x_index, w_index, y_index) for every multiply of the convolution, straight from the
// definition y(n,oh,ow,o) = sum_{i,j,ci} x(n, oh*s-pt+i*d, ow*s-pl+j*d, grp*cg+ci) w(i,j,ci,o).
template <typename F>
void for_each_term(const Conv2dGeom& g, F f) {
  const int cg = g.c / g.groups, ocg = g.oc / g.groups;
  for (int n = 0; n < g.n; ++n)
    for (int oh = 0; oh < g.oh; ++oh)
      for (int ow = 0; ow < g.ow; ++ow)
        for (int o = 0; o < g.oc; ++o)
          for (int i = 0; i < g.kh; ++i)
            for (int j = 0; j < g.kw; ++j)
              for (int ci = 0; ci < cg; ++ci) {
                const int ih = oh * g.stride_h - g.pad_top + i * g.dil_h;
                const int iw = ow * g.stride_w - g.pad_left + j * g.dil_w;
                if (ih < 0 || ih >= g.h || iw < 0 || iw >= g.w) continue;
                const int c = (o / ocg) * cg + ci;
                f(((size_t(n) * g.h + ih) * g.w + iw) * g.c + c,
                  ((size_t(i) * g.kw + j) * cg + ci) * g.oc + o,
                  ((size_t(n) * g.oh + oh) * g.ow + ow) * g.oc + o);
              }
}

// out = sum of a[ia]*b[ib] into index io, in long double; abs = the same sum of magnitudes
// (the error bound of any summation order scales with it).
struct Reference {
  std::vector<long double> value, magnitude;
};

template <typename T>
void expect_close(const std::vector<T>& got, const Reference& ref, double tol,
                  const std::string& what) {
  BOOST_REQUIRE(got.size() == ref.value.size());
  size_t bad = 0;
  double worst = 0;
  for (size_t i = 0; i < got.size(); ++i) {
    const long double err = std::fabs(static_cast<long double>(got[i]) - ref.value[i]);
    const long double bound = tol * (ref.magnitude[i] + 1e-30L);
    if (!(err <= bound)) {
      ++bad;
      worst = std::max(worst, double(err / (ref.magnitude[i] + 1e-30L)));
    }
  }
  BOOST_TEST(bad == 0u, what << ": " << bad << " of " << got.size()
                             << " elements off, worst relative " << worst);
}

template <typename T>
void check_geometry(const Conv2dGeom& g, std::mt19937& rng, const std::string& label) {
  std::uniform_real_distribution<double> u(-1, 1);
  std::vector<T> x(xsize(g)), w(wsize(g)), dy(ysize(g));
  for (auto& v : x) v = T(u(rng));
  for (auto& v : w) v = T(u(rng));
  for (auto& v : dy) v = T(u(rng));
  const double tol = sizeof(T) == 4 ? 1e-4 : 1e-12;

  Reference ry{std::vector<long double>(ysize(g)), std::vector<long double>(ysize(g))};
  Reference rdx{std::vector<long double>(xsize(g)), std::vector<long double>(xsize(g))};
  Reference rdw{std::vector<long double>(wsize(g)), std::vector<long double>(wsize(g))};
  for_each_term(g, [&](size_t xi, size_t wi, size_t yi) {
    const long double a = (long double)x[xi] * w[wi], b = (long double)dy[yi] * w[wi],
                      c = (long double)x[xi] * dy[yi];
    ry.value[yi] += a, ry.magnitude[yi] += std::fabs(a);
    rdx.value[xi] += b, rdx.magnitude[xi] += std::fabs(b);
    rdw.value[wi] += c, rdw.magnitude[wi] += std::fabs(c);
  });

  const std::string what = label + " " + describe(g) + (sizeof(T) == 4 ? " float" : " double");
  // Outputs start as garbage: kernels must overwrite, not accumulate.
  std::vector<T> y(ysize(g), T(7)), dx(xsize(g), T(-5)), dw(wsize(g), T(3));
  k::conv2d_forward(g, x.data(), w.data(), y.data());
  k::conv2d_backward_input(g, dy.data(), w.data(), dx.data());
  k::conv2d_backward_weight(g, x.data(), dy.data(), dw.data());
  expect_close(y, ry, tol, what + " forward");
  expect_close(dx, rdx, tol, what + " backward_input");
  expect_close(dw, rdw, tol, what + " backward_weight");

  // Same thread count, same bits.
  std::vector<T> y2(ysize(g)), dx2(xsize(g)), dw2(wsize(g));
  k::conv2d_forward(g, x.data(), w.data(), y2.data());
  k::conv2d_backward_input(g, dy.data(), w.data(), dx2.data());
  k::conv2d_backward_weight(g, x.data(), dy.data(), dw2.data());
  BOOST_TEST((y == y2 && dx == dx2 && dw == dw2), what << " not deterministic");
}

// Output size for the given bottom/right padding, PyTorch's floor formula; `extra` adds windows
// that run past the padding (partial last windows, reading implied zeros).
int out_size(int in, int k, int s, int d, int pad_before, int pad_after, int extra) {
  return (in + pad_before + pad_after - (d * (k - 1) + 1)) / s + 1 + extra;
}

Conv2dGeom make(int n, int h, int w, int c, int oc, int kh, int kw, int s, int d, int pt, int pl,
                int pb, int pr, int groups, int extra = 0) {
  Conv2dGeom g{};
  g.n = n, g.h = h, g.w = w, g.c = c, g.oc = oc, g.kh = kh, g.kw = kw;
  g.stride_h = g.stride_w = s, g.dil_h = g.dil_w = d;
  g.pad_top = pt, g.pad_left = pl, g.groups = groups;
  g.oh = out_size(h, kh, s, d, pt, pb, extra);
  g.ow = out_size(w, kw, s, d, pl, pr, extra);
  return g;
}

// Fixed cases covering each kernel path and the shapes AgileNN uses (scaled down).
std::vector<Conv2dGeom> fixed_cases() {
  return {
      make(2, 5, 5, 3, 4, 1, 1, 1, 1, 0, 0, 0, 0, 1),         // pointwise GEMM path
      make(3, 7, 6, 1, 4, 1, 1, 1, 1, 0, 0, 0, 0, 1),         // pointwise 1 -> 4
      make(2, 7, 7, 5, 6, 1, 1, 2, 1, 0, 0, 0, 0, 1),         // strided 1x1 (im2col path)
      make(2, 9, 9, 3, 8, 3, 3, 1, 1, 1, 1, 1, 1, 1),         // dense 3x3 same
      make(2, 9, 8, 3, 5, 3, 3, 2, 1, 1, 1, 1, 1, 1),         // dense 3x3 stride 2
      make(2, 10, 11, 2, 3, 3, 3, 3, 2, 2, 1, 0, 2, 1),       // stride 3 dilation 2
      make(2, 8, 9, 4, 4, 3, 3, 1, 1, 1, 1, 1, 1, 4),         // depthwise m=1
      make(2, 9, 9, 4, 8, 3, 3, 2, 1, 1, 1, 1, 1, 4),         // depthwise m=2 stride 2
      make(2, 9, 9, 3, 3, 3, 3, 2, 1, 0, 0, 1, 1, 3),         // depthwise top/left pad 0, implied
      make(1, 11, 7, 2, 6, 5, 3, 3, 2, 3, 1, 0, 0, 2, 1),     // depthwise m=3, partial windows
      make(2, 8, 8, 6, 9, 3, 3, 1, 1, 1, 1, 1, 1, 3),         // general groups
      make(2, 7, 9, 8, 4, 2, 3, 2, 2, 1, 2, 0, 1, 2, 1),      // general groups, partial windows
      make(1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 1),         // 1 pixel, 1 channel
      make(1, 3, 3, 1, 1, 3, 3, 1, 1, 2, 2, 2, 2, 1),         // padding wider than half a window
      make(2, 16, 16, 64, 24, 3, 3, 1, 1, 1, 1, 1, 1, 1),     // several im2col blocks per image
      make(5, 14, 14, 24, 24, 3, 3, 2, 1, 1, 1, 1, 1, 24),    // MobileNetV2 depthwise stride 2
      make(5, 14, 14, 24, 96, 1, 1, 1, 1, 0, 0, 0, 0, 1),     // MobileNetV2 expand
      make(2, 9, 10, 72, 72, 3, 3, 1, 1, 1, 1, 1, 1, 72),     // depthwise, 2 register blocks + rest
      make(2, 9, 10, 40, 40, 3, 3, 2, 2, 2, 1, 0, 2, 40, 1),  // blocked, stride 2, dilation 2
      make(2, 7, 9, 40, 40, 3, 2, 3, 1, 0, 1, 2, 0, 40),      // blocked, stride 3, asymmetric
      make(2, 9, 9, 3, 3, 3, 3, 1, 2, 2, 0, 2, 2, 3, 1),      // flat depthwise, dilation, partial
      make(2, 9, 11, 9, 5, 3, 2, 1, 2, 1, 0, 2, 3, 1, 1),  // dense backward-input as rotated conv
      make(1, 5, 5, 8, 4, 1, 1, 1, 1, 1, 1, 1, 1, 1),      // padded 1x1: too much pad to rotate
      make(2, 6, 7, 12, 10, 3, 3, 1, 1, 0, 2, 2, 0, 1),    // rotated conv, asymmetric padding
      make(3, 8, 8, 16, 48, 3, 3, 2, 1, 1, 1, 1, 1, 16),   // depthwise multiplier 3, 16 channels
  };
}

Conv2dGeom random_geometry(std::mt19937& rng) {
  auto pick = [&](int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng); };
  for (;;) {
    Conv2dGeom g{};
    g.n = pick(1, 3), g.h = pick(1, 12), g.w = pick(1, 12);
    g.kh = pick(1, 4), g.kw = pick(1, 4);
    g.stride_h = pick(1, 3), g.stride_w = pick(1, 3);
    g.dil_h = pick(1, 2), g.dil_w = pick(1, 2);
    const int kind = pick(0, 4);
    const int c = pick(1, 6);
    if (kind == 0) {  // dense
      g.c = c, g.oc = pick(1, 7), g.groups = 1;
    } else if (kind == 1 || kind == 2) {  // depthwise, multiplier 1 or 2
      g.c = c, g.oc = c * kind, g.groups = c;
    } else if (kind == 3) {  // general groups
      g.groups = pick(2, 3), g.c = g.groups * pick(1, 3), g.oc = g.groups * pick(1, 3);
    } else {  // 1x1
      g.kh = g.kw = 1, g.c = c, g.oc = pick(1, 7), g.groups = 1;
      if (pick(0, 1)) g.stride_h = g.stride_w = 1;
    }
    const int ekh = g.dil_h * (g.kh - 1) + 1, ekw = g.dil_w * (g.kw - 1) + 1;
    g.pad_top = pick(0, ekh - 1), g.pad_left = pick(0, ekw - 1);
    const int pb = pick(0, ekh - 1), pr = pick(0, ekw - 1);
    const int extra = pick(0, 3) == 0 ? 1 : 0;
    if (g.h + g.pad_top + pb < ekh || g.w + g.pad_left + pr < ekw) continue;
    g.oh = out_size(g.h, g.kh, g.stride_h, g.dil_h, g.pad_top, pb, extra);
    g.ow = out_size(g.w, g.kw, g.stride_w, g.dil_w, g.pad_left, pr, extra);
    return g;
  }
}

struct RestoreThreads {
  int saved = agilenn::ag::num_threads();
  ~RestoreThreads() { agilenn::ag::set_num_threads(saved); }
};

template <typename T>
void run_all(int threads) {
  RestoreThreads restore;
  agilenn::ag::set_num_threads(threads);
  std::mt19937 rng(1234 + threads);
  for (const auto& g : fixed_cases()) check_geometry<T>(g, rng, "fixed");
  for (int i = 0; i < 150; ++i) check_geometry<T>(random_geometry(rng), rng, "random");
}

}  // namespace

BOOST_AUTO_TEST_SUITE(conv2d)

BOOST_AUTO_TEST_CASE(float_one_thread) {
  run_all<float>(1);
}
BOOST_AUTO_TEST_CASE(float_two_threads) {
  run_all<float>(2);
}
BOOST_AUTO_TEST_CASE(double_one_thread) {
  run_all<double>(1);
}
BOOST_AUTO_TEST_CASE(double_two_threads) {
  run_all<double>(2);
}

BOOST_AUTO_TEST_CASE(bad_geometry_is_an_error) {
  Conv2dGeom g = make(1, 5, 5, 6, 4, 3, 3, 1, 1, 1, 1, 1, 1, 1);
  std::vector<float> x(xsize(g)), w(wsize(g)), y(ysize(g));
  Conv2dGeom bad = g;
  bad.groups = 4;  // does not divide c = 6
  BOOST_CHECK_THROW(k::conv2d_forward(bad, x.data(), w.data(), y.data()), agilenn::Error);
  bad = g, bad.stride_h = 0;
  BOOST_CHECK_THROW(k::conv2d_backward_input(bad, y.data(), w.data(), x.data()), agilenn::Error);
  bad = g, bad.pad_left = -1;
  BOOST_CHECK_THROW(k::conv2d_backward_weight(bad, x.data(), y.data(), w.data()), agilenn::Error);
  bad = g, bad.oh = 0;
  BOOST_CHECK_THROW(k::conv2d_forward(bad, x.data(), w.data(), y.data()), agilenn::Error);
}

BOOST_AUTO_TEST_SUITE_END()
