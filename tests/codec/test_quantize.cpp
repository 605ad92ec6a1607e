#include <boost/test/unit_test.hpp>
#include <cmath>
#include <limits>

#include "codec/quantize.h"
#include "codec/split.h"
#include "codec/synthetic.h"
#include "nn/io/error.h"

using namespace agilenn;
using namespace agilenn::codec;

BOOST_AUTO_TEST_SUITE(quantize)

BOOST_AUTO_TEST_CASE(split_moves_first_k_channels_local_and_merge_inverts) {
  const FeatureShape s{2, 3, 4, 6};
  std::vector<float> f(s.size());
  for (size_t i = 0; i < f.size(); ++i) f[i] = float(i);
  std::vector<float> local(2 * 3 * 4 * 2), remote(2 * 3 * 4 * 4);
  split_channels(f, s, 2, local, remote);
  // pixel p = 5, channel 1 -> local; channel 4 -> remote channel 2
  BOOST_TEST(local[5 * 2 + 1] == f[5 * 6 + 1]);
  BOOST_TEST(remote[5 * 4 + 2] == f[5 * 6 + 4]);
  std::vector<float> back(f.size(), -1);
  merge_channels(local, remote, s, 2, back);
  BOOST_TEST(back == f);
  BOOST_CHECK_THROW(split_channels(f, s, 0, local, remote), Error);
  BOOST_CHECK_THROW(split_channels(f, s, 6, local, remote), Error);
  std::vector<float> short_remote(remote.size() - 1);
  BOOST_CHECK_THROW(split_channels(f, s, 2, local, short_remote), Error);
}

BOOST_AUTO_TEST_CASE(threshold_form_equals_nearest_everywhere_that_matters) {
  SplitMix64 rng(3);
  for (int trial = 0; trial < 50; ++trial) {
    const unsigned c = 2 + unsigned(rng.next() % 255);
    std::vector<float> cent(c);
    float v = float(rng.uniform() * 2 - 1);
    for (unsigned i = 0; i < c; ++i) {
      cent[i] = v;
      // gaps spanning several magnitudes, some one ulp wide
      const int kind = int(rng.next() % 4);
      v = kind == 0 ? std::nextafter(v, INFINITY)
                    : v + float(std::pow(10.0, -3 + 4 * rng.uniform()));
    }
    const Quantizer q(cent);
    std::vector<float> probes;
    for (float t : q.thresholds()) {
      probes.insert(probes.end(), {t, std::nextafter(t, -INFINITY), std::nextafter(t, INFINITY)});
    }
    for (unsigned i = 0; i + 1 < c; ++i) {
      const float mid = float((double(cent[i]) + double(cent[i + 1])) / 2);
      probes.insert(probes.end(),
                    {mid, std::nextafter(mid, -INFINITY), std::nextafter(mid, INFINITY)});
    }
    for (float x : cent) probes.push_back(x);
    for (int i = 0; i < 2000; ++i)
      probes.push_back(float(cent.front() - 1 + rng.uniform() * (cent.back() - cent.front() + 2)));
    probes.insert(probes.end(), {-1e30f, 1e30f, 0.0f, -0.0f});
    for (float x : probes) BOOST_REQUIRE_MESSAGE(q.nearest(x) == q.by_threshold(x), "x=" << x);
  }
}

BOOST_AUTO_TEST_CASE(exact_midpoint_ties_to_the_lower_index) {
  const Quantizer q({0.0f, 1.0f, 3.0f});
  BOOST_TEST(q.nearest(0.5f) == 0);
  BOOST_TEST(q.by_threshold(0.5f) == 0);
  BOOST_TEST(q.by_threshold(2.0f) == 1);
  BOOST_TEST(q.by_threshold(std::nextafter(2.0f, 3.0f)) == 2);
  BOOST_TEST(q.by_threshold(-5.0f) == 0);
  BOOST_TEST(q.by_threshold(99.0f) == 2);
}

// Training can merge two learned centroids into one float value (seen in a main-job run):
// the copy at the higher index is never the nearest, and the threshold form must not emit it.
BOOST_AUTO_TEST_CASE(merged_centroids_keep_both_forms_equal_and_never_emit_the_copy) {
  const std::vector<std::vector<float>> cases = {{0.0f, 1.0f, 1.0f, 2.0f},
                                                 {0.0f, 0.0f, 1.0f},
                                                 {0.0f, 1.0f, 1.0f},
                                                 {0.5f, 1.0f, 1.0f, 1.0f, 3.0f, 3.0f},
                                                 {0.0f, 3.730129f, 3.730129f, 5.0f, 6.0f}};
  for (const auto& cent : cases) {
    const Quantizer q(cent);
    std::vector<float> probes = {-1.0f, 7.0f};
    for (float c : cent)
      probes.insert(probes.end(), {c, std::nextafter(c, -INFINITY), std::nextafter(c, INFINITY)});
    for (float t : q.thresholds())
      if (std::isfinite(t))
        probes.insert(probes.end(), {t, std::nextafter(t, -INFINITY), std::nextafter(t, INFINITY)});
    for (int i = 0; i <= 700; ++i) probes.push_back(-0.5f + 0.01f * float(i));
    for (float x : probes) {
      const uint8_t n = q.nearest(x), t = q.by_threshold(x);
      BOOST_REQUIRE_MESSAGE(n == t, "x=" << x << " nearest " << int(n) << " threshold " << int(t));
      BOOST_REQUIRE_MESSAGE(n == 0 || cent[n] != cent[n - 1], "x=" << x << " got a copy " << int(n));
    }
  }
  BOOST_TEST(Quantizer({0.0f, 1.0f, 1.0f}).by_threshold(9.0f) == 1);
  BOOST_TEST(Quantizer({0.0f, 0.0f, 1.0f}).by_threshold(0.2f) == 0);
  BOOST_TEST(Quantizer({0.0f, 0.0f, 1.0f}).by_threshold(0.9f) == 2);
}

BOOST_AUTO_TEST_CASE(quantize_dequantize_and_bad_input) {
  const Quantizer q({0.0f, 1.0f, 2.0f, 4.0f});
  const std::vector<float> v = {0.1f, 0.6f, 1.4f, 3.1f, 7.0f};
  std::vector<uint8_t> idx(v.size());
  q.quantize(v, idx);
  BOOST_TEST(idx == (std::vector<uint8_t>{0, 1, 1, 3, 3}));
  std::vector<float> back(v.size());
  q.dequantize(idx, back);
  BOOST_TEST(back == (std::vector<float>{0, 1, 1, 4, 4}));
  std::vector<float> nan_in = {1.0f, std::numeric_limits<float>::quiet_NaN()};
  std::vector<uint8_t> two(2);
  BOOST_CHECK_THROW(q.quantize(nan_in, two), Error);
  std::vector<uint8_t> bad = {0, 4};
  std::vector<float> out(2);
  BOOST_CHECK_THROW(q.dequantize(bad, out), Error);
  BOOST_CHECK_THROW(Quantizer({1.0f, 1.0f}), Error);  // fewer than two distinct values
  BOOST_CHECK_THROW(Quantizer({1.0f, 1.0f, 1.0f}), Error);
  BOOST_CHECK_THROW(Quantizer({2.0f, 1.0f}), Error);
  BOOST_CHECK_THROW(Quantizer({1.0f}), Error);            // too few
  BOOST_CHECK_THROW(Quantizer({0.0f, INFINITY}), Error);  // not finite
  BOOST_CHECK_THROW(Quantizer(std::vector<float>(257, 0.0f)), Error);
}

BOOST_AUTO_TEST_SUITE_END()
