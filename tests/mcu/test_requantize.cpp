// The requantization helpers (C++ and the generated C) against exact 128-bit arithmetic.
#include <boost/test/unit_test.hpp>

#include <cmath>
#include <limits>
#include <random>

#include "mcu/requantize.h"
#include "nn/io/error.h"

extern "C" {
#include "agilenn_kernels.h"
}

using namespace agilenn::mcu;
using i128 = __int128;

namespace {

i128 floor_div(i128 a, i128 b) {  // b > 0
  i128 q = a / b;
  return (a % b != 0 && a < 0) ? q - 1 : q;
}

// Definition of the double-rounding variant, independent of the bit tricks:
// t = round_half_up(x * 2^left * M0 / 2^31) (saturated), out = round_half_away(t / 2^right).
int32_t exact_double_rounding(int32_t x, int32_t m0, int32_t shift) {
  int left = shift > 0 ? shift : 0, right = shift > 0 ? 0 : -shift;
  i128 xs = i128(x) << left;
  if (xs > INT32_MAX) xs = INT32_MAX;
  if (xs < INT32_MIN) xs = INT32_MIN;
  i128 t;
  if (xs == INT32_MIN && m0 == INT32_MIN)
    t = INT32_MAX;
  else
    t = floor_div(xs * m0 * 2 + (i128(1) << 31), i128(1) << 32);
  if (right == 0) return int32_t(t);
  i128 d = i128(1) << right;
  i128 mag = floor_div((t < 0 ? -t : t) * 2 + d, 2 * d);
  return int32_t(t < 0 ? -mag : mag);
}

}  // namespace

BOOST_AUTO_TEST_SUITE(requantize)

BOOST_AUTO_TEST_CASE(srdhm_matches_exact_rounding) {
  std::mt19937 rng(1);
  std::uniform_int_distribution<int32_t> any(INT32_MIN, INT32_MAX);
  const int32_t edges[] = {INT32_MIN, INT32_MIN + 1, -(1 << 30), -2, -1, 0, 1,
                           2,         1 << 30,       INT32_MAX};
  auto check = [](int32_t a, int32_t b) {
    i128 expect = (a == INT32_MIN && b == INT32_MIN)
                      ? INT32_MAX
                      : floor_div(i128(a) * b * 2 + (i128(1) << 31), i128(1) << 32);
    BOOST_REQUIRE_EQUAL(saturating_rounding_doubling_high_mul(a, b), int32_t(expect));
  };
  for (int32_t a : edges)
    for (int32_t b : edges) check(a, b);
  for (int i = 0; i < 200000; ++i) check(any(rng), any(rng));
  // Exact halves: a*b = (2n+1) * 2^30 rounds up (toward +inf) for both signs.
  BOOST_CHECK_EQUAL(saturating_rounding_doubling_high_mul(3, 1 << 30), 2);
  BOOST_CHECK_EQUAL(saturating_rounding_doubling_high_mul(-3, 1 << 30), -1);
}

BOOST_AUTO_TEST_CASE(rounding_divide_by_pot_rounds_half_away) {
  BOOST_CHECK_EQUAL(rounding_divide_by_pot(5, 1), 3);
  BOOST_CHECK_EQUAL(rounding_divide_by_pot(-5, 1), -3);
  BOOST_CHECK_EQUAL(rounding_divide_by_pot(-6, 2), -2);
  BOOST_CHECK_EQUAL(rounding_divide_by_pot(-7, 2), -2);
  BOOST_CHECK_EQUAL(rounding_divide_by_pot(INT32_MIN, 31), -1);
  BOOST_CHECK_EQUAL(rounding_divide_by_pot(INT32_MAX, 31), 1);
  BOOST_CHECK_EQUAL(rounding_divide_by_pot(7, 0), 7);
  for (int e = 0; e <= 31; ++e)
    for (int32_t x = -70000; x <= 70000; x += 7) {
      i128 d = i128(1) << e;
      i128 mag = floor_div((x < 0 ? -i128(x) : i128(x)) * 2 + d, 2 * d);
      BOOST_REQUIRE_EQUAL(rounding_divide_by_pot(x, e), int32_t(x < 0 ? -mag : mag));
    }
}

BOOST_AUTO_TEST_CASE(quantize_multiplier_edge_cases) {
  auto q = quantize_multiplier(0.0);
  BOOST_CHECK_EQUAL(q.multiplier, 0);
  BOOST_CHECK_EQUAL(q.shift, 0);
  q = quantize_multiplier(1.0);
  BOOST_CHECK_EQUAL(q.multiplier, 1 << 30);
  BOOST_CHECK_EQUAL(q.shift, 1);
  q = quantize_multiplier(0.5);
  BOOST_CHECK_EQUAL(q.multiplier, 1 << 30);
  BOOST_CHECK_EQUAL(q.shift, 0);
  // frac rounds up to 2^31: halve and increment the shift.
  q = quantize_multiplier(1.0 - std::ldexp(1.0, -33));
  BOOST_CHECK_EQUAL(q.multiplier, 1 << 30);
  BOOST_CHECK_EQUAL(q.shift, 1);
  q = quantize_multiplier(1.0 - std::ldexp(1.0, -30));  // stays below 2^31
  BOOST_CHECK_EQUAL(q.multiplier, INT32_MAX - 1);       // (1 - 2^-30) * 2^31 = 2^31 - 2
  BOOST_CHECK_EQUAL(q.shift, 0);
  q = quantize_multiplier(std::ldexp(1.0, -31));  // smallest kept: shift -30, M0 = 2^30
  BOOST_CHECK_EQUAL(q.multiplier, 1 << 30);
  BOOST_CHECK_EQUAL(q.shift, -30);
  q = quantize_multiplier(1e-12);  // below 2^-32: zero
  BOOST_CHECK_EQUAL(q.multiplier, 0);
  BOOST_CHECK_EQUAL(q.shift, 0);
  q = quantize_multiplier(0.0037);
  BOOST_CHECK_CLOSE(std::ldexp(double(q.multiplier), q.shift - 31), 0.0037, 1e-6);
  BOOST_CHECK_THROW(quantize_multiplier(-0.1), agilenn::Error);
  BOOST_CHECK_THROW(quantize_multiplier(std::nan("")), agilenn::Error);
  BOOST_CHECK_THROW(quantize_multiplier(1e10), agilenn::Error);
}

BOOST_AUTO_TEST_CASE(multiply_by_quantized_multiplier_cpp_and_c_match_exact) {
  std::mt19937 rng(7);
  std::uniform_int_distribution<int32_t> any(INT32_MIN, INT32_MAX);
  std::uniform_int_distribution<int32_t> small(-(1 << 20), 1 << 20);
  std::uniform_real_distribution<double> logm(-30, 8);
  int checked = 0;
  for (int i = 0; i < 300000; ++i) {
    auto qm = quantize_multiplier(std::pow(2.0, logm(rng)));
    int32_t x = (i & 1) ? any(rng) : small(rng);
    int32_t expect = exact_double_rounding(x, qm.multiplier, qm.shift);
    BOOST_REQUIRE_EQUAL(multiply_by_quantized_multiplier(x, qm.multiplier, qm.shift), expect);
    BOOST_REQUIRE_EQUAL(agilenn_requantize(x, qm.multiplier, qm.shift), expect);
    ++checked;
  }
  // Exhaustive over all 16-bit accumulators for a few multipliers typical of conv layers.
  for (double m : {0.0001234, 0.0123, 0.25, 0.7071, 0.999999, 3.5}) {
    auto qm = quantize_multiplier(m);
    for (int32_t x = -32768; x <= 32767; ++x) {
      int32_t expect = exact_double_rounding(x, qm.multiplier, qm.shift);
      BOOST_REQUIRE_EQUAL(multiply_by_quantized_multiplier(x, qm.multiplier, qm.shift), expect);
      BOOST_REQUIRE_EQUAL(agilenn_requantize(x, qm.multiplier, qm.shift), expect);
      // Double rounding stays within one of the ideal round(x * M).
      double ideal = std::round(double(x) * std::ldexp(double(qm.multiplier), qm.shift - 31));
      BOOST_REQUIRE_LE(std::fabs(double(expect) - ideal), 1.0);
    }
  }
  // Saturating left shift.
  auto big = quantize_multiplier(4.0);
  BOOST_CHECK_EQUAL(multiply_by_quantized_multiplier(INT32_MAX, big.multiplier, big.shift),
                    exact_double_rounding(INT32_MAX, big.multiplier, big.shift));
  BOOST_CHECK_EQUAL(agilenn_requantize(INT32_MIN, big.multiplier, big.shift),
                    exact_double_rounding(INT32_MIN, big.multiplier, big.shift));
  BOOST_CHECK_GT(checked, 0);
}

// The short form the kernels use when the layer's accumulators are bounded (c_acc_fits_small):
// exact for every |x| * 2^max(shift, 0) < 2^30 and shift in [-31, 30], random and at the edges of
// that range and of every rounding boundary (x * M0 near a multiple of 2^(31 + right) +- half).
BOOST_AUTO_TEST_CASE(requantize_small_matches_exact_in_its_range) {
  std::mt19937 rng(11);
  std::uniform_real_distribution<double> logm(-31, 8);
  const int32_t lim = (1 << 30) - 1;
  int checked = 0;
  for (int i = 0; i < 400000; ++i) {
    auto qm = quantize_multiplier(std::pow(2.0, logm(rng)));
    if (qm.shift < -31 || qm.shift > 30) continue;
    const int32_t bound = lim >> std::max(qm.shift, 0);
    std::uniform_int_distribution<int32_t> in_range(-bound, bound);
    std::uniform_int_distribution<int32_t> small(-std::min(bound, 1 << 16), std::min(bound, 1 << 16));
    const int32_t x = (i % 3 == 0) ? in_range(rng) : (i % 3 == 1 ? small(rng) : (i & 4 ? bound : -bound));
    BOOST_REQUIRE_EQUAL(agilenn_requantize_small(x, qm.multiplier, qm.shift),
                        exact_double_rounding(x, qm.multiplier, qm.shift));
    ++checked;
  }
  // Exhaustive over 18-bit accumulators (the extractor's range) for multipliers with every right
  // shift the layers use, and the zero multiplier.
  for (int e = 0; e <= 31; e += 3)
    for (double frac : {0.5, 0.61803, 0.999999}) {
      auto qm = quantize_multiplier(std::ldexp(frac, -e));
      for (int32_t x = -(1 << 17); x < (1 << 17); ++x)
        BOOST_REQUIRE_EQUAL(agilenn_requantize_small(x, qm.multiplier, qm.shift),
                            exact_double_rounding(x, qm.multiplier, qm.shift));
    }
  for (int32_t x : {-lim, -1, 0, 1, lim})
    BOOST_REQUIRE_EQUAL(agilenn_requantize_small(x, 0, -31), 0);
  BOOST_CHECK_GT(checked, 100000);
}

BOOST_AUTO_TEST_SUITE_END()
