// A radio link between device and server: token-bucket bandwidth, one-way delay (RTT / 2) and
// independent packet loss, in *simulated time* (seconds from an arbitrary origin). The device
// client uses the simulated times for the modelled latency and deadline (the loopback socket
// carries the bytes instantly); `send_blocking` turns the same schedule into real sleeps for
// timing tests and demonstrations.
#pragma once
#include <cstddef>
#include <cstdint>
#include <optional>
#include <random>
#include <string>

namespace agilenn::runtime {

struct LinkConfig {
  double bandwidth_bps = 6e6;  // token refill rate
  double bucket_bytes = 1500;  // burst: one MTU by default
  double rtt_ms = 0;           // each direction adds rtt / 2
  double loss = 0;             // probability that a message is lost (whole message)
  uint64_t seed = 1;
};

// "6mbps", "270kbps", "2Mbps", "9600bps", or a bare number of bits/s; throws naming `flag`.
double parse_bandwidth(const std::string& text, const std::string& flag);

class LinkEmulator {
 public:
  explicit LinkEmulator(const LinkConfig& cfg);
  // A message of `bytes` handed to the link at simulated time `now`: returns its arrival time at
  // the far end, or nullopt if it is lost. Messages queue behind each other (the bucket is
  // shared): a message cannot start before the previous one has left.
  std::optional<double> transmit(size_t bytes, double now);
  // Time on the wire for `bytes` with an empty queue and a full bucket (no delay).
  double serialization_seconds(size_t bytes) const;
  // Real time: sleeps until the bucket has passed `bytes` (no delay, no loss). For tests.
  void send_blocking(size_t bytes);
  const LinkConfig& config() const { return cfg_; }

 private:
  LinkConfig cfg_;
  double tokens_;    // bytes available at time last_
  double last_ = 0;  // simulated time of the last update
  double busy_until_ = 0;
  std::mt19937_64 rng_;
  double take(size_t bytes, double now);  // returns the time the last byte leaves
};

}  // namespace agilenn::runtime
