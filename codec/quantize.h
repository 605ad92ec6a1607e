// Nearest-centroid quantization of remote feature values to indices, and back.
// Two forms that must agree bit for bit: the reference (argmin |x - c_i|, ties to the lower
// index) and the threshold form the MCU runs (index = number of thresholds below x, where the
// thresholds are the midpoints of neighbouring centroids rounded down to float).
#pragma once
#include <cstdint>
#include <span>
#include <vector>

namespace agilenn::codec {

class Quantizer {
 public:
  // Centroids: 2..256 finite, non-decreasing values with at least two distinct ones (sort them at
  // training time: a permutation of the indices costs nothing and makes the threshold form
  // exact). Training can merge two centroids into one value; the copy at the higher index is then
  // never the nearest (ties go to the lower index), and its threshold equals the next one (or +inf
  // at the top) so the threshold form never emits it either.
  explicit Quantizer(std::vector<float> centroids);

  unsigned alphabet() const { return unsigned(centroids_.size()); }
  const std::vector<float>& centroids() const { return centroids_; }
  // thresholds()[i] separates index i from i + 1; x > thresholds()[i] means "above".
  const std::vector<float>& thresholds() const { return thresholds_; }

  // Reference form: argmin over i of |x - c_i| (compared exactly), ties to the lower index.
  uint8_t nearest(float x) const;
  // MCU form: count of thresholds strictly below x (a linear scan, as the MCU does it).
  uint8_t by_threshold(float x) const;

  // values -> indices with the threshold form; a non-finite value is an error naming its position.
  void quantize(std::span<const float> values, std::span<uint8_t> indices) const;
  // indices -> centroid values; an index >= alphabet is an error naming its position.
  void dequantize(std::span<const uint8_t> indices, std::span<float> values) const;

 private:
  std::vector<float> centroids_;
  std::vector<float> thresholds_;
};

}  // namespace agilenn::codec
