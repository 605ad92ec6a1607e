#include <boost/test/unit_test.hpp>
#include <cstring>

#include "nn/io/error.h"
#include "runtime/latency_model.h"
#include "runtime/protocol.h"

using namespace agilenn;
using namespace agilenn::runtime;

namespace {
std::span<const uint8_t, kFrameHeaderBytes> head(const std::vector<uint8_t>& f) {
  return std::span<const uint8_t, kFrameHeaderBytes>(f.data(), kFrameHeaderBytes);
}
}  // namespace

BOOST_AUTO_TEST_SUITE(protocol)

BOOST_AUTO_TEST_CASE(request_round_trip) {
  std::vector<uint8_t> packet = {1, 2, 3, 4, 5};
  auto f = encode_request(0xdeadbeef, 77, packet);
  BOOST_TEST(f.size() == kFrameHeaderBytes + 5);
  auto p = parse_request_header(head(f), 100);
  BOOST_TEST(int(p.status) == int(Status::kOk));
  BOOST_TEST(p.header.device_id == 0xdeadbeefu);
  BOOST_TEST(p.header.sequence == 77u);
  BOOST_TEST(p.header.length == 5u);
  BOOST_TEST(std::memcmp(f.data() + kFrameHeaderBytes, packet.data(), 5) == 0);
}

BOOST_AUTO_TEST_CASE(request_errors) {
  std::vector<uint8_t> packet(10, 7);
  auto good = encode_request(1, 2, packet);
  auto f = good;
  f[0] = 'X';
  BOOST_TEST(int(parse_request_header(head(f), 100).status) == int(Status::kBadMagic));
  f = good;
  f[4] = 2;
  BOOST_TEST(int(parse_request_header(head(f), 100).status) == int(Status::kBadVersion));
  f = good;
  f[5] = 1;
  BOOST_TEST(int(parse_request_header(head(f), 100).status) == int(Status::kBadVersion));
  f = good;
  f[7] = 1;
  BOOST_TEST(int(parse_request_header(head(f), 100).status) == int(Status::kBadVersion));
  // Oversize: the limit is checked before anything is allocated.
  BOOST_TEST(int(parse_request_header(head(good), 9).status) == int(Status::kTooLarge));
  f = good;
  f[16] = f[17] = f[18] = f[19] = 0xff;
  auto p = parse_request_header(head(f), 1 << 20);
  BOOST_TEST(int(p.status) == int(Status::kTooLarge));
  BOOST_TEST(p.error.find("4294967295") != std::string::npos);
  auto empty = encode_request(1, 2, {});
  BOOST_TEST(int(parse_request_header(head(empty), 100).status) == int(Status::kTooLarge));
}

BOOST_AUTO_TEST_CASE(response_round_trip_and_errors) {
  std::vector<float> logits = {1.5f, -2.25f, 3e10f, 0.0f};
  auto f = encode_response(Status::kOk, 9, 10, logits);
  auto h = parse_response_header(head(f), 16);
  BOOST_TEST(int(h.status) == int(Status::kOk));
  BOOST_TEST(h.device_id == 9u);
  BOOST_TEST(h.sequence == 10u);
  BOOST_TEST(h.logit_count == 4);
  auto back = parse_logits(std::span<const uint8_t>(f.data() + kFrameHeaderBytes, h.length));
  BOOST_TEST(back == logits, boost::test_tools::per_element());
  BOOST_CHECK_THROW(parse_response_header(head(f), 3), Error);  // more logits than allowed
  auto bad = f;
  bad[0] = 'Z';
  BOOST_CHECK_THROW(parse_response_header(head(bad), 16), Error);
  bad = f;
  bad[5] = 200;  // unknown status
  BOOST_CHECK_THROW(parse_response_header(head(bad), 16), Error);
  bad = f;
  bad[16] = 3;  // length != 4 * count
  BOOST_CHECK_THROW(parse_response_header(head(bad), 16), Error);
  BOOST_CHECK_THROW(parse_logits(std::vector<uint8_t>(5)), Error);
  auto e = encode_response(Status::kBadPacket, 1, 2, {});
  BOOST_TEST(int(parse_response_header(head(e), 16).status) == int(Status::kBadPacket));
  BOOST_TEST(std::string(status_name(Status::kTooLarge)) == "too_large");
}

BOOST_AUTO_TEST_CASE(latency_model_breakdown) {
  LatencyModel m;
  m.mcu_mhz = 216;
  m.bandwidth_bps = 6e6;
  m.rtt_ms = 2;
  // 2.16 M instructions at 216 MHz, 1 instruction per cycle = 10 ms.
  BOOST_TEST(m.compute_ms(2.16e6) == 10.0, boost::test_tools::tolerance(1e-12));
  // 750 bytes = 6000 bits at 6 Mbps = 1 ms, plus 2 ms RTT.
  BOOST_TEST(m.transmission_ms(750) == 3.0, boost::test_tools::tolerance(1e-12));
  auto b = m.breakdown(2.16e6, std::nullopt, 750, 0.5);
  BOOST_TEST(*b.total_ms() == 13.5, boost::test_tools::tolerance(1e-12));
  auto unknown = m.breakdown(std::nullopt, std::nullopt, 750, 0.5);
  BOOST_TEST(!unknown.total_ms().has_value());
  BOOST_TEST(unknown.to_json().at("total_ms").is_null());
}

BOOST_AUTO_TEST_SUITE_END()
