// The edge server: Boost.Asio TCP, one I/O thread for every connection (all socket work is
// asynchronous, so a slow or silent client only holds its own timers), and one inference thread
// that batches decoded requests across devices: it takes the first waiting request, waits up to
// the batch window for more (up to max_batch), runs the backend once and posts each answer back
// to its connection.
//
// Per-connection limits: the packet size (larger -> kTooLarge, closed), the idle timeout (no new
// frame header within it -> closed), the read timeout (a frame started must finish within it,
// and a response must be written within it -> closed), at most `max_inflight` requests queued
// per connection (the server stops reading that socket until answers drain), and at most
// `max_connections` connections (more are answered kOverloaded and closed).
#pragma once
#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "nn/io/json.h"
#include "runtime/backend.h"

namespace agilenn::runtime {

struct ServerOptions {
  std::string host = "127.0.0.1";
  uint16_t port = 0;  // 0 = ephemeral
  size_t max_batch = 32;
  double batch_window_ms = 2.0;
  size_t max_connections = 256;
  double idle_timeout_ms = 30000;
  double read_timeout_ms = 5000;
  uint32_t max_packet_bytes = 1 << 20;
  size_t max_inflight = 64;
};

struct ServerStats {
  uint64_t connections = 0, rejected_connections = 0, requests = 0, answered = 0;
  uint64_t bad_frames = 0, bad_packets = 0, timeouts = 0, batches = 0;
  double mean_batch = 0;
  // Server latency: frame fully read -> response handed to the socket, per request.
  double latency_p50_ms = 0, latency_p99_ms = 0, latency_mean_ms = 0;
  Json to_json() const;
};

class EdgeServer {
 public:
  EdgeServer(ServerOptions opts, std::shared_ptr<RemoteBackend> backend);
  ~EdgeServer();
  // Binds and starts the I/O and inference threads; returns the bound port.
  uint16_t start();
  // Stops accepting, closes every connection, joins the threads. Idempotent, thread-safe.
  void stop();
  // Blocks until stop() (e.g. from a signal handler thread).
  void wait();
  uint16_t port() const;
  ServerStats stats() const;
  void reset_latency_stats();

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace agilenn::runtime
