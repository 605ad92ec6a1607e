// Augmentation: crop/flip on a hand-made image, bilinear resize against hand computation and
// PyTorch's values, normalisation, seeded determinism; the RNG and its saved state.
#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <cmath>
#include <set>

#include "nn/data/augment.h"
#include "nn/io/rng.h"
#include "test_util.h"

namespace data = agilenn::data;
using agilenn::Rng;
using agilenn::splitmix64;
using test_util::expect_error;

namespace {
// 3x3 grey image with pixels 1..9 (row-major).
const std::vector<uint8_t> kImage = {1, 2, 3, 4, 5, 6, 7, 8, 9};

std::vector<float> fixed(const data::Augmenter& aug, int dy, int dx, bool flip) {
  std::vector<float> out(aug.out_size());
  aug.apply_fixed(kImage.data(), dy, dx, flip, out.data());
  for (float& v : out) v = std::round(v * 255.0f);  // back to pixel units for readable checks
  return out;
}
using F = std::vector<float>;
}  // namespace

BOOST_AUTO_TEST_SUITE(augment)

BOOST_AUTO_TEST_CASE(pad_crop_and_flip_on_a_hand_made_image) {
  data::AugmentOptions opt;
  opt.pad = 1;
  const data::Augmenter aug(opt, 3, 3, 1);
  BOOST_TEST((fixed(aug, 1, 1, false) == F{1, 2, 3, 4, 5, 6, 7, 8, 9}));  // centre = identity
  BOOST_TEST((fixed(aug, 0, 0, false) == F{0, 0, 0, 0, 1, 2, 0, 4, 5}));  // window up-left
  BOOST_TEST((fixed(aug, 2, 1, false) == F{4, 5, 6, 7, 8, 9, 0, 0, 0}));  // window down
  BOOST_TEST((fixed(aug, 1, 1, true) == F{3, 2, 1, 6, 5, 4, 9, 8, 7}));   // mirror
  BOOST_TEST((fixed(aug, 1, 2, true) == F{0, 3, 2, 0, 6, 5, 0, 9, 8}));   // crop right, then flip
}

BOOST_AUTO_TEST_CASE(resize_matches_hand_computation) {
  // 2x2 -> 3x3, half-pixel centres: source coords per output index are -1/6 (clamped to 0),
  // 1/2 and 7/6 (past the last row: clamped to row 1).
  const std::vector<float> in = {0, 1, 2, 3};
  std::vector<float> out(9);
  data::resize_bilinear(in.data(), 2, 2, 1, out.data(), 3, 3);
  const std::vector<float> want = {0, 0.5f, 1, 1, 1.5f, 2, 2, 2.5f, 3};
  for (size_t i = 0; i < 9; ++i) BOOST_TEST(out[i] == want[i], boost::test_tools::tolerance(1e-6f));
}

BOOST_AUTO_TEST_CASE(resize_matches_pytorch_bilinear_align_corners_false) {
  // in = i^1.5 on a 3x4 grid; values from torch.nn.functional.interpolate(mode='bilinear',
  // align_corners=False), up to 5x7 and that result down to 2x3.
  std::vector<float> in(12);
  for (int i = 0; i < 12; ++i) in[i] = std::pow(float(i), 1.5f);
  std::vector<float> up(35), down(6);
  data::resize_bilinear(in.data(), 3, 4, 1, up.data(), 5, 7);
  const std::vector<float> want_up = {
      0.0f,      0.35714f,  0.92857f,  1.91421f,  2.99755f,  4.35054f,  5.19615f,
      3.2f,      3.86862f,  4.93841f,  6.32398f,  7.78654f,  9.47224f,  10.5258f,
      8.0f,      9.13584f,  10.95317f, 12.93864f, 14.97003f, 17.15479f, 18.52026f,
      16.77645f, 18.16777f, 20.39388f, 22.76229f, 25.16997f, 27.71019f, 29.29783f,
      22.62742f, 24.18905f, 26.68767f, 29.31139f, 31.96993f, 34.74712f, 36.48287f};
  for (size_t i = 0; i < up.size(); ++i)
    BOOST_TEST(up[i] == want_up[i], boost::test_tools::tolerance(1e-4f));
  data::resize_bilinear(up.data(), 5, 7, 1, down.data(), 2, 3);
  const std::vector<float> want_down = {2.79383f,  5.22154f,  8.52567f,
                                        19.19512f, 24.39956f, 30.01098f};
  for (size_t i = 0; i < down.size(); ++i)
    BOOST_TEST(down[i] == want_down[i], boost::test_tools::tolerance(1e-4f));
}

BOOST_AUTO_TEST_CASE(resize_and_per_channel_normalisation) {
  data::AugmentOptions opt;
  opt.pad = 0;
  opt.out_height = 4;
  opt.out_width = 6;
  opt.mean = {0.5f, 0.25f};
  opt.std = {0.5f, 2.0f};
  const data::Augmenter aug(opt, 2, 3, 2);
  BOOST_TEST(aug.out_size() == 48u);
  const std::vector<uint8_t> img(12, 255);  // all ones after scaling
  std::vector<float> out(48);
  Rng rng(1);
  aug.apply(img.data(), true, rng, out.data());
  for (size_t i = 0; i < 48; i += 2) {
    BOOST_TEST(out[i] == 1.0f, boost::test_tools::tolerance(1e-6f));        // (1-0.5)/0.5
    BOOST_TEST(out[i + 1] == 0.375f, boost::test_tools::tolerance(1e-6f));  // (1-0.25)/2
  }
}

BOOST_AUTO_TEST_CASE(seeded_randomness_is_reproducible_and_covers_all_choices) {
  data::AugmentOptions opt;
  opt.pad = 1;
  const data::Augmenter aug(opt, 3, 3, 1);
  std::set<std::vector<float>> seen;
  std::vector<float> a(9), b(9), eval(9);
  for (uint64_t s = 0; s < 400; ++s) {
    Rng r1 = Rng::derive(7, {s}), r2 = Rng::derive(7, {s});
    aug.apply(kImage.data(), true, r1, a.data());
    aug.apply(kImage.data(), true, r2, b.data());
    BOOST_REQUIRE(a == b);
    seen.insert(a);
  }
  BOOST_TEST(seen.size() == 18u);  // 3 x 3 windows x 2 flips, all reached
  // Evaluation ignores the crop/flip options: centre window, no flip, rng untouched.
  Rng r(3);
  const Rng before = r;
  aug.apply(kImage.data(), false, r, eval.data());
  BOOST_TEST((r == before));
  aug.apply_fixed(kImage.data(), 1, 1, false, a.data());
  BOOST_TEST(eval == a);
  // With flip disabled (digits) no output is mirrored.
  opt.horizontal_flip = false;
  const data::Augmenter no_flip(opt, 3, 3, 1);
  std::set<std::vector<float>> seen2;
  for (uint64_t s = 0; s < 200; ++s) {
    Rng r1(s);
    no_flip.apply(kImage.data(), true, r1, a.data());
    seen2.insert(a);
  }
  BOOST_TEST(seen2.size() == 9u);
}

BOOST_AUTO_TEST_CASE(bad_options) {
  data::AugmentOptions opt;
  opt.mean = {0.5f};
  expect_error([&] { data::Augmenter(opt, 4, 4, 3); }, {"mean/std need 3 values"});
  opt.mean = {};
  opt.std = {1, 0, 1};
  expect_error([&] { data::Augmenter(opt, 4, 4, 3); }, {"std values must be > 0"});
  opt.std = {};
  opt.pad = -1;
  expect_error([&] { data::Augmenter(opt, 4, 4, 3); }, {"pad must be >= 0"});
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(rng)

BOOST_AUTO_TEST_CASE(streams_are_reproducible_and_state_round_trips) {
  Rng a(42), b(42), c(43);
  std::vector<uint64_t> va, vb, vc;
  for (int i = 0; i < 8; ++i)
    va.push_back(a.next_u64()), vb.push_back(b.next_u64()), vc.push_back(c.next_u64());
  BOOST_TEST(va == vb);
  BOOST_TEST(va != vc);
  // Saving the state mid-stream and restoring it continues the same sequence.
  const std::string saved = a.state_string();
  BOOST_TEST(saved.size() == 64u);
  const uint64_t next1 = a.next_u64(), next2 = a.next_u64();
  Rng restored = Rng::from_state_string(saved);
  BOOST_TEST(restored.next_u64() == next1);
  BOOST_TEST(restored.next_u64() == next2);
  Rng d;
  d.set_state(b.state());
  BOOST_TEST((d == b));
  // Known first output of xoshiro256** seeded by splitmix64(0): pins the algorithm.
  uint64_t sm = 0;
  BOOST_TEST(splitmix64(sm) == 0xe220a8397b1dcdafull);
}

BOOST_AUTO_TEST_CASE(bad_state_text) {
  expect_error([] { Rng::from_state_string("12", "ckpt: rng"); }, {"ckpt: rng", "64 hex"});
  expect_error([] { Rng::from_state_string(std::string(63, '0') + "g", "ckpt: rng"); },
               {"invalid hex digit 'g'"});
  expect_error([] { Rng::from_state_string(std::string(64, '0'), "ckpt: rng"); }, {"all-zero"});
}

BOOST_AUTO_TEST_CASE(below_is_in_range_and_roughly_uniform_and_shuffle_permutes) {
  Rng r(9);
  std::vector<int> counts(7, 0);
  for (int i = 0; i < 70000; ++i) {
    const uint64_t v = r.below(7);
    BOOST_REQUIRE(v < 7u);
    ++counts[v];
  }
  for (int c : counts) BOOST_TEST(std::abs(c - 10000) < 500);
  std::vector<int> v(100);
  for (int i = 0; i < 100; ++i) v[i] = i;
  agilenn::shuffle(v, r);
  std::vector<int> sorted = v;
  std::sort(sorted.begin(), sorted.end());
  for (int i = 0; i < 100; ++i) BOOST_REQUIRE(sorted[i] == i);
  int fixed_points = 0;
  for (int i = 0; i < 100; ++i) fixed_points += v[i] == i;
  BOOST_TEST(fixed_points < 10);
  // Derived streams depend on their keys only.
  BOOST_TEST((Rng::derive(1, {2, 3}) == Rng::derive(1, {2, 3})));
  BOOST_TEST(!(Rng::derive(1, {2, 3}) == Rng::derive(1, {3, 2})));
  BOOST_TEST(!(Rng::derive(1, {2}) == Rng::derive(2, {2})));
}

BOOST_AUTO_TEST_SUITE_END()
