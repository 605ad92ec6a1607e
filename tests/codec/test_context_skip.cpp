// Coder 5 (context-skip): coder 4 without the image's constant channels. Round trips on edge
// cases, its relation to coder 4's bytes, and malformed payloads.
#include <boost/test/unit_test.hpp>

#include <algorithm>

#include "codec/packed.h"
#include "test_util.h"

using namespace agilenn;
using namespace agilenn::codec;
using agilenn::codec::test::default_tables;

namespace {
const StreamShape kShape{14, 14, 19};

// A synthetic map with channels `constant` overwritten by the value r % alphabet.
std::vector<uint8_t> map_with_constant_channels(const std::vector<uint32_t>& constant,
                                                uint64_t seed) {
  auto idx = test::synthetic_indices(1, 14, 14, 5, 8, seed);
  for (uint32_t r : constant)
    for (size_t pos = r; pos < idx.size(); pos += kShape.channels) idx[pos] = uint8_t(r % 8);
  return idx;
}

std::vector<uint8_t> round_trip(const ContextModel& m, const std::vector<uint8_t>& idx,
                                const StreamShape& shape, const std::vector<uint8_t>& skip) {
  const auto payload = m.encode_static_skip(idx, shape, skip);
  std::vector<uint8_t> out(shape.size(), 0xEE);
  m.decode_static_skip(payload, shape, out);
  return out;
}

void expect_payload_error(std::span<const uint8_t> payload, const std::string& what) {
  std::vector<uint8_t> out(kShape.size());
  try {
    default_tables().context.decode_static_skip(payload, kShape, out);
    BOOST_FAIL("decoded a payload with " << what);
  } catch (const Error& e) {
    BOOST_TEST(std::string(e.what()).find("payload") != std::string::npos,
               "error '" << e.what() << "' should name the payload");
  }
}
}  // namespace

BOOST_AUTO_TEST_SUITE(context_skip)

BOOST_AUTO_TEST_CASE(constant_channels_finds_exactly_the_constant_ones) {
  const auto idx = map_with_constant_channels({0, 7, 18}, 5);
  const auto c = ContextModel::constant_channels(idx, kShape);
  BOOST_REQUIRE_EQUAL(c.size(), 19u);
  for (uint32_t r = 0; r < 19; ++r) {
    bool constant = true;
    for (size_t pos = r; pos < idx.size(); pos += 19) constant &= idx[pos] == idx[r];
    BOOST_TEST(bool(c[r]) == constant, "channel " << r);
  }
  BOOST_TEST(c[0] == 1);
  BOOST_TEST(c[7] == 1);
  BOOST_TEST(c[18] == 1);
}

BOOST_AUTO_TEST_CASE(round_trips_none_some_and_all_channels_skipped) {
  const ContextModel& m = default_tables().context;
  for (uint64_t seed = 1; seed <= 6; ++seed) {
    const auto idx = map_with_constant_channels({1, 2, 9, 13, 18}, seed);
    const auto constant = ContextModel::constant_channels(idx, kShape);
    std::vector<uint8_t> none(19, 0), some(19, 0);
    some[2] = some[13] = 1;  // a subset of the constant channels is valid too
    for (const auto& skip : {none, some, constant})
      BOOST_TEST(round_trip(m, idx, kShape, skip) == idx);
  }
  // Every channel constant: nothing is range-coded (the stream is the coder's 4-byte flush).
  std::vector<uint8_t> flat(kShape.size());
  for (size_t pos = 0; pos < flat.size(); ++pos) flat[pos] = uint8_t((pos % 19) % 8);
  const std::vector<uint8_t> all(19, 1);
  const auto payload = m.encode_static_skip(flat, kShape, all);
  BOOST_TEST(payload.size() == 3u + (19u * 3u + 7u) / 8u + 4u);
  BOOST_TEST(round_trip(m, flat, kShape, all) == flat);
  BOOST_TEST(encode_payload(CoderId::kContextSkip, flat, kShape, default_tables()) == payload);
}

BOOST_AUTO_TEST_CASE(no_skipped_channel_gives_coder_4_bytes_behind_a_zero_mask) {
  const ContextModel& m = default_tables().context;
  const auto idx = test::synthetic_indices(1, 14, 14, 5, 8, 77);
  const auto payload = m.encode_static_skip(idx, kShape, std::vector<uint8_t>(19, 0));
  const auto coder4 = m.encode_static(idx, kShape);
  BOOST_REQUIRE_EQUAL(payload.size(), coder4.size() + 3);
  BOOST_TEST(std::all_of(payload.begin(), payload.begin() + 3, [](uint8_t b) { return b == 0; }));
  BOOST_TEST(std::equal(coder4.begin(), coder4.end(), payload.begin() + 3));
}

BOOST_AUTO_TEST_CASE(skipping_constant_channels_never_costs_more_than_their_prefix) {
  const ContextModel& m = default_tables().context;
  for (uint64_t seed = 10; seed < 14; ++seed) {
    const auto idx = map_with_constant_channels({6, 11, 12, 13, 15, 16}, seed);
    const auto skip =
        m.encode_static_skip(idx, kShape, ContextModel::constant_channels(idx, kShape));
    const auto coder4 = m.encode_static(idx, kShape);
    BOOST_TEST(skip.size() <= coder4.size() + 3 + 3);  // mask + packed values at most
  }
}

BOOST_AUTO_TEST_CASE(one_by_one_maps_and_alphabets_2_and_256) {
  for (unsigned alphabet : {2u, 5u, 256u}) {
    const StreamShape one{1, 1, 3}, shape{5, 7, 3};
    SplitMix64 rng(alphabet);
    const uint32_t n = 6;
    std::vector<uint8_t> train(n * shape.size());
    for (auto& v : train) v = uint8_t(rng.next() % alphabet);
    const ContextModel m = ContextModel::fit(train, n, shape, alphabet);
    const ContextModel m1(alphabet, 3, m.config(), m.init_probs());
    // 1x1: every channel is constant, all skipped.
    const std::vector<uint8_t> px = {uint8_t(alphabet - 1), 0, uint8_t(alphabet / 2)};
    const auto c1 = ContextModel::constant_channels(px, one);
    BOOST_TEST(std::count(c1.begin(), c1.end(), 1) == 3);
    BOOST_TEST(round_trip(m1, px, one, c1) == px);
    BOOST_TEST(round_trip(m1, px, one, std::vector<uint8_t>(3, 0)) == px);
    std::vector<uint8_t> map(shape.size());
    for (size_t pos = 0; pos < map.size(); ++pos)
      map[pos] = pos % 3 == 1 ? uint8_t(alphabet - 1) : uint8_t(rng.next() % alphabet);
    const auto c = ContextModel::constant_channels(map, shape);
    BOOST_TEST(c[1] == 1);
    BOOST_TEST(round_trip(m, map, shape, c) == map);
  }
}

BOOST_AUTO_TEST_CASE(encoder_rejects_a_non_constant_flagged_channel_and_bad_flag_counts) {
  const ContextModel& m = default_tables().context;
  auto idx = map_with_constant_channels({4}, 3);
  idx[4 + 19 * 100] = uint8_t((idx[4] + 1) % 8);
  std::vector<uint8_t> skip(19, 0);
  skip[4] = 1;
  BOOST_CHECK_THROW(m.encode_static_skip(idx, kShape, skip), Error);
  BOOST_CHECK_THROW(m.encode_static_skip(idx, kShape, std::vector<uint8_t>(18, 0)), Error);
}

BOOST_AUTO_TEST_CASE(malformed_payloads_fail_with_clear_errors) {
  const ContextModel& m = default_tables().context;
  const auto idx = map_with_constant_channels({0, 9, 18}, 21);
  const auto good = m.encode_static_skip(idx, kShape, ContextModel::constant_channels(idx, kShape));
  std::vector<uint8_t> out(kShape.size());
  BOOST_CHECK_NO_THROW(m.decode_static_skip(good, kShape, out));
  BOOST_TEST(out == idx);
  expect_payload_error(std::span(good).first(0), "no mask");
  expect_payload_error(std::span(good).first(2), "a truncated mask");
  expect_payload_error(std::span(good).first(3), "no values");
  for (size_t cut = 3; cut < good.size(); ++cut)
    BOOST_CHECK_THROW(m.decode_static_skip(std::span(good).first(cut), kShape, out), Error);
  auto p = good;
  p[2] |= 0x80;  // bit 23 of a 19-channel mask
  expect_payload_error(p, "a mask bit past R");
  p = good;
  p.push_back(0);
  expect_payload_error(p, "a trailing byte");
  // Nonzero padding behind the packed values (3 channels x 3 bits = 9 bits in 2 bytes).
  const auto constant = ContextModel::constant_channels(idx, kShape);
  const size_t skipped = std::count(constant.begin(), constant.end(), 1);
  BOOST_REQUIRE_GE(skipped, 3u);
  if (skipped * 3 % 8 != 0) {
    p = good;
    p[3 + (skipped * 3 + 7) / 8 - 1] |= 1;
    expect_payload_error(p, "nonzero padding");
  }
}

BOOST_AUTO_TEST_CASE(a_skipped_value_outside_the_alphabet_is_rejected) {
  // Alphabet 5 (3 bits): a packed value of 7 must not decode.
  const StreamShape shape{3, 3, 2};
  std::vector<uint8_t> train(4 * shape.size());
  for (size_t i = 0; i < train.size(); ++i) train[i] = uint8_t(i % 5);
  const ContextModel m = ContextModel::fit(train, 4, shape, 5);
  std::vector<uint8_t> map(shape.size());
  for (size_t pos = 0; pos < map.size(); ++pos) map[pos] = pos % 2 ? 4 : uint8_t(pos % 5);
  auto p = m.encode_static_skip(map, shape, ContextModel::constant_channels(map, shape));
  BOOST_REQUIRE_EQUAL(int(p[0]), 2);  // channel 1 skipped, value 4 = 100 in the next byte
  BOOST_REQUIRE_EQUAL(int(p[1]), 0x80);
  p[1] = 0xE0;  // value 7
  std::vector<uint8_t> out(shape.size());
  BOOST_CHECK_THROW(m.decode_static_skip(p, shape, out), Error);
}

BOOST_AUTO_TEST_CASE(packets_of_coder_5_are_version_3_and_decode) {
  const auto idx = map_with_constant_channels({3, 8}, 31);
  const auto pkt = encode_packet(idx, kShape, default_tables(), CoderId::kContextSkip);
  BOOST_TEST(int(pkt[2]) == 3);
  BOOST_TEST(int(pkt[3]) == 5);
  const auto d = decode_packet(pkt, default_tables());
  BOOST_TEST(d.indices == idx);
  BOOST_TEST(int(parse_coder("context-skip", "--coder")) == int(CoderId::kContextSkip));
  BOOST_TEST(std::string(coder_name(CoderId::kContextSkip)) == "context-skip");
  // wrap_payload gives encode_packet's bytes for the same payload.
  const auto payload = encode_payload(CoderId::kContextSkip, idx, kShape, default_tables());
  BOOST_TEST(wrap_payload(payload, kShape, default_tables(), CoderId::kContextSkip) == pkt);
}

BOOST_AUTO_TEST_SUITE_END()
