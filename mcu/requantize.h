// TFLite-Micro / CMSIS-NN fixed-point requantization, "double rounding" variant (gemmlowp):
//   out = RoundingDivideByPOT(SaturatingRoundingDoublingHighMul(acc * 2^left, M0), right)
// where the real multiplier M = M0 * 2^(shift - 31), M0 in [2^30, 2^31), left = max(shift, 0),
// right = max(-shift, 0). The generated C (mcu/c/agilenn_kernels.h) implements the same
// functions; tests/mcu checks both against exact 128-bit arithmetic.
#pragma once
#include <cstdint>
#include <limits>

namespace agilenn::mcu {

struct QuantizedMultiplier {
  int32_t multiplier = 0;  // Q31, in [2^30, 2^31) or 0
  int32_t shift = 0;       // > 0: left shift, < 0: right shift
};

// Splits a real multiplier M >= 0 (computed in double) into Q31 M0 and a shift (frexp):
// M0 = round(frac * 2^31); if M0 == 2^31, halve it and increment the shift. A shift below -31
// (M < 2^-32) gives multiplier 0, as TFLite Micro does. Throws agilenn::Error for M < 0,
// non-finite M, or M >= 2^30 (the left shift would overflow any nonzero accumulator).
QuantizedMultiplier quantize_multiplier(double real_multiplier);

// floor(a*b / 2^31 + 1/2), saturating the single overflow case a = b = INT32_MIN.
inline int32_t saturating_rounding_doubling_high_mul(int32_t a, int32_t b) {
  if (a == b && a == std::numeric_limits<int32_t>::min())
    return std::numeric_limits<int32_t>::max();
  int64_t ab = int64_t(a) * int64_t(b);
  int64_t nudge = ab >= 0 ? (int64_t(1) << 30) : (1 - (int64_t(1) << 30));
  return int32_t((ab + nudge) / (int64_t(1) << 31));  // C++ division truncates toward zero
}

// x / 2^exponent rounded half away from zero, exponent in [0, 31].
inline int32_t rounding_divide_by_pot(int32_t x, int exponent) {
  int32_t mask = int32_t((int64_t(1) << exponent) - 1);
  int32_t remainder = x & mask;
  int32_t threshold = (mask >> 1) + (x < 0 ? 1 : 0);
  return (x >> exponent) + (remainder > threshold ? 1 : 0);
}

// Double-rounding requantization of an int32 accumulator. The left shift saturates to int32
// (TFLite Micro leaves that overflow undefined; quantize_multiplier keeps shift <= 30).
inline int32_t multiply_by_quantized_multiplier(int32_t acc, int32_t multiplier, int32_t shift) {
  int left = shift > 0 ? shift : 0;
  int right = shift > 0 ? 0 : -shift;
  int64_t shifted = int64_t(acc) * (int64_t(1) << left);
  if (shifted > std::numeric_limits<int32_t>::max()) shifted = std::numeric_limits<int32_t>::max();
  if (shifted < std::numeric_limits<int32_t>::min()) shifted = std::numeric_limits<int32_t>::min();
  return rounding_divide_by_pot(saturating_rounding_doubling_high_mul(int32_t(shifted), multiplier),
                                right);
}

}  // namespace agilenn::mcu
