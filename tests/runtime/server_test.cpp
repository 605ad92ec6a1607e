// The edge server on an ephemeral loopback port inside the test process, with a small
// deterministic backend: a packet is 8 bytes starting with 'P'; its logits are
// (b1 + c, b2 - c) for c in 0..num_classes/2.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <boost/test/unit_test.hpp>
#include <thread>

#include "nn/io/error.h"
#include "runtime/client.h"
#include "runtime/device_runner.h"
#include "runtime/server.h"

using namespace agilenn;
using namespace agilenn::runtime;
using Clock = std::chrono::steady_clock;

namespace {

constexpr int kClasses = 4;

class TestBackend : public RemoteBackend {
 public:
  explicit TestBackend(int infer_sleep_ms = 0) : sleep_ms_(infer_sleep_ms) {}
  size_t input_size() const override { return 8; }
  int num_classes() const override { return kClasses; }
  std::vector<float> prepare(std::span<const uint8_t> p) const override {
    if (p.size() != 8 || p[0] != 'P') throw Error("test packet: bad");
    return std::vector<float>(p.begin(), p.end());
  }
  std::vector<float> infer(const std::vector<float>& in, size_t n) override {
    if (sleep_ms_) std::this_thread::sleep_for(std::chrono::milliseconds(sleep_ms_));
    max_batch_seen = std::max(max_batch_seen.load(), n);
    std::vector<float> out;
    for (size_t i = 0; i < n; ++i)
      for (int c = 0; c < kClasses; ++c) out.push_back(expected(in[i * 8 + 1], in[i * 8 + 2], c));
    return out;
  }
  static float expected(float b1, float b2, int c) { return c % 2 ? b2 - float(c) : b1 + float(c); }
  std::atomic<size_t> max_batch_seen{0};

 private:
  int sleep_ms_;
};

std::vector<uint8_t> test_packet(uint32_t a, uint32_t b) {
  return {'P', uint8_t(a), uint8_t(b), 0, 0, 0, 0, 0};
}

Clock::time_point in_ms(int ms) {
  return Clock::now() + std::chrono::milliseconds(ms);
}

Endpoint local(uint16_t port) {
  return Endpoint{"127.0.0.1", port};
}

// Sends `n` requests on one connection and checks every answer (ids and logits).
size_t run_client(uint16_t port, uint32_t device_id, int n) {
  ClientConnection c;
  if (!c.connect(local(port), in_ms(2000))) return 0;
  size_t ok = 0;
  for (int s = 1; s <= n; ++s) {
    auto pkt = test_packet(device_id * 7 + s, s);
    if (!c.send_all(encode_request(device_id, uint32_t(s), pkt), in_ms(2000))) break;
    auto r = c.receive(in_ms(5000));
    if (!r || r->header.status != Status::kOk || r->header.device_id != device_id ||
        r->header.sequence != uint32_t(s) || r->logits.size() != size_t(kClasses))
      break;
    bool good = true;
    for (int k = 0; k < kClasses; ++k)
      good &=
          r->logits[k] == TestBackend::expected(float(uint8_t(pkt[1])), float(uint8_t(pkt[2])), k);
    if (!good) break;
    ++ok;
  }
  return ok;
}

// A raw socket for misbehaving clients.
int raw_connect(uint16_t port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  BOOST_REQUIRE(::connect(fd, (sockaddr*)&a, sizeof a) == 0);
  return fd;
}

// Reads until EOF or `ms`; returns the bytes.
std::vector<uint8_t> read_until_close(int fd, int ms) {
  timeval tv{ms / 1000, (ms % 1000) * 1000};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  std::vector<uint8_t> out;
  uint8_t buf[512];
  for (;;) {
    ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) break;
    out.insert(out.end(), buf, buf + n);
  }
  return out;
}

Status status_of(const std::vector<uint8_t>& frame) {
  BOOST_REQUIRE(frame.size() >= kFrameHeaderBytes);
  return parse_response_header(
             std::span<const uint8_t, kFrameHeaderBytes>(frame.data(), kFrameHeaderBytes), 16)
      .status;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(server)

BOOST_AUTO_TEST_CASE(smoke_many_clients_with_garbage_and_silent_clients) {
  auto backend = std::make_shared<TestBackend>();
  ServerOptions o;
  o.max_batch = 16;
  o.batch_window_ms = 1;
  o.idle_timeout_ms = 20000;  // the silent client stays connected during the run
  EdgeServer srv(o, backend);
  uint16_t port = srv.start();
  BOOST_TEST(port != 0);

  // A silent client: connects, says nothing.
  int silent = raw_connect(port);
  // A client that sends half a frame and hangs.
  int half = raw_connect(port);
  auto f = encode_request(99, 1, test_packet(1, 2));
  BOOST_REQUIRE(::send(half, f.data(), 10, 0) == 10);

  std::atomic<bool> garbage_done{false};
  std::thread garbage([&] {
    // Garbage clients keep connecting and sending junk while the others work.
    for (int i = 0; i < 20; ++i) {
      int g = raw_connect(port);
      std::vector<uint8_t> junk(64);
      for (size_t k = 0; k < junk.size(); ++k) junk[k] = uint8_t(k * 37 + i);
      ::send(g, junk.data(), junk.size(), MSG_NOSIGNAL);
      auto got = read_until_close(g, 2000);
      if (got.size() >= kFrameHeaderBytes)
        BOOST_CHECK(int(status_of(got)) == int(Status::kBadMagic));
      ::close(g);
    }
    garbage_done = true;
  });

  const int clients = 6, per = 60;
  std::vector<size_t> ok(clients);
  std::vector<std::thread> ts;
  for (int c = 0; c < clients; ++c)
    ts.emplace_back([&, c] { ok[c] = run_client(port, uint32_t(c + 1), per); });
  for (auto& t : ts) t.join();
  garbage.join();
  for (int c = 0; c < clients; ++c) BOOST_TEST(ok[c] == size_t(per));
  auto st = srv.stats();
  BOOST_TEST(st.answered == uint64_t(clients * per));
  BOOST_TEST(st.bad_frames >= 20u);
  BOOST_TEST(backend->max_batch_seen.load() >= 1u);
  // A client that disconnects mid-packet does not disturb the next one.
  ::close(half);
  BOOST_TEST(run_client(port, 50, 5) == 5u);
  ::close(silent);
  srv.stop();
  srv.stop();  // idempotent
}

BOOST_AUTO_TEST_CASE(error_codes_on_the_wire) {
  auto backend = std::make_shared<TestBackend>();
  ServerOptions o;
  o.max_packet_bytes = 64;
  EdgeServer srv(o, backend);
  uint16_t port = srv.start();

  {  // bad packet: answered kBadPacket, connection stays usable
    ClientConnection c;
    BOOST_REQUIRE(c.connect(local(port), in_ms(2000)));
    std::vector<uint8_t> bad = {'X', 1, 2, 3, 4, 5, 6, 7};
    BOOST_REQUIRE(c.send_all(encode_request(3, 1, bad), in_ms(2000)));
    auto r = c.receive(in_ms(2000));
    BOOST_REQUIRE(r.has_value());
    BOOST_TEST(int(r->header.status) == int(Status::kBadPacket));
    BOOST_TEST(r->header.sequence == 1u);
    BOOST_REQUIRE(c.send_all(encode_request(3, 2, test_packet(5, 6)), in_ms(2000)));
    r = c.receive(in_ms(2000));
    BOOST_REQUIRE(r.has_value());
    BOOST_TEST(int(r->header.status) == int(Status::kOk));
    BOOST_TEST(r->header.sequence == 2u);
  }
  {  // oversize length: kTooLarge, then closed, without the body ever being sent
    int fd = raw_connect(port);
    auto f = encode_request(4, 1, std::vector<uint8_t>(65, 'P'));
    ::send(fd, f.data(), kFrameHeaderBytes, MSG_NOSIGNAL);
    auto got = read_until_close(fd, 2000);
    BOOST_REQUIRE(got.size() == kFrameHeaderBytes);
    BOOST_TEST(int(status_of(got)) == int(Status::kTooLarge));
    ::close(fd);
  }
  {  // wrong version: kBadVersion, closed
    int fd = raw_connect(port);
    auto f = encode_request(4, 1, test_packet(1, 1));
    f[4] = 9;
    ::send(fd, f.data(), f.size(), MSG_NOSIGNAL);
    auto got = read_until_close(fd, 2000);
    BOOST_REQUIRE(got.size() == kFrameHeaderBytes);
    BOOST_TEST(int(status_of(got)) == int(Status::kBadVersion));
    ::close(fd);
  }
  BOOST_TEST(srv.stats().bad_frames == 2u);
  BOOST_TEST(srv.stats().bad_packets == 1u);
}

BOOST_AUTO_TEST_CASE(timeouts_and_connection_limit) {
  auto backend = std::make_shared<TestBackend>();
  ServerOptions o;
  o.idle_timeout_ms = 150;
  o.read_timeout_ms = 150;
  o.max_connections = 2;
  EdgeServer srv(o, backend);
  uint16_t port = srv.start();
  // A silent client is closed after the idle timeout.
  int silent = raw_connect(port);
  auto t0 = Clock::now();
  auto got = read_until_close(silent, 3000);
  double waited = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
  BOOST_TEST(got.empty());
  BOOST_TEST(waited >= 100.0);
  BOOST_TEST(waited < 2500.0);
  ::close(silent);
  // A frame started and not finished is closed after the read timeout.
  int half = raw_connect(port);
  auto f = encode_request(1, 1, test_packet(1, 1));
  ::send(half, f.data(), kFrameHeaderBytes + 2, MSG_NOSIGNAL);
  got = read_until_close(half, 3000);
  BOOST_TEST(got.empty());
  ::close(half);
  BOOST_TEST(srv.stats().timeouts >= 2u);
  // Connection limit: the third concurrent connection is answered kOverloaded.
  ClientConnection a, b;
  BOOST_REQUIRE(a.connect(local(port), in_ms(1000)));
  BOOST_REQUIRE(b.connect(local(port), in_ms(1000)));
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  int third = raw_connect(port);
  got = read_until_close(third, 2000);
  BOOST_REQUIRE(got.size() == kFrameHeaderBytes);
  BOOST_TEST(int(status_of(got)) == int(Status::kOverloaded));
  ::close(third);
  srv.stop();
}

BOOST_AUTO_TEST_CASE(batching_across_connections) {
  auto backend = std::make_shared<TestBackend>(5);  // slow inference: requests pile up
  ServerOptions o;
  o.max_batch = 8;
  o.batch_window_ms = 5;
  EdgeServer srv(o, backend);
  uint16_t port = srv.start();
  std::vector<std::thread> ts;
  std::vector<size_t> ok(8);
  for (int c = 0; c < 8; ++c)
    ts.emplace_back([&, c] { ok[c] = run_client(port, uint32_t(c), 10); });
  for (auto& t : ts) t.join();
  for (auto v : ok) BOOST_TEST(v == 10u);
  BOOST_TEST(backend->max_batch_seen.load() > 1u);
  BOOST_TEST(backend->max_batch_seen.load() <= 8u);
  BOOST_TEST(srv.stats().mean_batch > 1.0);
}

namespace {
// Four images whose local logits point at class i % 4, labels i % 4 except image 3 (label 0).
void device_inputs(size_t n, std::vector<DeviceOutput>& outs, std::vector<std::vector<uint8_t>>& pk,
                   std::vector<int32_t>& labels) {
  for (size_t i = 0; i < n; ++i) {
    DeviceOutput o;
    o.local_logits.assign(kClasses, 0.0f);
    o.local_logits[i % kClasses] = 1.0f;
    outs.push_back(o);
    pk.push_back(test_packet(uint32_t(i), uint32_t(i)));
    labels.push_back(int32_t(i % kClasses));
  }
}
}  // namespace

BOOST_AUTO_TEST_CASE(deadline_fallback_and_server_down) {
  std::vector<DeviceOutput> outs;
  std::vector<std::vector<uint8_t>> pk;
  std::vector<int32_t> labels;
  device_inputs(12, outs, pk, labels);
  auto backend = std::make_shared<TestBackend>(60);  // 60 ms inference
  ServerOptions so;
  so.max_batch = 1;
  EdgeServer srv(so, backend);
  uint16_t port = srv.start();
  DeviceRunOptions d;
  d.server = local(port);
  d.link.bandwidth_bps = 1e6;
  d.clients = 2;
  d.alpha = 0.0;       // remote alone: the test backend's logits decide
  d.deadline_ms = 20;  // shorter than the inference
  auto r = run_devices(d, outs, pk, labels);
  BOOST_TEST(r.requests == 12u);
  BOOST_TEST(r.fallback_deadline == 12u);
  BOOST_TEST(r.answered == 0u);
  BOOST_TEST(r.correct == 12u);  // the local logits are right for every image
  for (size_t i = 0; i < 12; ++i) BOOST_TEST(r.predictions[i] == int32_t(i % kClasses));
  // A generous deadline: every request is answered (late answers of the first run are skipped).
  d.deadline_ms = 2000;
  r = run_devices(d, outs, pk, labels);
  BOOST_TEST(r.answered == 12u);
  BOOST_TEST(r.fallbacks() == 0u);
  BOOST_TEST(r.mismatched == 0u);
  // Remote logits (b1 + c for even c, b2 - c for odd c) with b1 = b2 = i: argmax is class 2 for
  // i >= 2 ... computed here the same way.
  for (size_t i = 0; i < 12; ++i) {
    float best = -1e9f;
    int arg = 0;
    for (int c = 0; c < kClasses; ++c)
      if (TestBackend::expected(float(i), float(i), c) > best)
        best = TestBackend::expected(float(i), float(i), c), arg = c;
    BOOST_TEST(r.predictions[i] == arg);
  }
  // Modelled link time is in the latency: 48 bytes (20 + 8 up, 20 + 16 down) at 1 Mbps.
  BOOST_TEST(percentile_ms(r.latency_ms, 0.0) >= (28 + 36) * 8 / 1e3 - 1e-9);
  srv.stop();
  // Server down: every request falls back at once, no hang.
  auto t0 = Clock::now();
  d.deadline_ms = 500;
  r = run_devices(d, outs, pk, labels);
  BOOST_TEST(r.fallback_server_down == 12u);
  BOOST_TEST(r.correct == 12u);
  BOOST_TEST(std::chrono::duration<double>(Clock::now() - t0).count() < 3.0);
}

BOOST_AUTO_TEST_CASE(restart_recovers) {
  std::vector<DeviceOutput> outs;
  std::vector<std::vector<uint8_t>> pk;
  std::vector<int32_t> labels;
  device_inputs(4, outs, pk, labels);
  auto backend = std::make_shared<TestBackend>();
  auto srv = std::make_unique<EdgeServer>(ServerOptions{}, backend);
  uint16_t port = srv->start();
  DeviceRunOptions d;
  d.server = local(port);
  d.deadline_ms = 1000;
  d.reconnect_ms = 0;
  BOOST_TEST(run_devices(d, outs, pk, labels).answered == 4u);
  srv->stop();
  srv.reset();
  BOOST_TEST(run_devices(d, outs, pk, labels).fallback_server_down == 4u);
  ServerOptions same;
  same.port = port;
  srv = std::make_unique<EdgeServer>(same, backend);
  BOOST_TEST(srv->start() == port);
  auto r = run_devices(d, outs, pk, labels);
  BOOST_TEST(r.answered == 4u);
  BOOST_TEST(r.reconnects >= 1u);
}

BOOST_AUTO_TEST_CASE(bad_options) {
  auto backend = std::make_shared<TestBackend>();
  ServerOptions o;
  o.max_batch = 0;
  BOOST_CHECK_THROW(EdgeServer(o, backend), Error);
  BOOST_CHECK_THROW(parse_endpoint("localhost", "--server"), Error);
  BOOST_CHECK_THROW(parse_endpoint("h:99999", "--server"), Error);
  BOOST_CHECK_THROW(parse_endpoint("h:12a", "--server"), Error);
  BOOST_TEST(parse_endpoint("127.0.0.1:80", "--server").port == 80);
}

BOOST_AUTO_TEST_SUITE_END()
