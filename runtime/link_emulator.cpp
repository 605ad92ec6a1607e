#include "runtime/link_emulator.h"

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cmath>
#include <thread>

#include "nn/io/error.h"

namespace agilenn::runtime {

double parse_bandwidth(const std::string& text, const std::string& flag) {
  size_t i = 0;
  while (i < text.size() && (std::isdigit((unsigned char)text[i]) || text[i] == '.')) ++i;
  std::string num = text.substr(0, i), unit = text.substr(i);
  for (auto& c : unit) c = char(std::tolower((unsigned char)c));
  double v = 0;
  try {
    size_t used = 0;
    v = std::stod(num, &used);
    if (used != num.size()) throw std::invalid_argument("x");
  } catch (const std::exception&) {
    throw Error(flag + ": cannot parse bandwidth '" + text + "' (e.g. 6mbps, 270kbps)");
  }
  double mult = 0;
  if (unit.empty() || unit == "bps")
    mult = 1;
  else if (unit == "kbps" || unit == "k")
    mult = 1e3;
  else if (unit == "mbps" || unit == "m")
    mult = 1e6;
  else if (unit == "gbps" || unit == "g")
    mult = 1e9;
  else
    throw Error(flag + ": unknown bandwidth unit '" + unit + "' in '" + text + "'");
  v *= mult;
  if (!(v > 0) || !std::isfinite(v))
    throw Error(flag + ": bandwidth must be > 0, got '" + text + "'");
  return v;
}

LinkEmulator::LinkEmulator(const LinkConfig& cfg)
    : cfg_(cfg), tokens_(cfg.bucket_bytes), rng_(cfg.seed) {
  if (!(cfg.bandwidth_bps > 0)) throw Error("link: bandwidth must be > 0");
  if (!(cfg.bucket_bytes >= 1)) throw Error("link: bucket must be >= 1 byte");
  if (!(cfg.rtt_ms >= 0)) throw Error("link: --rtt-ms must be >= 0");
  if (!(cfg.loss >= 0 && cfg.loss <= 1)) throw Error("link: --loss must be in [0, 1]");
}

double LinkEmulator::serialization_seconds(size_t bytes) const {
  return double(bytes) * 8.0 / cfg_.bandwidth_bps;
}

double LinkEmulator::take(size_t bytes, double now) {
  const double rate = cfg_.bandwidth_bps / 8.0;  // bytes per second
  double t = std::max(now, busy_until_);
  // Refill from last_ to t, capped at the bucket.
  tokens_ = std::min(cfg_.bucket_bytes, tokens_ + (t - last_) * rate);
  last_ = t;
  // Bytes beyond the tokens at hand flow at the refill rate.
  double need = double(bytes) - tokens_;
  double done = t;
  if (need <= 0) {
    tokens_ -= double(bytes);
  } else {
    done = t + need / rate;
    tokens_ = 0;
    last_ = done;
  }
  busy_until_ = done;
  return done;
}

std::optional<double> LinkEmulator::transmit(size_t bytes, double now) {
  double left = take(bytes, now);
  std::uniform_real_distribution<double> u(0.0, 1.0);
  bool lost = cfg_.loss > 0 && u(rng_) < cfg_.loss;
  if (lost) return std::nullopt;
  return left + cfg_.rtt_ms / 2000.0;
}

void LinkEmulator::send_blocking(size_t bytes) {
  using clock = std::chrono::steady_clock;
  static const auto origin = clock::now();
  auto now_s = [&] { return std::chrono::duration<double>(clock::now() - origin).count(); };
  // Send in bucket-sized pieces on an absolute schedule (each piece starts when the previous one
  // has left in link time), so a late wake-up of the sleeping thread is not added to the transfer.
  double t = now_s();
  size_t left = bytes;
  while (left > 0) {
    size_t piece = std::min<size_t>(left, size_t(std::max(1.0, cfg_.bucket_bytes)));
    t = take(piece, t);
    std::this_thread::sleep_until(origin + std::chrono::duration_cast<clock::duration>(
                                               std::chrono::duration<double>(t)));
    left -= piece;
  }
}

}  // namespace agilenn::runtime
