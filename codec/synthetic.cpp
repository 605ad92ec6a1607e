#include "codec/synthetic.h"

#include <algorithm>
#include <cmath>

#include "nn/io/error.h"

namespace agilenn::codec {

double SplitMix64::normal() {
  const double u1 = 1.0 - uniform(), u2 = uniform();
  return std::sqrt(-2.0 * std::log(u1)) * std::cos(6.283185307179586 * u2);
}

SyntheticFeatures make_synthetic_features(const SyntheticSpec& spec) {
  if (spec.n == 0 || spec.height == 0 || spec.width == 0 || spec.channels < 2)
    throw error_at("synthetic", "n, H, W must be >= 1 and channels >= 2");
  if (spec.alphabet < 2 || spec.alphabet > 256)
    throw error_at("synthetic", "alphabet must be 2..256");
  constexpr int kLatents = 4, kWaves = 3;
  const uint32_t H = spec.height, W = spec.width, C = spec.channels;
  // The "extractor": per-channel mixing weights, gain and bias.
  SplitMix64 model_rng(spec.model_seed);
  std::vector<double> mix(size_t(C) * kLatents), gain(C), bias(C);
  for (uint32_t c = 0; c < C; ++c) {
    double norm = 0;
    for (int l = 0; l < kLatents; ++l) {
      mix[c * kLatents + l] = model_rng.normal();
      norm += mix[c * kLatents + l] * mix[c * kLatents + l];
    }
    for (int l = 0; l < kLatents; ++l) mix[c * kLatents + l] /= std::sqrt(norm);
    gain[c] = 1.0 + 2.0 * model_rng.uniform();
    bias[c] = -1.5 + 2.5 * model_rng.uniform();
  }
  SyntheticFeatures f;
  f.shape = {spec.n, H, W, C};
  f.values.resize(f.shape.size());
  SplitMix64 rng(spec.seed);
  std::vector<double> latent(size_t(kLatents) * H * W);
  for (uint32_t i = 0; i < spec.n; ++i) {
    // Latent l: a sum of a few low-frequency plane waves (smooth over the map), unit variance.
    for (int l = 0; l < kLatents; ++l) {
      double fy[kWaves], fx[kWaves], ph[kWaves], amp[kWaves];
      for (int k = 0; k < kWaves; ++k) {
        fy[k] = 6.283185307179586 * rng.uniform() * 1.5 / H;
        fx[k] = 6.283185307179586 * rng.uniform() * 1.5 / W;
        ph[k] = 6.283185307179586 * rng.uniform();
        amp[k] = rng.normal();
      }
      for (uint32_t y = 0; y < H; ++y)
        for (uint32_t x = 0; x < W; ++x) {
          double v = 0;
          for (int k = 0; k < kWaves; ++k) v += amp[k] * std::cos(fy[k] * y + fx[k] * x + ph[k]);
          latent[(size_t(l) * H + y) * W + x] = v * 0.8165;  // 1/sqrt(kWaves/2)
        }
    }
    float* out = f.values.data() + size_t(i) * H * W * C;
    for (uint32_t y = 0; y < H; ++y)
      for (uint32_t x = 0; x < W; ++x)
        for (uint32_t c = 0; c < C; ++c) {
          double z = 0;
          for (int l = 0; l < kLatents; ++l)
            z += mix[c * kLatents + l] * latent[(size_t(l) * H + y) * W + x];
          const double v = gain[c] * z + bias[c] + 0.35 * rng.normal();
          out[(size_t(y) * W + x) * C + c] = float(std::clamp(v, 0.0, 6.0));
        }
  }
  // Centroids 6 * sigmoid(w) with w evenly spaced (the trained quantizer's parametrisation).
  f.centroids.resize(spec.alphabet);
  for (uint32_t j = 0; j < spec.alphabet; ++j) {
    const double w = -3.0 + 6.0 * j / (spec.alphabet - 1);
    f.centroids[j] = float(6.0 / (1.0 + std::exp(-w)));
  }
  return f;
}

}  // namespace agilenn::codec
