#include "runtime/server.h"

#include <algorithm>
#include <array>
#include <boost/asio.hpp>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <set>
#include <thread>

#include "nn/io/error.h"
#include "runtime/protocol.h"

namespace agilenn::runtime {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;

namespace {
std::chrono::microseconds ms_to_us(double ms) {
  return std::chrono::microseconds(int64_t(std::max(0.0, ms) * 1000.0));
}
double percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  size_t i = size_t(std::min<double>(double(v.size() - 1), std::ceil(p * double(v.size())) - 1));
  return v[i];
}
}  // namespace

Json ServerStats::to_json() const {
  Json j;
  j["connections"] = double(connections);
  j["rejected_connections"] = double(rejected_connections);
  j["requests"] = double(requests);
  j["answered"] = double(answered);
  j["bad_frames"] = double(bad_frames);
  j["bad_packets"] = double(bad_packets);
  j["timeouts"] = double(timeouts);
  j["batches"] = double(batches);
  j["mean_batch"] = mean_batch;
  j["latency_p50_ms"] = latency_p50_ms;
  j["latency_p99_ms"] = latency_p99_ms;
  j["latency_mean_ms"] = latency_mean_ms;
  return j;
}

class Connection;

struct Job {
  std::weak_ptr<Connection> conn;
  uint32_t device_id, sequence;
  std::vector<float> input;
  Clock::time_point received;
};

struct EdgeServer::Impl {
  ServerOptions opts;
  std::shared_ptr<RemoteBackend> backend;
  asio::io_context io;
  tcp::acceptor acceptor{io};
  std::thread io_thread, infer_thread;
  std::set<std::shared_ptr<Connection>> connections;  // I/O thread only

  std::mutex qm;
  std::condition_variable qcv;
  std::deque<Job> queue;
  bool stopping = false;

  std::mutex state_m;
  std::condition_variable state_cv;
  bool started = false, stopped = false;
  uint16_t bound_port = 0;

  std::atomic<uint64_t> n_conn{0}, n_rejected{0}, n_requests{0}, n_answered{0}, n_bad_frames{0},
      n_bad_packets{0}, n_timeouts{0}, n_batches{0}, n_batched{0};
  mutable std::mutex lat_m;
  std::vector<double> latencies_ms;

  void accept();
  void infer_loop();
  void record_latency(double ms) {
    std::lock_guard<std::mutex> l(lat_m);
    latencies_ms.push_back(ms);
  }
};

class Connection : public std::enable_shared_from_this<Connection> {
 public:
  Connection(EdgeServer::Impl& s, tcp::socket sock)
      : s_(s), sock_(std::move(sock)), timer_(s.io), write_timer_(s.io) {}

  void start() { read_header(); }

  // Queue a frame; `close_after` closes the connection once it is written.
  void send(std::vector<uint8_t> frame, bool close_after = false) {
    if (closed_) return;
    writes_.push_back(std::move(frame));
    if (close_after) close_after_write_ = true;
    if (!writing_) write_next();
  }

  // An answer from the inference thread (on the I/O thread).
  void deliver(std::vector<uint8_t> frame) {
    if (inflight_ > 0) --inflight_;
    send(std::move(frame));
    if (paused_ && inflight_ < s_.opts.max_inflight && !closed_) {
      paused_ = false;
      read_header();
    }
  }

  void close() {
    if (closed_) return;
    closed_ = true;
    boost::system::error_code ec;
    sock_.shutdown(tcp::socket::shutdown_both, ec);
    sock_.close(ec);
    timer_.cancel();
    write_timer_.cancel();
    s_.connections.erase(shared_from_this());
  }
  bool closed() const { return closed_; }

 private:
  EdgeServer::Impl& s_;
  tcp::socket sock_;
  asio::steady_timer timer_, write_timer_;
  std::array<uint8_t, kFrameHeaderBytes> header_{};
  std::vector<uint8_t> body_;
  RequestHeader req_;
  std::deque<std::vector<uint8_t>> writes_;
  bool writing_ = false, closed_ = false, close_after_write_ = false, paused_ = false;
  size_t inflight_ = 0;

  void arm(asio::steady_timer& t, double ms) {
    t.expires_after(ms_to_us(ms));
    t.async_wait([self = shared_from_this(), &t](const boost::system::error_code& ec) {
      if (ec || self->closed_) return;  // cancelled or re-armed
      if (t.expiry() > Clock::now()) return;
      self->s_.n_timeouts++;
      self->close();
    });
  }

  void read_header() {
    if (closed_ || close_after_write_) return;
    if (inflight_ >= s_.opts.max_inflight) {
      paused_ = true;  // back-pressure: resume in deliver()
      timer_.cancel();
      return;
    }
    arm(timer_, s_.opts.idle_timeout_ms);
    asio::async_read(sock_, asio::buffer(header_),
                     [self = shared_from_this()](const boost::system::error_code& ec, size_t) {
                       if (ec || self->closed_) return self->close();
                       self->on_header();
                     });
  }

  void on_header() {
    RequestParse p = parse_request_header(header_, s_.opts.max_packet_bytes);
    req_ = p.header;
    if (p.status != Status::kOk) {
      s_.n_bad_frames++;
      timer_.cancel();
      send(encode_response(p.status, req_.device_id, req_.sequence, {}), true);
      return;
    }
    arm(timer_, s_.opts.read_timeout_ms);
    body_.resize(req_.length);
    asio::async_read(sock_, asio::buffer(body_),
                     [self = shared_from_this()](const boost::system::error_code& ec, size_t) {
                       if (ec || self->closed_) return self->close();
                       self->on_body();
                     });
  }

  void on_body() {
    timer_.cancel();
    s_.n_requests++;
    auto received = Clock::now();
    std::vector<float> input;
    try {
      input = s_.backend->prepare(body_);
    } catch (const std::exception&) {
      s_.n_bad_packets++;
      send(encode_response(Status::kBadPacket, req_.device_id, req_.sequence, {}));
      read_header();
      return;
    }
    ++inflight_;
    {
      std::lock_guard<std::mutex> l(s_.qm);
      s_.queue.push_back(
          Job{weak_from_this(), req_.device_id, req_.sequence, std::move(input), received});
    }
    s_.qcv.notify_one();
    read_header();
  }

  void write_next() {
    if (writes_.empty() || closed_) {
      writing_ = false;
      write_timer_.cancel();
      if (close_after_write_ && writes_.empty()) close();
      return;
    }
    writing_ = true;
    arm(write_timer_, s_.opts.read_timeout_ms);
    asio::async_write(sock_, asio::buffer(writes_.front()),
                      [self = shared_from_this()](const boost::system::error_code& ec, size_t) {
                        if (ec || self->closed_) return self->close();
                        self->writes_.pop_front();
                        self->write_next();
                      });
  }
};

void EdgeServer::Impl::accept() {
  acceptor.async_accept([this](const boost::system::error_code& ec, tcp::socket sock) {
    if (ec) {
      if (ec == asio::error::operation_aborted || !acceptor.is_open()) return;
      return accept();  // e.g. EMFILE: keep serving the connections we have
    }
    boost::system::error_code ignore;
    sock.set_option(tcp::no_delay(true), ignore);
    auto c = std::make_shared<Connection>(*this, std::move(sock));
    connections.insert(c);
    if (connections.size() > opts.max_connections) {
      n_rejected++;
      c->send(encode_response(Status::kOverloaded, 0, 0, {}), true);
    } else {
      n_conn++;
      c->start();
    }
    accept();
  });
}

void EdgeServer::Impl::infer_loop() {
  const int classes = backend->num_classes();
  const size_t in_size = backend->input_size();
  for (;;) {
    std::vector<Job> batch;
    {
      std::unique_lock<std::mutex> l(qm);
      qcv.wait(l, [&] { return stopping || !queue.empty(); });
      if (stopping) return;
      batch.push_back(std::move(queue.front()));
      queue.pop_front();
      auto deadline = Clock::now() + ms_to_us(opts.batch_window_ms);
      while (batch.size() < opts.max_batch) {
        if (queue.empty()) {
          if (opts.batch_window_ms <= 0) break;
          if (!qcv.wait_until(l, deadline, [&] { return stopping || !queue.empty(); })) break;
          if (stopping) return;
        }
        batch.push_back(std::move(queue.front()));
        queue.pop_front();
      }
    }
    std::vector<float> inputs(batch.size() * in_size);
    for (size_t i = 0; i < batch.size(); ++i)
      std::copy(batch[i].input.begin(), batch[i].input.end(), inputs.begin() + i * in_size);
    std::vector<float> logits;
    bool ok = true;
    try {
      logits = backend->infer(inputs, batch.size());
      if (logits.size() != batch.size() * size_t(classes)) ok = false;
    } catch (const std::exception&) {
      ok = false;
    }
    n_batches++;
    n_batched += batch.size();
    for (size_t i = 0; i < batch.size(); ++i) {
      std::vector<uint8_t> frame =
          ok ? encode_response(Status::kOk, batch[i].device_id, batch[i].sequence,
                               std::span<const float>(logits.data() + i * classes, size_t(classes)))
             : encode_response(Status::kInternal, batch[i].device_id, batch[i].sequence, {});
      asio::post(io, [this, conn = batch[i].conn, frame = std::move(frame), t = batch[i].received,
                      ok]() mutable {
        auto c = conn.lock();
        if (!c || c->closed()) return;
        record_latency(std::chrono::duration<double, std::milli>(Clock::now() - t).count());
        if (ok) n_answered++;
        c->deliver(std::move(frame));
      });
    }
  }
}

EdgeServer::EdgeServer(ServerOptions opts, std::shared_ptr<RemoteBackend> backend)
    : impl_(std::make_unique<Impl>()) {
  if (!backend) throw Error("EdgeServer: no backend");
  if (opts.max_batch < 1) throw Error("--max-batch must be >= 1");
  if (opts.batch_window_ms < 0) throw Error("--batch-window-ms must be >= 0");
  if (opts.max_connections < 1) throw Error("--max-connections must be >= 1");
  if (opts.idle_timeout_ms <= 0) throw Error("--idle-timeout-ms must be > 0");
  if (opts.read_timeout_ms <= 0) throw Error("--read-timeout-ms must be > 0");
  if (opts.max_packet_bytes < 1) throw Error("--max-packet-bytes must be >= 1");
  if (opts.max_inflight < 1) throw Error("max_inflight must be >= 1");
  impl_->opts = opts;
  impl_->backend = std::move(backend);
}

EdgeServer::~EdgeServer() {
  stop();
}

uint16_t EdgeServer::start() {
  Impl& s = *impl_;
  {
    std::lock_guard<std::mutex> l(s.state_m);
    if (s.started) throw Error("EdgeServer: already started");
    s.started = true;
  }
  boost::system::error_code ec;
  auto addr = asio::ip::make_address(s.opts.host, ec);
  if (ec) throw Error("--host: not an IP address: '" + s.opts.host + "'");
  tcp::endpoint ep(addr, s.opts.port);
  s.acceptor.open(ep.protocol(), ec);
  if (!ec) s.acceptor.set_option(tcp::acceptor::reuse_address(true), ec);
  if (!ec) s.acceptor.bind(ep, ec);
  if (!ec) s.acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec)
    throw Error("--port: cannot listen on " + s.opts.host + ":" + std::to_string(s.opts.port) +
                ": " + ec.message());
  s.bound_port = s.acceptor.local_endpoint().port();
  s.accept();
  s.infer_thread = std::thread([&s] { s.infer_loop(); });
  s.io_thread = std::thread([&s] { s.io.run(); });
  return s.bound_port;
}

void EdgeServer::stop() {
  Impl& s = *impl_;
  {
    std::lock_guard<std::mutex> l(s.state_m);
    if (!s.started || s.stopped) return;
    s.stopped = true;
  }
  {
    std::lock_guard<std::mutex> l(s.qm);
    s.stopping = true;
  }
  s.qcv.notify_all();
  if (s.infer_thread.joinable()) s.infer_thread.join();
  asio::post(s.io, [&s] {
    boost::system::error_code ec;
    s.acceptor.close(ec);
    auto conns = s.connections;
    for (auto& c : conns) c->close();
  });
  // Let the closes run, then stop the loop.
  asio::post(s.io, [&s] { s.io.stop(); });
  if (s.io_thread.joinable()) s.io_thread.join();
  s.state_cv.notify_all();
}

void EdgeServer::wait() {
  std::unique_lock<std::mutex> l(impl_->state_m);
  impl_->state_cv.wait(l, [&] { return impl_->stopped; });
}

uint16_t EdgeServer::port() const {
  return impl_->bound_port;
}

ServerStats EdgeServer::stats() const {
  const Impl& s = *impl_;
  ServerStats st;
  st.connections = s.n_conn;
  st.rejected_connections = s.n_rejected;
  st.requests = s.n_requests;
  st.answered = s.n_answered;
  st.bad_frames = s.n_bad_frames;
  st.bad_packets = s.n_bad_packets;
  st.timeouts = s.n_timeouts;
  st.batches = s.n_batches;
  st.mean_batch = s.n_batches ? double(s.n_batched) / double(s.n_batches) : 0;
  std::vector<double> lat;
  {
    std::lock_guard<std::mutex> l(s.lat_m);
    lat = s.latencies_ms;
  }
  if (!lat.empty()) {
    double sum = 0;
    for (double v : lat) sum += v;
    st.latency_mean_ms = sum / double(lat.size());
    st.latency_p50_ms = percentile(lat, 0.50);
    st.latency_p99_ms = percentile(lat, 0.99);
  }
  return st;
}

void EdgeServer::reset_latency_stats() {
  std::lock_guard<std::mutex> l(impl_->lat_m);
  impl_->latencies_ms.clear();
}

}  // namespace agilenn::runtime
