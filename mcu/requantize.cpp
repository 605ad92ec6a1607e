#include "mcu/requantize.h"

#include <cmath>
#include <string>

#include "nn/io/error.h"

namespace agilenn::mcu {

QuantizedMultiplier quantize_multiplier(double m) {
  if (!std::isfinite(m) || m < 0)
    throw Error("quantize_multiplier: real multiplier " + std::to_string(m) +
                " must be finite and >= 0");
  if (m >= double(int64_t(1) << 30))
    throw Error("quantize_multiplier: real multiplier " + std::to_string(m) + " is too large");
  QuantizedMultiplier q;
  if (m == 0) return q;
  int exponent = 0;
  double frac = std::frexp(m, &exponent);  // m = frac * 2^exponent, frac in [0.5, 1)
  int64_t m0 = std::llround(frac * double(int64_t(1) << 31));
  if (m0 == (int64_t(1) << 31)) {
    m0 /= 2;
    ++exponent;
  }
  if (exponent < -31) return q;  // below 2^-32: every int32 accumulator maps to 0 or +-1 anyway
  q.multiplier = int32_t(m0);
  q.shift = exponent;
  return q;
}

}  // namespace agilenn::mcu
