#include <boost/test/unit_test.hpp>
#include <chrono>

#include "nn/io/error.h"
#include "runtime/link_emulator.h"

using namespace agilenn;
using namespace agilenn::runtime;

BOOST_AUTO_TEST_SUITE(link_emulator)

BOOST_AUTO_TEST_CASE(parse_bandwidth_units) {
  BOOST_TEST(parse_bandwidth("6mbps", "--bandwidth") == 6e6);
  BOOST_TEST(parse_bandwidth("270kbps", "--bandwidth") == 270e3);
  BOOST_TEST(parse_bandwidth("2Mbps", "--bandwidth") == 2e6);
  BOOST_TEST(parse_bandwidth("9600", "--bandwidth") == 9600);
  BOOST_TEST(parse_bandwidth("1.5mbps", "--bandwidth") == 1.5e6);
  BOOST_CHECK_THROW(parse_bandwidth("fast", "--bandwidth"), Error);
  BOOST_CHECK_THROW(parse_bandwidth("6furlongs", "--bandwidth"), Error);
  BOOST_CHECK_THROW(parse_bandwidth("0mbps", "--bandwidth"), Error);
  BOOST_CHECK_THROW(parse_bandwidth("1.2.3kbps", "--bandwidth"), Error);
}

BOOST_AUTO_TEST_CASE(simulated_bulk_transfer_rate) {
  LinkConfig c;
  c.bandwidth_bps = 2e6;
  c.rtt_ms = 10;
  LinkEmulator link(c);
  // 1000 back-to-back 1000-byte messages = 8 Mbit at 2 Mbps = 4 s (+ the first bucket, + 5 ms).
  double last = 0;
  for (int i = 0; i < 1000; ++i) last = *link.transmit(1000, 0.0);
  const double rate = 8e6 / (last - 0.005);
  BOOST_TEST(std::abs(rate / 2e6 - 1) < 0.05);
  // An idle link refills: one small message after a pause goes out within the bucket at once.
  auto t = link.transmit(100, last + 10.0);
  BOOST_TEST(*t == last + 10.0 + 0.005, boost::test_tools::tolerance(1e-9));
}

BOOST_AUTO_TEST_CASE(simulated_loss_rate) {
  LinkConfig c;
  c.loss = 0.2;
  c.seed = 7;
  LinkEmulator link(c);
  int lost = 0;
  for (int i = 0; i < 20000; ++i) lost += !link.transmit(10, double(i)).has_value();
  BOOST_TEST(std::abs(lost / 20000.0 - 0.2) < 0.02);
  LinkConfig none;
  LinkEmulator clean(none);
  for (int i = 0; i < 1000; ++i) BOOST_TEST(clean.transmit(10, double(i)).has_value());
}

BOOST_AUTO_TEST_CASE(real_time_bulk_transfer_within_5_percent) {
  LinkConfig c;
  c.bandwidth_bps = 8e6;  // 1 MB/s
  LinkEmulator link(c);
  link.send_blocking(1500);  // drain the initial bucket
  auto t0 = std::chrono::steady_clock::now();
  const size_t bytes = 300000;  // 0.3 s
  link.send_blocking(bytes);
  double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  double rate = double(bytes) * 8 / s;
  BOOST_TEST_MESSAGE("real-time link: " << rate / 1e6 << " Mbps for 8 Mbps");
  BOOST_TEST(std::abs(rate / 8e6 - 1) < 0.05);
}

BOOST_AUTO_TEST_CASE(bad_config) {
  LinkConfig c;
  c.loss = 1.5;
  BOOST_CHECK_THROW(LinkEmulator{c}, Error);
  c = LinkConfig{};
  c.rtt_ms = -1;
  BOOST_CHECK_THROW(LinkEmulator{c}, Error);
}

BOOST_AUTO_TEST_SUITE_END()
