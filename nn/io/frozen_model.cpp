#include "nn/io/frozen_model.h"

#include <algorithm>
#include <cmath>

#include "nn/io/error.h"

namespace agilenn {

const char* frozen_layer_kind_name(FrozenLayerKind kind) {
  switch (kind) {
    case FrozenLayerKind::DepthwiseConv:
      return "depthwise_conv";
    case FrozenLayerKind::Conv:
      return "conv";
    case FrozenLayerKind::BatchNorm:
      return "batch_norm";
    case FrozenLayerKind::Relu6:
      return "relu6";
    case FrozenLayerKind::GridAvgPool:
      return "grid_avg_pool";
    case FrozenLayerKind::Dense:
      return "dense";
  }
  return "?";
}

int same_pad_before(int in, int kernel, int stride) {
  int out = (in + stride - 1) / stride;
  int total = std::max((out - 1) * stride + kernel - in, 0);
  return total / 2;
}

namespace {

std::string layer_where(const char* part, size_t i, const FrozenLayer& l) {
  return std::string("frozen model: ") + part + "[" + std::to_string(i) + "] (" +
         frozen_layer_kind_name(l.kind) + ")";
}

// Checks one layer against its input dims and returns the output dims.
FrozenModel::Shape check_layer(const FrozenLayer& l, FrozenModel::Shape in,
                               const std::string& where) {
  auto need = [&](bool ok, const std::string& what) {
    if (!ok) throw error_at(where, what);
  };
  auto need_size = [&](const std::vector<float>& v, size_t n, const char* name) {
    need(v.size() == n, std::string(name) + " has " + std::to_string(v.size()) +
                            " values, expected " + std::to_string(n));
  };
  switch (l.kind) {
    case FrozenLayerKind::DepthwiseConv:
    case FrozenLayerKind::Conv: {
      need(l.kh >= 1 && l.kw >= 1 && l.stride >= 1, "kernel and stride must be >= 1");
      need(l.pad_top >= 0 && l.pad_left >= 0 && l.pad_top < l.kh && l.pad_left < l.kw,
           "padding must be in [0, kernel)");
      need(l.cin == in.c,
           "cin " + std::to_string(l.cin) + " != input channels " + std::to_string(in.c));
      FrozenModel::Shape out{(in.h + l.stride - 1) / l.stride, (in.w + l.stride - 1) / l.stride,
                             l.cout};
      if (l.kind == FrozenLayerKind::DepthwiseConv) {
        need(l.mult >= 1 && l.cout == l.cin * l.mult, "cout must be cin * mult");
      }
      size_t wsize = size_t(l.kh) * l.kw * l.cin *
                     (l.kind == FrozenLayerKind::DepthwiseConv ? l.mult : l.cout);
      need_size(l.weight, wsize, "weight");
      if (!l.bias.empty()) need_size(l.bias, l.cout, "bias");
      return out;
    }
    case FrozenLayerKind::BatchNorm: {
      need_size(l.gamma, in.c, "gamma");
      need_size(l.beta, in.c, "beta");
      need_size(l.running_mean, in.c, "running_mean");
      need_size(l.running_var, in.c, "running_var");
      need(l.eps > 0, "eps must be > 0");
      for (float v : l.running_var) need(v >= 0, "running_var must be >= 0");
      return in;
    }
    case FrozenLayerKind::Relu6:
      return in;
    case FrozenLayerKind::GridAvgPool:
      need(l.grid >= 1 && l.grid <= std::min(in.h, in.w), "grid must be in [1, min(H, W)]");
      return {l.grid, l.grid, in.c};
    case FrozenLayerKind::Dense: {
      int n = in.h * in.w * in.c;
      need(l.cin == n, "cin " + std::to_string(l.cin) + " != flattened input " + std::to_string(n));
      need(l.cout >= 1, "cout must be >= 1");
      need_size(l.weight, size_t(l.cin) * l.cout, "weight");
      if (!l.bias.empty()) need_size(l.bias, l.cout, "bias");
      return {1, 1, l.cout};
    }
  }
  throw error_at(where, "unknown layer kind");
}

}  // namespace

FrozenModel::Shape FrozenModel::feature_shape() const {
  if (in_h < 1 || in_w < 1 || in_c < 1) throw Error("frozen model: input shape must be positive");
  Shape s{in_h, in_w, in_c};
  for (size_t i = 0; i < extractor.size(); ++i) {
    const auto& l = extractor[i];
    if (l.kind == FrozenLayerKind::GridAvgPool || l.kind == FrozenLayerKind::Dense)
      throw error_at(layer_where("extractor", i, l), "not allowed in the extractor");
    s = check_layer(l, s, layer_where("extractor", i, l));
  }
  return s;
}

void FrozenModel::validate() const {
  if (input_mean.size() != size_t(in_c) || input_std.size() != size_t(in_c))
    throw Error("frozen model: input_mean/input_std need one value per input channel");
  for (float s : input_std)
    if (!(s > 0)) throw Error("frozen model: input_std must be > 0");
  Shape f = feature_shape();
  if (split_k < 1 || split_k >= f.c)
    throw Error("frozen model: split_k " + std::to_string(split_k) + " must be in [1, " +
                std::to_string(f.c - 1) + "]");
  Shape s{f.h, f.w, split_k};
  for (size_t i = 0; i < local_head.size(); ++i)
    s = check_layer(local_head[i], s, layer_where("local_head", i, local_head[i]));
  if (s.h * s.w * s.c != num_classes)
    throw Error("frozen model: local head produces " + std::to_string(s.h * s.w * s.c) +
                " logits, num_classes is " + std::to_string(num_classes));
  if (centroids.size() < 2 || centroids.size() > 256)
    throw Error("frozen model: need 2..256 centroids");
}

std::vector<float> apply_frozen_layer(const FrozenLayer& l, const std::vector<float>& x, int h,
                                      int w, int c, int* oh_out, int* ow_out, int* oc_out) {
  std::vector<float> y;
  int oh = h, ow = w, oc = c;
  switch (l.kind) {
    case FrozenLayerKind::DepthwiseConv:
    case FrozenLayerKind::Conv: {
      bool dw = l.kind == FrozenLayerKind::DepthwiseConv;
      oh = (h + l.stride - 1) / l.stride;
      ow = (w + l.stride - 1) / l.stride;
      oc = l.cout;
      y.assign(size_t(oh) * ow * oc, 0.f);
      // x (h, w, c), weight (kh, kw, c, mult | cout) -> y (oh, ow, oc)
      for (int oy = 0; oy < oh; ++oy)
        for (int ox = 0; ox < ow; ++ox) {
          float* out = &y[(size_t(oy) * ow + ox) * oc];
          for (int o = 0; o < oc; ++o) out[o] = l.bias.empty() ? 0.f : l.bias[o];
          for (int ky = 0; ky < l.kh; ++ky) {
            int iy = oy * l.stride - l.pad_top + ky;
            if (iy < 0 || iy >= h) continue;
            for (int kx = 0; kx < l.kw; ++kx) {
              int ix = ox * l.stride - l.pad_left + kx;
              if (ix < 0 || ix >= w) continue;
              const float* in = &x[(size_t(iy) * w + ix) * c];
              const float* wt = &l.weight[(size_t(ky) * l.kw + kx) * c * (dw ? l.mult : oc)];
              if (dw) {
                for (int ci = 0; ci < c; ++ci)
                  for (int m = 0; m < l.mult; ++m)
                    out[ci * l.mult + m] += in[ci] * wt[ci * l.mult + m];
              } else {
                for (int ci = 0; ci < c; ++ci)
                  for (int o = 0; o < oc; ++o) out[o] += in[ci] * wt[size_t(ci) * oc + o];
              }
            }
          }
        }
      break;
    }
    case FrozenLayerKind::BatchNorm: {
      y = x;
      for (size_t i = 0; i < y.size(); ++i) {
        size_t ch = i % size_t(c);
        y[i] = l.gamma[ch] * (y[i] - l.running_mean[ch]) / std::sqrt(l.running_var[ch] + l.eps) +
               l.beta[ch];
      }
      break;
    }
    case FrozenLayerKind::Relu6: {
      y = x;
      for (float& v : y) v = std::min(std::max(v, 0.f), 6.f);
      break;
    }
    case FrozenLayerKind::GridAvgPool: {
      // cell i spans [floor(i*H/G), ceil((i+1)*H/G)) as PyTorch's adaptive_avg_pool2d
      int g = l.grid;
      oh = ow = g;
      y.assign(size_t(g) * g * c, 0.f);
      for (int gy = 0; gy < g; ++gy)
        for (int gx = 0; gx < g; ++gx) {
          int y0 = gy * h / g, y1 = ((gy + 1) * h + g - 1) / g;
          int x0 = gx * w / g, x1 = ((gx + 1) * w + g - 1) / g;
          for (int ci = 0; ci < c; ++ci) {
            double sum = 0;
            for (int iy = y0; iy < y1; ++iy)
              for (int ix = x0; ix < x1; ++ix) sum += x[(size_t(iy) * w + ix) * c + ci];
            y[(size_t(gy) * g + gx) * c + ci] = float(sum / ((y1 - y0) * (x1 - x0)));
          }
        }
      break;
    }
    case FrozenLayerKind::Dense: {
      // x (cin) flattened NHWC, weight (cin, cout) -> y (cout)
      oh = ow = 1;
      oc = l.cout;
      y.assign(oc, 0.f);
      for (int o = 0; o < oc; ++o) y[o] = l.bias.empty() ? 0.f : l.bias[o];
      for (int i = 0; i < l.cin; ++i)
        for (int o = 0; o < oc; ++o) y[o] += x[i] * l.weight[size_t(i) * oc + o];
      break;
    }
  }
  *oh_out = oh;
  *ow_out = ow;
  *oc_out = oc;
  return y;
}

int nearest_centroid(std::span<const float> centroids, double v) {
  int best = 0;
  double best_d = std::fabs(v - double(centroids[0]));
  for (size_t j = 1; j < centroids.size(); ++j) {
    double d = std::fabs(v - double(centroids[j]));
    if (d < best_d) {
      best_d = d;
      best = int(j);
    }
  }
  return best;
}

FloatForward float_forward(const FrozenModel& m, std::span<const uint8_t> image) {
  size_t n_in = size_t(m.in_h) * m.in_w * m.in_c;
  if (image.size() != n_in)
    throw Error("float_forward: image has " + std::to_string(image.size()) + " bytes, expected " +
                std::to_string(n_in));
  std::vector<float> x(n_in);
  for (size_t i = 0; i < n_in; ++i) {
    size_t ch = i % size_t(m.in_c);
    x[i] = (image[i] / 255.f - m.input_mean[ch]) / m.input_std[ch];
  }
  int h = m.in_h, w = m.in_w, c = m.in_c;
  for (const auto& l : m.extractor) x = apply_frozen_layer(l, x, h, w, c, &h, &w, &c);
  FloatForward out;
  out.features = x;
  int k = m.split_k;
  std::vector<float> local(size_t(h) * w * k);
  out.indices.resize(size_t(h) * w * (c - k));
  for (size_t p = 0; p < size_t(h) * w; ++p) {
    for (int ch = 0; ch < k; ++ch) local[p * k + ch] = x[p * c + ch];
    for (int ch = k; ch < c; ++ch)
      out.indices[p * (c - k) + ch - k] = uint8_t(nearest_centroid(m.centroids, x[p * c + ch]));
  }
  int lh = h, lw = w, lc = k;
  for (const auto& l : m.local_head)
    local = apply_frozen_layer(l, local, lh, lw, lc, &lh, &lw, &lc);
  out.local_logits = local;
  return out;
}

FrozenModel random_frozen_model(const RandomModelOptions& o, uint64_t seed) {
  std::mt19937_64 rng(seed);
  auto uniform = [&](float lo, float hi) {
    return std::uniform_real_distribution<float>(lo, hi)(rng);
  };
  auto fill = [&](size_t n, float bound) {
    std::vector<float> v(n);
    for (float& x : v) x = uniform(-bound, bound);
    return v;
  };
  FrozenModel m;
  m.in_h = o.in_h;
  m.in_w = o.in_w;
  m.in_c = o.in_c;
  m.input_mean.assign(o.in_c, 0.f);
  m.input_std.assign(o.in_c, 0.f);
  for (int c = 0; c < o.in_c; ++c) {
    m.input_mean[c] = uniform(0.2f, 0.5f);
    m.input_std[c] = uniform(0.2f, 0.4f);
  }
  auto dw = [&](int c, int stride, int h, int w) {
    FrozenLayer l;
    l.kind = FrozenLayerKind::DepthwiseConv;
    l.kh = l.kw = 3;
    l.stride = stride;
    l.pad_top = same_pad_before(h, 3, stride);
    l.pad_left = same_pad_before(w, 3, stride);
    l.cin = l.cout = c;
    l.weight = fill(size_t(9) * c, 1.f / 3.f);  // He-like: fan-in 9
    return l;
  };
  auto pw = [&](int cin, int cout) {
    FrozenLayer l;
    l.kind = FrozenLayerKind::Conv;
    l.cin = cin;
    l.cout = cout;
    l.weight = fill(size_t(cin) * cout, std::sqrt(6.f / cin));
    return l;
  };
  auto bn = [&](int c) {
    FrozenLayer l;
    l.kind = FrozenLayerKind::BatchNorm;
    for (int i = 0; i < c; ++i) {
      l.gamma.push_back(uniform(0.5f, 1.5f));
      l.beta.push_back(uniform(0.5f, 2.0f));  // keeps most ReLU6 outputs inside (0, 6)
      l.running_mean.push_back(uniform(-0.3f, 0.3f));
      l.running_var.push_back(uniform(0.5f, 2.f));
    }
    return l;
  };
  FrozenLayer relu6;
  relu6.kind = FrozenLayerKind::Relu6;
  int h2 = (o.in_h + o.stride - 1) / o.stride, w2 = (o.in_w + o.stride - 1) / o.stride;
  m.extractor = {dw(o.in_c, o.stride, o.in_h, o.in_w),
                 pw(o.in_c, o.mid_channels),
                 bn(o.mid_channels),
                 relu6,
                 dw(o.mid_channels, 1, h2, w2),
                 pw(o.mid_channels, o.channels),
                 bn(o.channels),
                 relu6};
  m.split_k = o.split_k;
  FrozenLayer pool;
  pool.kind = FrozenLayerKind::GridAvgPool;
  pool.grid = o.grid;
  FrozenLayer dense;
  dense.kind = FrozenLayerKind::Dense;
  dense.cin = o.split_k * o.grid * o.grid;
  dense.cout = o.num_classes;
  dense.weight = fill(size_t(dense.cin) * dense.cout, std::sqrt(3.f / dense.cin));
  dense.bias = fill(dense.cout, 0.1f);
  m.local_head = {pool, dense, bn(o.num_classes)};
  for (int j = 0; j < o.num_centroids; ++j) m.centroids.push_back(uniform(0.f, 6.f));
  m.num_classes = o.num_classes;
  m.validate();
  return m;
}

}  // namespace agilenn
