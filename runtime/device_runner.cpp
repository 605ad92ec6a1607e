#include "runtime/device_runner.h"

#include <algorithm>
#include <mutex>
#include <thread>

#include "nn/io/error.h"

namespace agilenn::runtime {

using Clock = ClientConnection::Clock;

double percentile_ms(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  double pos = std::ceil(p * double(v.size())) - 1;
  size_t i = size_t(std::clamp(pos, 0.0, double(v.size() - 1)));
  return v[i];
}

Json DeviceRunResult::to_json() const {
  Json j;
  j["requests"] = double(requests);
  j["accuracy"] = requests ? double(correct) / double(requests) : 0.0;
  j["answered"] = double(answered);
  j["mismatched_answers"] = double(mismatched);
  j["fallbacks"] = double(fallbacks());
  j["fallback_rate"] = requests ? double(fallbacks()) / double(requests) : 0.0;
  j["fallback_deadline"] = double(fallback_deadline);
  j["fallback_lost"] = double(fallback_lost);
  j["fallback_server_down"] = double(fallback_server_down);
  j["fallback_error"] = double(fallback_error);
  j["reconnects"] = double(reconnects);
  j["latency_p50_ms"] = percentile_ms(latency_ms, 0.5);
  j["latency_p90_ms"] = percentile_ms(latency_ms, 0.9);
  j["latency_p99_ms"] = percentile_ms(latency_ms, 0.99);
  j["server_rtt_p50_ms"] = percentile_ms(server_rtt_ms, 0.5);
  j["server_rtt_p99_ms"] = percentile_ms(server_rtt_ms, 0.99);
  return j;
}

namespace {

template <typename T>
int32_t argmax(const std::vector<T>& v) {
  return int32_t(std::max_element(v.begin(), v.end()) - v.begin());
}

}  // namespace

DeviceRunResult run_devices(const DeviceRunOptions& opts, const std::vector<DeviceOutput>& outputs,
                            const std::vector<std::vector<uint8_t>>& packets,
                            const std::vector<int32_t>& labels) {
  const size_t n = outputs.size();
  if (packets.size() != n || labels.size() != n) throw Error("run_devices: inconsistent inputs");
  if (opts.clients < 1) throw Error("--clients must be >= 1");
  if (!(opts.deadline_ms > 0)) throw Error("--deadline-ms must be > 0");
  if (!(opts.alpha >= 0 && opts.alpha <= 1)) throw Error("--alpha must be in [0, 1]");
  if (!(opts.mcu_mhz > 0)) throw Error("--mcu-mhz must be > 0");
  if (!(opts.interval_ms >= 0)) throw Error("--interval-ms must be >= 0");
  DeviceRunResult total;
  total.predictions.assign(n, -1);
  std::mutex m;
  const double device_ms =
      opts.device_instructions ? *opts.device_instructions / (opts.mcu_mhz * 1e3) : 0.0;

  auto client = [&](int c) {
    DeviceRunResult r;
    LinkConfig up_cfg = opts.link, down_cfg = opts.link;
    up_cfg.seed = opts.link.seed * 1000003 + uint64_t(c) * 2;
    down_cfg.seed = up_cfg.seed + 1;
    LinkEmulator up(up_cfg), down(down_cfg);
    ClientConnection conn;
    Clock::time_point next_connect = Clock::now();
    const uint32_t device_id = opts.first_device_id + uint32_t(c);
    uint32_t seq = 0;
    double t_sim = 0;  // this device's simulated clock, seconds
    std::vector<std::pair<size_t, int32_t>> preds;
    Clock::time_point next_start = Clock::now();
    for (size_t i = size_t(c); i < n; i += size_t(opts.clients)) {
      if (opts.interval_ms > 0) {
        std::this_thread::sleep_until(next_start);
        next_start = std::max(
            next_start + std::chrono::microseconds(int64_t(opts.interval_ms * 1000)), Clock::now());
      }
      ++seq;
      r.requests++;
      const DeviceOutput& o = outputs[i];
      auto fallback = [&](size_t& counter, double latency) {
        counter++;
        preds.push_back({i, argmax(o.local_logits)});
        r.latency_ms.push_back(latency);
        if (preds.back().second == labels[i]) r.correct++;
        t_sim += latency / 1e3;
      };
      // The connection first: a device that cannot reach the server sends nothing, so its packet
      // must not occupy the simulated link (a backlog there would turn later fallbacks into
      // deadline misses).
      if (!conn.connected()) {
        if (Clock::now() < next_connect) {
          fallback(r.fallback_server_down, device_ms);
          continue;
        }
        const double connect_ms = std::max(opts.deadline_ms - device_ms, 1.0);
        if (!conn.connect(opts.server,
                          Clock::now() + std::chrono::microseconds(int64_t(connect_ms * 1000)))) {
          next_connect =
              Clock::now() + std::chrono::microseconds(int64_t(opts.reconnect_ms * 1000));
          fallback(r.fallback_server_down, device_ms);
          continue;
        }
        r.reconnects++;
      }
      std::vector<uint8_t> frame = encode_request(device_id, seq, packets[i]);
      const double t0 = t_sim + device_ms / 1e3;
      auto arrive = up.transmit(frame.size(), t0);
      if (!arrive) {
        fallback(r.fallback_lost, opts.deadline_ms);
        continue;
      }
      const size_t resp_bytes = kFrameHeaderBytes + 4 * o.local_logits.size();
      const double uplink_ms = (*arrive - t0) * 1e3;
      const double downlink_ms =
          (down.serialization_seconds(resp_bytes)) * 1e3 + opts.link.rtt_ms / 2;
      const double budget_ms = opts.deadline_ms - device_ms - uplink_ms - downlink_ms;
      if (budget_ms <= 0) {
        fallback(r.fallback_deadline, opts.deadline_ms);
        continue;
      }
      auto start = Clock::now();
      auto deadline = start + std::chrono::microseconds(int64_t(budget_ms * 1000));
      if (!conn.send_all(frame, deadline)) {
        fallback(r.fallback_server_down, device_ms);
        continue;
      }
      std::optional<Response> resp;
      for (;;) {
        resp = conn.receive(deadline, 4096);
        if (!resp) break;
        if (resp->header.device_id == device_id && resp->header.sequence == seq) break;
        // A late answer to an earlier request (it missed its deadline): discard. Any other id
        // is a mismatch.
        if (resp->header.device_id != device_id || resp->header.sequence > seq) r.mismatched++;
      }
      const double rtt_ms = std::chrono::duration<double, std::milli>(Clock::now() - start).count();
      if (!resp) {
        if (!conn.connected())
          fallback(r.fallback_server_down, device_ms);
        else
          fallback(r.fallback_deadline, opts.deadline_ms);
        continue;
      }
      if (resp->header.status != Status::kOk || resp->logits.size() != o.local_logits.size()) {
        fallback(r.fallback_error, device_ms + uplink_ms + rtt_ms + downlink_ms);
        continue;
      }
      r.answered++;
      r.server_rtt_ms.push_back(rtt_ms);
      // In double, as mcu-check's pipeline accuracy: the same argmax on near-ties.
      std::vector<double> combined(o.local_logits.size());
      for (size_t k = 0; k < combined.size(); ++k)
        combined[k] = opts.alpha * o.local_logits[k] + (1 - opts.alpha) * double(resp->logits[k]);
      int32_t p = argmax(combined);
      preds.push_back({i, p});
      if (p == labels[i]) r.correct++;
      double latency = device_ms + uplink_ms + rtt_ms + downlink_ms;
      r.latency_ms.push_back(latency);
      t_sim += latency / 1e3;
    }
    std::lock_guard<std::mutex> l(m);
    total.requests += r.requests;
    total.correct += r.correct;
    total.answered += r.answered;
    total.mismatched += r.mismatched;
    total.fallback_deadline += r.fallback_deadline;
    total.fallback_lost += r.fallback_lost;
    total.fallback_server_down += r.fallback_server_down;
    total.fallback_error += r.fallback_error;
    total.reconnects += r.reconnects;
    total.latency_ms.insert(total.latency_ms.end(), r.latency_ms.begin(), r.latency_ms.end());
    total.server_rtt_ms.insert(total.server_rtt_ms.end(), r.server_rtt_ms.begin(),
                               r.server_rtt_ms.end());
    for (auto& [i, p] : preds) total.predictions[i] = p;
  };
  std::vector<std::thread> threads;
  for (int c = 0; c < opts.clients; ++c) threads.emplace_back(client, c);
  for (auto& t : threads) t.join();
  return total;
}

}  // namespace agilenn::runtime
