#include "runtime/client.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "nn/io/error.h"

namespace agilenn::runtime {

namespace {
int ms_left(ClientConnection::Clock::time_point deadline) {
  auto d = std::chrono::duration_cast<std::chrono::milliseconds>(deadline -
                                                                 ClientConnection::Clock::now())
               .count();
  return d < 0 ? 0 : int(std::min<long long>(d, 1 << 30));
}
}  // namespace

Endpoint parse_endpoint(const std::string& text, const std::string& flag) {
  auto colon = text.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == text.size())
    throw Error(flag + ": expected HOST:PORT, got '" + text + "'");
  Endpoint ep;
  ep.host = text.substr(0, colon);
  std::string p = text.substr(colon + 1);
  for (char c : p)
    if (c < '0' || c > '9') throw Error(flag + ": port is not a number in '" + text + "'");
  long v = p.size() > 5 ? 70000 : std::stol(p);
  if (v < 1 || v > 65535) throw Error(flag + ": port must be in [1, 65535], got '" + p + "'");
  ep.port = uint16_t(v);
  return ep;
}

ClientConnection::~ClientConnection() {
  close();
}

void ClientConnection::close() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
  rx_.clear();
}

bool ClientConnection::connect(const Endpoint& ep, Clock::time_point deadline) {
  close();
  addrinfo hints{}, *res = nullptr;
  hints.ai_family = AF_INET;
  hints.ai_socktype = SOCK_STREAM;
  if (getaddrinfo(ep.host.c_str(), std::to_string(ep.port).c_str(), &hints, &res) != 0 || !res)
    return false;
  int fd = ::socket(res->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    freeaddrinfo(res);
    return false;
  }
  int rc = ::connect(fd, res->ai_addr, res->ai_addrlen);
  freeaddrinfo(res);
  if (rc != 0 && errno != EINPROGRESS) {
    ::close(fd);
    return false;
  }
  if (rc != 0) {
    pollfd p{fd, POLLOUT, 0};
    if (::poll(&p, 1, ms_left(deadline)) <= 0) {
      ::close(fd);
      return false;
    }
    int err = 0;
    socklen_t len = sizeof err;
    if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0 || err != 0) {
      ::close(fd);
      return false;
    }
  }
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  fd_ = fd;
  rx_.clear();
  return true;
}

bool ClientConnection::send_all(std::span<const uint8_t> bytes, Clock::time_point deadline) {
  size_t off = 0;
  while (fd_ >= 0 && off < bytes.size()) {
    ssize_t n = ::send(fd_, bytes.data() + off, bytes.size() - off, MSG_NOSIGNAL);
    if (n > 0) {
      off += size_t(n);
      continue;
    }
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) {
      pollfd p{fd_, POLLOUT, 0};
      int left = ms_left(deadline);
      if (left == 0 || ::poll(&p, 1, left) <= 0) break;
      continue;
    }
    break;
  }
  if (off == bytes.size()) return true;
  close();
  return false;
}

bool ClientConnection::fill(size_t want, Clock::time_point deadline) {
  uint8_t buf[4096];
  while (fd_ >= 0 && rx_.size() < want) {
    ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
    if (n > 0) {
      rx_.insert(rx_.end(), buf, buf + n);
      continue;
    }
    if (n == 0) {  // peer closed
      close();
      return false;
    }
    if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) {
      pollfd p{fd_, POLLIN, 0};
      int left = ms_left(deadline);
      if (left == 0) return false;
      int r = ::poll(&p, 1, left);
      if (r < 0 && errno != EINTR) {
        close();
        return false;
      }
      if (r == 0) return false;
      continue;
    }
    close();
    return false;
  }
  return fd_ >= 0;
}

std::optional<Response> ClientConnection::receive(Clock::time_point deadline, uint16_t max_logits) {
  if (!fill(kFrameHeaderBytes, deadline)) return std::nullopt;
  Response r;
  try {
    r.header = parse_response_header(
        std::span<const uint8_t, kFrameHeaderBytes>(rx_.data(), kFrameHeaderBytes), max_logits);
  } catch (const Error&) {
    close();  // framing lost
    return std::nullopt;
  }
  if (!fill(kFrameHeaderBytes + r.header.length, deadline)) return std::nullopt;
  r.logits =
      parse_logits(std::span<const uint8_t>(rx_.data() + kFrameHeaderBytes, r.header.length));
  rx_.erase(rx_.begin(), rx_.begin() + kFrameHeaderBytes + r.header.length);
  return r;
}

RefusingPort::RefusingPort() {
  fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd_ < 0) throw Error(std::string("RefusingPort: socket: ") + std::strerror(errno));
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = 0;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  if (::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
      ::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len) != 0) {
    const int e = errno;
    ::close(fd_);
    throw Error(std::string("RefusingPort: bind 127.0.0.1:0: ") + std::strerror(e));
  }
  port_ = ntohs(a.sin_port);
}

RefusingPort::~RefusingPort() {
  if (fd_ >= 0) ::close(fd_);
}

}  // namespace agilenn::runtime
