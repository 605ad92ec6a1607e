// agilenn device: device clients that run the device half (by default the int8 fixed-point code
// the MCU runs, mcu/reference.h; `--device-path float` for the float model), send packets through
// the simulated
// link to `agilenn serve`, combine the answers with the local logits, and fall back to the local
// predictor alone when an answer misses the deadline or the server is down.
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cxxopts.hpp>
#include <filesystem>

#include "nn/io/error.h"
#include "nn/training.h"
#include "runtime/device_runner.h"
#include "runtime/model_backend.h"
#include "runtime/model_session.h"
#include "runtime/session_flags.h"
#include "tools/cli/command.h"
#include "tools/cli/common.h"

namespace agilenn::cli {
namespace {

int run(int argc, char** argv) {
  cxxopts::Options opts(argv[0], "Run AgileNN device clients against `agilenn serve`.");
  runtime::add_model_flags(opts);
  runtime::add_device_flags(opts);
  // clang-format off
  opts.add_options()
      ("server", "edge server HOST:PORT", cxxopts::value<std::string>()->default_value("127.0.0.1:7000"))
      ("bandwidth", "simulated link bandwidth (e.g. 6mbps, 2mbps, 270kbps)", cxxopts::value<std::string>()->default_value("6mbps"))
      ("loss", "probability that a request packet is lost", cxxopts::value<double>()->default_value("0"))
      ("mcu-mhz", "device clock for the modelled compute time (1 instruction per cycle)", cxxopts::value<double>()->default_value("216"))
      ("deadline-ms", "answer deadline; later answers fall back to the local predictor", cxxopts::value<double>()->default_value("100"))
      ("alpha", "combined = alpha local + (1 - alpha) remote (default: the model's learned alpha)", cxxopts::value<double>())
      ("clients", "concurrent device clients (one connection each)", cxxopts::value<int>()->default_value("1"))
      ("interval-ms", "each client starts a request at most every this many ms (the camera's frame period; 0 = back to back)", cxxopts::value<double>()->default_value("0"))
      ("requests", "total requests, cycling over the images (0 = one per image; load tests)", cxxopts::value<size_t>()->default_value("0"))
      ("verify", "also compute the remote logits in-process and count answers that differ")
      ("seed", "link loss seed", cxxopts::value<uint64_t>()->default_value("1"))
      ("threads", "tensor engine threads (0 = all cores)", cxxopts::value<int>()->default_value("0"))
      ("out", "directory for summary.json (not runs/device: export-mcu's bundle lives there)",
       cxxopts::value<std::string>()->default_value("runs/device-client"))
      ("h,help", "show this help");
  // clang-format on
  auto r = opts.parse(argc, argv);
  if (handle_help(opts, r)) return 0;
  set_threads(r["threads"].as<int>());

  const runtime::DeviceFlags df = runtime::device_flags(r);
  runtime::DeviceRunOptions d;
  d.server = runtime::parse_endpoint(r["server"].as<std::string>(), "--server");
  d.link.bandwidth_bps = runtime::parse_bandwidth(r["bandwidth"].as<std::string>(), "--bandwidth");
  d.link.rtt_ms = df.rtt_ms;
  d.link.loss = r["loss"].as<double>();
  d.link.seed = r["seed"].as<uint64_t>();
  d.mcu_mhz = r["mcu-mhz"].as<double>();
  d.deadline_ms = r["deadline-ms"].as<double>();
  d.clients = r["clients"].as<int>();
  d.interval_ms = r["interval-ms"].as<double>();
  if (!(d.link.loss >= 0 && d.link.loss <= 1)) throw error_at("--loss", "must be in [0, 1]");
  if (!(d.mcu_mhz > 0)) throw error_at("--mcu-mhz", "must be > 0");
  std::string instr_src;
  d.device_instructions = runtime::read_mcu_instructions(df.mcu_summary, &instr_src);

  const runtime::SessionOptions so = runtime::session_options(r, true);
  runtime::ModelSession s = runtime::open_session(so);
  d.alpha = r.count("alpha") ? r["alpha"].as<double>() : s.learned_alpha;
  if (!(d.alpha >= 0 && d.alpha <= 1)) throw error_at("--alpha", "must be in [0, 1]");

  const size_t n = s.test.size();
  std::printf("device: %zu test images, %d client(s), device path '%s', codec tables %s\n", n,
              d.clients, s.device->name().c_str(), s.tables_how.c_str());
  auto outputs = s.run_device(s.test.images, n);
  std::vector<std::vector<uint8_t>> packets(n);
  size_t bytes = 0;
  size_t local_correct = 0;
  for (size_t i = 0; i < n; ++i) {
    packets[i] = outputs[i].packet;
    bytes += packets[i].size();
    auto& l = outputs[i].local_logits;
    if (int32_t(std::max_element(l.begin(), l.end()) - l.begin()) == s.test.labels[i])
      local_correct++;
  }
  // --requests: repeat the images (load tests); accuracy then counts every request.
  std::vector<int32_t> labels = s.test.labels;
  const size_t total = r["requests"].as<size_t>();
  if (total > 0 && n > 0) {
    if (r.count("verify"))
      throw error_at("--verify", "needs one request per image (no --requests)");
    std::vector<runtime::DeviceOutput> o2(total);
    std::vector<std::vector<uint8_t>> p2(total);
    labels.resize(total);
    for (size_t i = 0; i < total; ++i) {
      o2[i] = outputs[i % n];
      p2[i] = packets[i % n];
      labels[i] = s.test.labels[i % n];
    }
    outputs = std::move(o2);
    packets = std::move(p2);
  }
  const auto wall0 = std::chrono::steady_clock::now();
  auto res = runtime::run_devices(d, outputs, packets, labels);
  const double wall_s =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - wall0).count();

  Json j = res.to_json();
  j["model"] = s.model->path;
  j["device_path"] = s.device->name();
  j["codec_tables"] = s.tables_how;
  j["alpha"] = d.alpha;
  j["bandwidth_bps"] = d.link.bandwidth_bps;
  j["rtt_ms"] = d.link.rtt_ms;
  j["loss"] = d.link.loss;
  j["deadline_ms"] = d.deadline_ms;
  j["mcu_mhz"] = d.mcu_mhz;
  j["device_instructions_per_image"] =
      d.device_instructions ? Json(*d.device_instructions) : Json();
  j["device_instructions_source"] = instr_src;
  j["device_compute_ms"] =
      d.device_instructions ? Json(*d.device_instructions / (d.mcu_mhz * 1e3)) : Json();
  j["mean_packet_bytes"] = n ? double(bytes) / double(n) : 0.0;
  j["local_only_accuracy"] = n ? double(local_correct) / double(n) : 0.0;
  j["clients"] = d.clients;
  j["wall_seconds"] = wall_s;
  j["requests_per_second"] = wall_s > 0 ? double(res.requests) / wall_s : 0.0;
  j["time_note"] =
      "link simulated (token bucket + RTT/2 each way + loss), server round trip measured on "
      "loopback, device compute = instructions / MHz at 1 instruction per cycle (0 if unknown)";
  j["calib_images"] = double(so.calib_images);
  if (r.count("verify")) {
    // The same decode + remote predictor in-process: a served answer must give the same
    // combined prediction.
    runtime::ModelBackend backend(s.model, s.tables);
    size_t differ = 0, checked = 0;
    const size_t chunk = 256;
    for (size_t b = 0; b < n; b += chunk) {
      size_t m = std::min(chunk, n - b);
      std::vector<float> in;
      for (size_t i = b; i < b + m; ++i) {
        auto v = backend.prepare(packets[i]);
        in.insert(in.end(), v.begin(), v.end());
      }
      auto logits = backend.infer(in, m);
      const int C = backend.num_classes();
      for (size_t i = 0; i < m; ++i) {
        auto& l = outputs[b + i].local_logits;
        std::vector<double> comb(C);
        for (int c = 0; c < C; ++c)
          comb[c] = d.alpha * l[c] + (1 - d.alpha) * double(logits[i * C + c]);
        int32_t p = int32_t(std::max_element(comb.begin(), comb.end()) - comb.begin());
        ++checked;
        if (p != res.predictions[b + i]) ++differ;
      }
    }
    j["verify_in_process_differences"] = double(differ);
    std::printf(
        "verify: %zu of %zu served predictions differ from the in-process pipeline "
        "(fallbacks count as differences only when the local answer differs)\n",
        differ, checked);
  }
  const std::string out = r["out"].as<std::string>();
  std::filesystem::create_directories(out);
  nn::write_json(out + "/summary.json", j);
  std::printf(
      "device: accuracy %.4f (local only %.4f), answered %zu/%zu, fallbacks %zu (%.2f%%: deadline "
      "%zu, "
      "lost %zu, server down %zu, error %zu), mismatched %zu, reconnects %zu\n",
      j.at("accuracy").as_number(), j.at("local_only_accuracy").as_number(), res.answered,
      res.requests, res.fallbacks(), 100.0 * j.at("fallback_rate").as_number(),
      res.fallback_deadline, res.fallback_lost, res.fallback_server_down, res.fallback_error,
      res.mismatched, res.reconnects);
  std::printf(
      "device: modelled latency p50 %.2f ms, p90 %.2f ms, p99 %.2f ms; loopback server round trip "
      "p50 %.2f ms, p99 %.2f ms; %.0f bytes/packet%s\n",
      j.at("latency_p50_ms").as_number(), j.at("latency_p90_ms").as_number(),
      j.at("latency_p99_ms").as_number(), j.at("server_rtt_p50_ms").as_number(),
      j.at("server_rtt_p99_ms").as_number(), j.at("mean_packet_bytes").as_number(),
      d.device_instructions ? "" : " (device compute not modelled: no MCU instruction count)");
  std::printf("device: %zu requests in %.2f s wall = %.0f requests/s\n", res.requests, wall_s,
              j.at("requests_per_second").as_number());
  std::printf("device: wrote %s/summary.json\n", out.c_str());
  return 0;
}

CommandRegistrar reg("device", "Device clients: device half, simulated link, fallback to local",
                     run);

}  // namespace
}  // namespace agilenn::cli
