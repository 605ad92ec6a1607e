#include "codec/quantize.h"

#include <cmath>
#include <string>

#include "nn/io/error.h"

namespace agilenn::codec {

Quantizer::Quantizer(std::vector<float> centroids) : centroids_(std::move(centroids)) {
  const size_t n = centroids_.size();
  if (n < 2 || n > 256)
    throw error_at("centroids", "need 2..256 centroids, got " + std::to_string(n));
  for (size_t i = 0; i < n; ++i) {
    if (!std::isfinite(centroids_[i]))
      throw error_at("centroids[" + std::to_string(i) + "]", "not a finite number");
    if (i > 0 && !(centroids_[i] >= centroids_[i - 1]))
      throw error_at("centroids[" + std::to_string(i) + "]",
                     "centroids must be increasing (sort them at training time)");
  }
  if (!(centroids_.back() > centroids_.front()))
    throw error_at("centroids", "need at least two distinct centroid values");
  thresholds_.resize(n - 1);
  // Right to left: a merged copy (b == a) takes the next threshold up, an empty interval.
  for (size_t i = n - 1; i-- > 0;) {
    const double a = centroids_[i], b = centroids_[i + 1];
    if (a == b) {
      thresholds_[i] = i + 2 < n ? thresholds_[i + 1] : INFINITY;
      continue;
    }
    const double sum = a + b;
    // The midpoint must be exact in double for "round down to float" to reproduce the tie rule.
    if (sum - a != b || sum - b != a)
      throw error_at("centroids[" + std::to_string(i + 1) + "]",
                     "neighbouring centroids differ too much in magnitude for an exact midpoint");
    const double mid = sum * 0.5;
    // Largest float <= mid: then for any float x, x > t  <=>  x > mid exactly, so a value on the
    // midpoint goes to the lower index, like the reference form.
    float t = float(mid);
    if (double(t) > mid) t = std::nextafter(t, -INFINITY);
    thresholds_[i] = t;
  }
}

namespace {
// |x - c| exactly, as an unevaluated sum hi + lo (TwoSum in double of two floats is exact).
struct ExactDistance {
  double hi, lo;
  ExactDistance(float x, float c) {
    const double a = x, b = -double(c);
    hi = a + b;
    const double bv = hi - a;
    lo = (a - (hi - bv)) + (b - bv);
    if (hi < 0 || (hi == 0 && lo < 0)) {
      hi = -hi;
      lo = -lo;
    }
  }
  // Rounding is monotone, so hi decides unless equal; then lo does.
  bool operator<(const ExactDistance& o) const { return hi != o.hi ? hi < o.hi : lo < o.lo; }
};
}  // namespace

uint8_t Quantizer::nearest(float x) const {
  unsigned best = 0;
  ExactDistance best_d(x, centroids_[0]);
  for (unsigned i = 1; i < centroids_.size(); ++i) {
    const ExactDistance d(x, centroids_[i]);
    if (d < best_d) {
      best_d = d;
      best = i;
    }
  }
  return uint8_t(best);
}

uint8_t Quantizer::by_threshold(float x) const {
  unsigned idx = 0;
  for (float t : thresholds_) idx += (x > t) ? 1u : 0u;
  return uint8_t(idx);
}

void Quantizer::quantize(std::span<const float> values, std::span<uint8_t> indices) const {
  if (indices.size() != values.size())
    throw error_at("quantize", "output holds " + std::to_string(indices.size()) + " indices for " +
                                   std::to_string(values.size()) + " values");
  for (size_t i = 0; i < values.size(); ++i) {
    if (!std::isfinite(values[i]))
      throw error_at("quantize", "value " + std::to_string(i) + " is not finite");
    indices[i] = by_threshold(values[i]);
  }
}

void Quantizer::dequantize(std::span<const uint8_t> indices, std::span<float> values) const {
  if (indices.size() != values.size())
    throw error_at("dequantize", "output holds " + std::to_string(values.size()) + " values for " +
                                     std::to_string(indices.size()) + " indices");
  for (size_t i = 0; i < indices.size(); ++i) {
    if (indices[i] >= centroids_.size())
      throw error_at("dequantize", "index " + std::to_string(i) + " is " +
                                       std::to_string(indices[i]) + ", alphabet is " +
                                       std::to_string(centroids_.size()));
    values[i] = centroids_[indices[i]];
  }
}

}  // namespace agilenn::codec
