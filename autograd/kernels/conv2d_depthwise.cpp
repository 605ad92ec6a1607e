// Depthwise conv2d (groups == c, channel multiplier m = oc / c >= 1): picks the loops compiled
// for the widest instruction set this CPU has (conv2d_depthwise_{generic,avx2,avx512}.cpp, from
// conv2d_depthwise_impl.h), splits the batch over the thread pool, builds the tiled weights of
// the flat path once per call and sums backward-weight partials in a fixed order.
#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <string>

#include "autograd/kernels/conv2d_common.h"
#include "autograd/parallel.h"

namespace agilenn::ag::kernels::detail {

#define AGILENN_DW_DECLARE(ns)                                                     \
  namespace ns {                                                                   \
  template <typename T>                                                            \
  void forward(const DepthwiseArgs<T>&, int, int, const T*, const T*, T*);         \
  template <typename T>                                                            \
  void backward_input(const DepthwiseArgs<T>&, int, int, const T*, const T*, T*);  \
  template <typename T>                                                            \
  void backward_weight(const DepthwiseArgs<T>&, int, int, const T*, const T*, T*); \
  }
AGILENN_DW_DECLARE(dw_generic)
AGILENN_DW_DECLARE(dw_avx2)
AGILENN_DW_DECLARE(dw_avx512)
#undef AGILENN_DW_DECLARE

namespace {

enum class Isa { generic, avx2, avx512 };

// AGILENN_SIMD=generic|avx2|avx512 caps the choice (for testing every variant on one host).
Isa detect_isa() {
  __builtin_cpu_init();
  Isa best = Isa::generic;
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) best = Isa::avx2;
  if (best == Isa::avx2 && __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vl"))
    best = Isa::avx512;
  if (const char* cap = std::getenv("AGILENN_SIMD")) {
    const std::string s = cap;
    if (s == "generic") best = Isa::generic;
    if (s == "avx2" && best == Isa::avx512) best = Isa::avx2;
  }
  return best;
}

Isa isa() {
  static const Isa chosen = detect_isa();
  return chosen;
}

template <typename T>
struct Loops {
  void (*forward)(const DepthwiseArgs<T>&, int, int, const T*, const T*, T*);
  void (*backward_input)(const DepthwiseArgs<T>&, int, int, const T*, const T*, T*);
  void (*backward_weight)(const DepthwiseArgs<T>&, int, int, const T*, const T*, T*);
};

template <typename T>
Loops<T> loops() {
  switch (isa()) {
    case Isa::avx512:
      return {dw_avx512::forward<T>, dw_avx512::backward_input<T>, dw_avx512::backward_weight<T>};
    case Isa::avx2:
      return {dw_avx2::forward<T>, dw_avx2::backward_input<T>, dw_avx2::backward_weight<T>};
    default:
      return {dw_generic::forward<T>, dw_generic::backward_input<T>,
              dw_generic::backward_weight<T>};
  }
}

// The flat path (a whole output row as one contiguous run) pays off when a pixel has too few
// channels to fill a vector; it needs stride 1 along w and multiplier 1.
template <typename T>
bool use_flat(const Conv2dGeom& g) {
  return g.oc == g.c && g.stride_w == 1 && g.c * sizeof(T) < 64;
}

// wtile(kh, kw, ow, c) = w(kh, kw, c)
template <typename T>
const T* tile_weights(const Conv2dGeom& g, const T* w) {
  const size_t row = size_t(g.ow) * g.c;
  T* t = scratch<T>(size_t(g.kh) * g.kw * row, 2);
  for (int tap = 0; tap < g.kh * g.kw; ++tap)
    for (int ow = 0; ow < g.ow; ++ow)
      std::memcpy(t + tap * row + size_t(ow) * g.c, w + size_t(tap) * g.c, sizeof(T) * g.c);
  return t;
}

// Fills the tap tables of `a` (per-call, in this thread's scratch).
template <typename T>
void tap_tables(const Conv2dGeom& g, DepthwiseArgs<T>& a) {
  int* t = scratch<int>(size_t(2) * g.ow + size_t(g.w) * g.kw + size_t(g.h) * g.kh, 0);
  int* ow_taps = t;
  int* ow_of = t + 2 * g.ow;
  int* oh_of = ow_of + size_t(g.w) * g.kw;
  for (int ow = 0; ow < g.ow; ++ow) {
    int j0 = g.kw, j1 = 0;
    for (int j = 0; j < g.kw; ++j) {
      const int iw = ow * g.stride_w - g.pad_left + j * g.dil_w;
      if (iw >= 0 && iw < g.w) j0 = std::min(j0, j), j1 = j + 1;
    }
    ow_taps[2 * ow] = std::min(j0, j1), ow_taps[2 * ow + 1] = j1;
  }
  auto inverse = [](int size, int k, int out, int stride, int pad, int dil, int* of) {
    for (int in = 0; in < size; ++in)
      for (int t = 0; t < k; ++t) {
        const int num = in + pad - t * dil;  // = o * stride
        of[in * k + t] = num >= 0 && num % stride == 0 && num / stride < out ? num / stride : -1;
      }
  };
  inverse(g.w, g.kw, g.ow, g.stride_w, g.pad_left, g.dil_w, ow_of);
  inverse(g.h, g.kh, g.oh, g.stride_h, g.pad_top, g.dil_h, oh_of);
  a.ow_taps = ow_taps, a.ow_of = ow_of, a.oh_of = oh_of;
}

}  // namespace

template <typename T>
void depthwise_forward(const Conv2dGeom& g, const T* x, const T* w, T* y, const T* bias) {
  DepthwiseArgs<T> args{
      &g, use_flat<T>(g) ? tile_weights(g, w) : nullptr, nullptr, nullptr, nullptr, nullptr, bias};
  tap_tables(g, args);
  const auto fn = loops<T>().forward;
  parallel_for_ref(0, g.n, 1, [&](int64_t n0, int64_t n1) { fn(args, int(n0), int(n1), x, w, y); });
}

template <typename T>
void depthwise_backward_input(const Conv2dGeom& g, const T* dy, const T* w, T* dx) {
  DepthwiseArgs<T> args{
      &g,     use_flat<T>(g) ? tile_weights(g, w) : nullptr, nullptr, nullptr, nullptr, nullptr,
      nullptr};
  tap_tables(g, args);
  const auto fn = loops<T>().backward_input;
  parallel_for_ref(0, g.n, 1,
                   [&](int64_t n0, int64_t n1) { fn(args, int(n0), int(n1), dy, w, dx); });
}

// dw = sum over batch parts (fixed by the thread count) of each part's sum, in part order.
template <typename T>
void depthwise_backward_weight(const Conv2dGeom& g, const T* x, const T* dy, T* dw) {
  const int parts = batch_parts(g.n);
  const size_t wsize = size_t(g.kh) * g.kw * g.oc;
  const bool flat = use_flat<T>(g);
  const size_t tile = flat ? size_t(g.kh) * g.kw * g.ow * g.c : 0;
  T* partial = scratch<T>(wsize * (parts - 1) + tile * parts + 1, 3);
  T* tiles = partial + wsize * (parts - 1);
  const auto fn = loops<T>().backward_weight;
  parallel_for_ref(0, parts, 1, [&](int64_t q0, int64_t q1) {
    for (int64_t q = q0; q < q1; ++q) {
      DepthwiseArgs<T> args{&g,      nullptr, flat ? tiles + tile * q : nullptr, nullptr, nullptr,
                            nullptr, nullptr};
      T* out = q == 0 ? dw : partial + wsize * (q - 1);
      fn(args, part_begin(g.n, parts, int(q)), part_begin(g.n, parts, int(q) + 1), x, dy, out);
    }
  });
  for (int q = 1; q < parts; ++q) {
    const T* __restrict s = partial + wsize * (q - 1);
    for (size_t i = 0; i < wsize; ++i) dw[i] += s[i];
  }
}

#define AGILENN_INSTANTIATE(T)                                                             \
  template void depthwise_forward<T>(const Conv2dGeom&, const T*, const T*, T*, const T*); \
  template void depthwise_backward_input<T>(const Conv2dGeom&, const T*, const T*, T*);    \
  template void depthwise_backward_weight<T>(const Conv2dGeom&, const T*, const T*, T*);
AGILENN_INSTANTIATE(float)
AGILENN_INSTANTIATE(double)
#undef AGILENN_INSTANTIATE

}  // namespace agilenn::ag::kernels::detail
