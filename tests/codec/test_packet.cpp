// The packet decoder against malformed input: every truncation, every bit flip, wrong fields,
// lengths past the end, huge dimensions.
#include <boost/test/unit_test.hpp>

#include "codec/crc32.h"
#include "test_util.h"

using namespace agilenn;
using namespace agilenn::codec;
using agilenn::codec::test::default_tables;

namespace {
const StreamShape kShape{14, 14, 19};

std::vector<uint8_t> sample_packet(CoderId coder = kDefaultCoder) {
  const auto idx = test::synthetic_indices(1, 14, 14, 5, 8, 4242);
  return encode_packet(idx, kShape, default_tables(), coder);
}

// Rewrites the CRC so a test reaches the check behind it.
void fix_crc(std::vector<uint8_t>& p) {
  uint32_t crc = crc32_of(std::span(p).first(20));
  crc = crc32_of(std::span(p).subspan(kPacketHeaderBytes), crc);
  for (int i = 0; i < 4; ++i) p[20 + i] = uint8_t(crc >> (8 * i));
}

void expect_error_naming(const std::vector<uint8_t>& p, const std::string& field,
                         const PacketLimits& limits = {}) {
  try {
    decode_packet(p, default_tables(), limits);
    BOOST_FAIL("decoded a packet with a bad " << field);
  } catch (const Error& e) {
    BOOST_TEST(std::string(e.what()).find("packet." + field) != std::string::npos,
               "error '" << e.what() << "' should name packet." << field);
  }
}

void set_u16(std::vector<uint8_t>& p, size_t at, uint32_t v) {
  p[at] = uint8_t(v);
  p[at + 1] = uint8_t(v >> 8);
}
void set_u32(std::vector<uint8_t>& p, size_t at, uint32_t v) {
  for (int i = 0; i < 4; ++i) p[at + i] = uint8_t(v >> (8 * i));
}
}  // namespace

BOOST_AUTO_TEST_SUITE(packet)

BOOST_AUTO_TEST_CASE(truncation_at_every_byte_fails_cleanly) {
  for (unsigned c = 0; c < kCoderCount; ++c) {
    const auto p = sample_packet(CoderId(c));
    for (size_t cut = 0; cut < p.size(); ++cut)
      BOOST_CHECK_THROW(decode_packet(std::span(p).first(cut), default_tables()), Error);
  }
}

BOOST_AUTO_TEST_CASE(every_single_bit_flip_is_detected) {
  for (unsigned c = 0; c < kCoderCount; ++c) {
    const auto p = sample_packet(CoderId(c));
    for (size_t bit = 0; bit < p.size() * 8; ++bit) {
      auto q = p;
      q[bit / 8] ^= uint8_t(1u << (bit % 8));
      BOOST_CHECK_THROW(decode_packet(q, default_tables()), Error);
    }
  }
}

BOOST_AUTO_TEST_CASE(payload_corruption_behind_a_valid_crc_never_crashes) {
  // An attacker can recompute the CRC: the coders themselves must then fail cleanly or return
  // valid indices.
  SplitMix64 rng(8);
  for (unsigned c = 0; c < kCoderCount; ++c) {
    const auto p = sample_packet(CoderId(c));
    for (int trial = 0; trial < 300; ++trial) {
      auto q = p;
      const size_t at = kPacketHeaderBytes + rng.next() % (q.size() - kPacketHeaderBytes);
      q[at] = uint8_t(rng.next());
      fix_crc(q);
      try {
        const auto d = decode_packet(q, default_tables());
        for (uint8_t v : d.indices) BOOST_REQUIRE(v < 8);
      } catch (const Error&) {
      }
    }
  }
}

BOOST_AUTO_TEST_CASE(each_header_field_is_checked_and_named) {
  const auto good = sample_packet();
  BOOST_CHECK_NO_THROW(decode_packet(good, default_tables()));
  auto p = good;
  p[0] = 'X';
  expect_error_naming(p, "magic");
  for (uint8_t v : {0, 4, 255}) {  // versions this decoder does not know
    p = good;
    p[2] = v;
    fix_crc(p);
    expect_error_naming(p, "version");
  }
  p = good;  // a version-1 coder in a version-2 packet
  p[2] = 2;
  fix_crc(p);
  expect_error_naming(p, "coder");
  const auto stat = sample_packet(CoderId::kContextStatic);  // coder 4 only in version 2
  BOOST_TEST(int(stat[2]) == 2);
  BOOST_CHECK_NO_THROW(decode_packet(stat, default_tables()));
  p = stat;
  p[2] = 1;
  fix_crc(p);
  expect_error_naming(p, "coder");
  const auto skip = sample_packet(CoderId::kContextSkip);  // coder 5 only in version 3
  BOOST_TEST(int(skip[2]) == 3);
  BOOST_CHECK_NO_THROW(decode_packet(skip, default_tables()));
  for (uint8_t v : {1, 2}) {
    p = skip;
    p[2] = v;
    fix_crc(p);
    expect_error_naming(p, "coder");
  }
  p = stat;  // coder 4 in a version-3 packet
  p[2] = 3;
  fix_crc(p);
  expect_error_naming(p, "coder");
  p = good;
  p[3] = 9;
  fix_crc(p);
  expect_error_naming(p, "coder");
  p = good;
  p[4] ^= 1;
  fix_crc(p);
  expect_error_naming(p, "fingerprint");
  p = good;
  set_u16(p, 8, 0);
  fix_crc(p);
  expect_error_naming(p, "H");
  p = good;
  set_u16(p, 10, 0);
  fix_crc(p);
  expect_error_naming(p, "W");
  p = good;
  set_u16(p, 12, 18);
  fix_crc(p);
  expect_error_naming(p, "R");
  p = good;
  p[14] = 6;
  fix_crc(p);
  expect_error_naming(p, "k");
  p = good;
  p[15] = 15;
  fix_crc(p);
  expect_error_naming(p, "alphabet");
  p = good;
  p[21] ^= 0x40;
  expect_error_naming(p, "crc32");
}

BOOST_AUTO_TEST_CASE(length_fields_past_the_end_and_trailing_bytes) {
  const auto good = sample_packet();
  const uint32_t len = uint32_t(good.size() - kPacketHeaderBytes);
  for (uint32_t bad : {len + 1, len + 1000, 0xFFFFFFFFu, len - 1, 0u}) {
    auto p = good;
    set_u32(p, 16, bad);
    fix_crc(p);
    expect_error_naming(p, "payload_length");
  }
  auto p = good;
  p.push_back(0);
  expect_error_naming(p, "payload_length");
  expect_error_naming(std::vector<uint8_t>(good.begin(), good.begin() + 10), "header");
}

BOOST_AUTO_TEST_CASE(huge_dimensions_are_refused_before_allocating) {
  auto p = sample_packet();
  set_u16(p, 8, 65535);
  set_u16(p, 10, 65535);
  fix_crc(p);
  expect_error_naming(p, "H");
  PacketLimits wide;
  wide.max_height = wide.max_width = 65535;
  expect_error_naming(p, "shape", wide);  // 65535^2 * 19 indices > max_indices
  // Within the limits but not matching the payload: the coder runs out of bytes.
  p = sample_packet();
  set_u16(p, 8, 1000);
  set_u16(p, 10, 200);
  fix_crc(p);
  BOOST_CHECK_THROW(decode_packet(p, default_tables()), Error);
}

BOOST_AUTO_TEST_CASE(header_parse_reports_the_fields) {
  const auto p = sample_packet(CoderId::kHuffman);
  const PacketHeader h = parse_packet_header(p);
  BOOST_TEST(h.version == 1);  // coders 0-3 keep version 1
  BOOST_TEST(int(h.coder) == int(CoderId::kHuffman));
  BOOST_TEST((h.shape == kShape));
  BOOST_TEST(h.local_channels == 5u);
  BOOST_TEST(h.alphabet == 8u);
  BOOST_TEST(h.fingerprint == default_tables().fingerprint());
  BOOST_TEST(h.payload_length == p.size() - kPacketHeaderBytes);
}

BOOST_AUTO_TEST_SUITE_END()
