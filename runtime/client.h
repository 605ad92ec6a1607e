// A blocking client connection to the edge server (POSIX sockets; each wait is bounded by poll
// with the caller's deadline, so a dead or slow server costs at most the deadline).
#pragma once
#include <chrono>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "runtime/protocol.h"

namespace agilenn::runtime {

struct Endpoint {
  std::string host;
  uint16_t port = 0;
};
// "HOST:PORT"; throws naming `flag`.
Endpoint parse_endpoint(const std::string& text, const std::string& flag);

struct Response {
  ResponseHeader header;
  std::vector<float> logits;
};

class ClientConnection {
 public:
  using Clock = std::chrono::steady_clock;
  ClientConnection() = default;
  ~ClientConnection();
  ClientConnection(const ClientConnection&) = delete;
  ClientConnection& operator=(const ClientConnection&) = delete;

  // Returns false (connection closed) on failure or when the deadline passes.
  bool connect(const Endpoint& ep, Clock::time_point deadline);
  bool connected() const { return fd_ >= 0; }
  void close();
  // Writes all bytes before the deadline, or closes and returns false.
  bool send_all(std::span<const uint8_t> bytes, Clock::time_point deadline);
  // The next response frame before the deadline; nullopt on timeout (the connection stays open:
  // a late answer is read and discarded by sequence number next time) or on error (closed).
  std::optional<Response> receive(Clock::time_point deadline, uint16_t max_logits = 4096);

 private:
  int fd_ = -1;
  std::vector<uint8_t> rx_;  // bytes received and not yet consumed (a partial frame)
  bool fill(size_t want, Clock::time_point deadline);  // false: timeout or closed
};

// A loopback TCP port that is bound but not listening: a connect to it is refused at once, like
// a server that is down, and no other process can take the port while this object lives (for
// measuring what the device delivers with the server unreachable).
class RefusingPort {
 public:
  RefusingPort();  // throws agilenn::Error if no port can be bound
  ~RefusingPort();
  RefusingPort(const RefusingPort&) = delete;
  RefusingPort& operator=(const RefusingPort&) = delete;
  Endpoint endpoint() const { return Endpoint{"127.0.0.1", port_}; }

 private:
  int fd_ = -1;
  uint16_t port_ = 0;
};

}  // namespace agilenn::runtime
