// agilenn bench-e2e: the paper's end-to-end comparison on our model and data set. For each MCU
// clock (216/128/64 MHz) and link (6 Mbps, 2 Mbps, 270 kbps), per scheme: device compute,
// transmission, server, total latency, accuracy, bytes per image, device flash/SRAM.
//   agilenn    : extractor + local head on the device (the int8 fixed-point code the MCU runs, by
//                default), remote channels quantized and coded; its accuracy with the server
//                unreachable is measured by running the device clients against a refused port
//   edge-only  : raw image as PNG (stb_image_write) or LZW (codec/), classified on the server;
//                the compressor's MCU time from mcu-check's edge_compressor_instructions_{lzw,png}
//                when present, else the total is a lower bound; the server's time is the
//                decompression (measured, checked against the raw image) plus the network
//   local-only : the whole network on the device: its int8 layer graph planned
//                (mcu/whole_network_plan.h: int8 weights + per-channel parameters, mcu/planner's
//                arena) and, with --local-only-run qemu, built as a layer table with plain-loop
//                kernels and seeded random parameters and run on the Cortex-M7 under QEMU
//                (instructions, flash and arena of that build; not the trained weights)
//   deepcod    : the same extractor, all channels quantized and coded, no local predictor
// Latency model: runtime/latency_model.h (1 instruction per cycle). Server times are measured
// here (batch 1, in-process, median). Every stand-in is written into the table's note column.
#define STB_IMAGE_WRITE_IMPLEMENTATION
// stb_image's PNG decoder, private to this file (the server's decompression for edge-only).
#define STB_IMAGE_STATIC
#define STB_IMAGE_IMPLEMENTATION
#define STBI_ONLY_PNG
#define STBI_NO_STDIO
#include <stb/stb_image.h>
#include <stb/stb_image_write.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cxxopts.hpp>
#include <filesystem>
#include <sstream>

#include "autograd/graph.h"
#include "codec/lzw.h"
#include "codec/packet.h"
#include "mcu/device_harness.h"
#include "mcu/whole_network_plan.h"
#include "mcu/whole_network_run.h"
#include "nn/data/augment.h"
#include "nn/io/atomic_file.h"
#include "nn/io/error.h"
#include "nn/training.h"
#include "runtime/client.h"
#include "runtime/device_runner.h"
#include "runtime/latency_model.h"
#include "runtime/model_backend.h"
#include "runtime/model_session.h"
#include "runtime/protocol.h"
#include "runtime/session_flags.h"
#include "tools/cli/command.h"
#include "tools/cli/common.h"
#include "xai/reference.h"

namespace agilenn::cli {
namespace {

using Clock = std::chrono::steady_clock;
constexpr double kSramBytes = 320 * 1024, kFlashBytes = 1024 * 1024;  // STM32F746

double median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

// Model input tensor of images [b, b + m) with the model's evaluation transform.
ag::Tensor model_input(const xai::AgileModelFile& mf, const data::Dataset& ds, size_t b, size_t m) {
  const auto& cfg = mf.model->config();
  data::Augmenter aug(mf.eval_augment(), ds.height, ds.width, ds.channels);
  std::vector<float> x(m * aug.out_size());
  for (size_t i = 0; i < m; ++i)
    aug.apply_fixed(ds.image(b + i).data(), 0, 0, false, x.data() + i * aug.out_size());
  return ag::Tensor::from_floats(x, ag::Shape{int64_t(m), cfg.height, cfg.width, cfg.in_channels});
}

// Accuracy of the model's combined float logits (an unsplit model: its only logits).
double float_accuracy(xai::AgileModelFile& mf, const data::Dataset& ds) {
  ag::NoGradGuard ng;
  mf.model->eval();
  size_t correct = 0;
  for (size_t b = 0; b < ds.size(); b += 256) {
    size_t m = std::min<size_t>(256, ds.size() - b);
    auto logits = mf.model->run(model_input(mf, ds, b, m)).logits.to_floats();
    const size_t C = logits.size() / m;
    for (size_t i = 0; i < m; ++i) {
      auto it = logits.begin() + long(i * C);
      correct += int32_t(std::max_element(it, it + long(C)) - it) == ds.labels[b + i];
    }
  }
  return ds.size() ? double(correct) / double(ds.size()) : 0;
}

// Median milliseconds of the whole model on one image (the server's work for edge-only).
double whole_model_ms(xai::AgileModelFile& mf, const data::Dataset& ds, size_t n) {
  ag::NoGradGuard ng;
  mf.model->eval();
  std::vector<double> t;
  for (size_t i = 0; i < std::min(n, ds.size()); ++i) {
    auto x = model_input(mf, ds, i, 1);
    auto t0 = Clock::now();
    mf.model->run(x);
    t.push_back(std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
  }
  return median(t);
}

struct Macs {
  int64_t extractor = 0, local_head = 0, remote = 0, whole = 0;
};
Macs count_macs(xai::SplitModel& m) {
  ag::NoGradGuard ng;
  m.eval();
  const auto& cfg = m.config();
  Macs r;
  auto x = ag::Tensor::zeros(ag::Shape{1, cfg.height, cfg.width, cfg.in_channels});
  ag::Tensor f;
  {
    ag::MacCounter c;
    f = m.extract(x);
    r.extractor = c.macs();
  }
  if (!cfg.unsplit) {
    ag::MacCounter c;
    m.local_predict(f);
    r.local_head = c.macs();
  }
  {
    ag::MacCounter c;
    m.remote_predict(f);
    r.remote = c.macs();
  }
  r.whole = r.extractor + r.local_head + r.remote;
  return r;
}

struct Scheme {
  std::string name;
  std::optional<double> device_instructions;      // per image, at 1 instruction per cycle
  std::optional<double> compressor_instructions;  // counted apart (edge-only's PNG/LZW)
  std::string device_note;
  double bytes = 0;  // per image over the link (request payload)
  double server_ms = 0;
  std::optional<double> accuracy;
  std::optional<double> accuracy_server_down;  // nullopt: no answer at all without the server
  std::optional<double> flash, sram;
  std::string memory_note, note;
  bool fits = true;
  bool memory_estimated = false;   // memory from parameter/activation counts, not an export
  bool memory_planned = false;     // memory from the int8 layer graph, not an export of the model
  std::string memory_basis;        // label in the fits column: "" (measured), est., planned, ...
  bool total_lower_bound = false;  // a device part is not counted
};

// A number field of mcu-check's summary.json, if present and not null.
std::optional<double> json_number(const Json& j, const std::string& key) {
  if (!j.contains(key) || j.at(key).is_null()) return std::nullopt;
  return j.at(key).as_number();
}

std::string fmt(std::optional<double> v, int prec = 2) {
  if (!v) return "n/a";
  char b[64];
  std::snprintf(b, sizeof b, "%.*f", prec, *v);
  return b;
}

int run(int argc, char** argv) {
  cxxopts::Options opts(
      argv[0], "End-to-end comparison of AgileNN with edge-only, local-only and DeepCOD-style.");
  runtime::add_model_flags(opts);
  runtime::add_device_flags(opts);
  // clang-format off
  opts.add_options()
      ("unsplit-model", "trained `agilenn train --unsplit` model (edge-only/local-only/deepcod accuracy); without it stand-ins are used and labelled", cxxopts::value<std::string>()->default_value(""))
      ("reference", "reference network directory (its accuracy and MACs are reported for context)", cxxopts::value<std::string>()->default_value(""))
      ("timing-images", "images for the median server time", cxxopts::value<size_t>()->default_value("100"))
      ("local-only-run", "local-only's int8 layer graph: qemu (build it with random parameters and count its instructions on the Cortex-M7 under QEMU, when the tools are installed) or none (plan only)", cxxopts::value<std::string>()->default_value("qemu"))
      ("threads", "tensor engine threads (0 = all cores)", cxxopts::value<int>()->default_value("1"))
      ("out", "output directory", cxxopts::value<std::string>()->default_value("runs/bench-e2e"))
      ("h,help", "show this help");
  // clang-format on
  auto r = opts.parse(argc, argv);
  if (handle_help(opts, r)) return 0;
  const std::string local_only_run = r["local-only-run"].as<std::string>();
  if (local_only_run != "qemu" && local_only_run != "none")
    throw error_at("--local-only-run", "must be qemu or none, got '" + local_only_run + "'");
  set_threads(r["threads"].as<int>());
  const std::string out = r["out"].as<std::string>();
  std::filesystem::create_directories(out);

  const runtime::DeviceFlags df = runtime::device_flags(r);
  const runtime::SessionOptions so = runtime::session_options(r, true);
  runtime::ModelSession s = runtime::open_session(so);
  const size_t n = s.test.size();
  const size_t n_time = std::max<size_t>(1, std::min(r["timing-images"].as<size_t>(), n));
  auto& model = *s.model->model;
  const auto& cfg = model.config();
  const Macs macs = count_macs(model);

  std::string instr_src;
  auto instr = runtime::read_mcu_instructions(df.mcu_summary, &instr_src);
  std::optional<double> mcu_flash, mcu_sram, mcu_macs, mcu_int8_acc, mcu_int8_local_acc;
  std::optional<double> lzw_instr, png_instr;
  // Flash / SRAM of the edge-only compressors' Cortex-M7 builds (mcu-check), by coder.
  std::optional<double> lzw_flash, lzw_sram, png_flash, png_sram, png_heap;
  std::optional<bool> lzw_exact, png_exact;
  // Instructions per MAC of the device's conv/dense stages without the stage that holds the
  // fused quantizer + entropy coder: the rate for plain int8 layers (local-only's network).
  std::optional<double> layer_per_mac;
  if (instr) {
    auto bytes = read_file_bytes(df.mcu_summary);
    Json mj = Json::parse(std::string(bytes.begin(), bytes.end()), df.mcu_summary);
    mcu_flash = json_number(mj, "flash_bytes");
    mcu_sram = json_number(mj, "sram_bytes");
    mcu_macs = json_number(mj, "macs_per_image");
    mcu_int8_acc = json_number(mj, "int8_accuracy");
    mcu_int8_local_acc = json_number(mj, "int8_local_accuracy");
    lzw_instr = json_number(mj, "edge_compressor_instructions_lzw");
    png_instr = json_number(mj, "edge_compressor_instructions_png");
    lzw_flash = json_number(mj, "edge_compressor_lzw_flash_bytes");
    lzw_sram = json_number(mj, "edge_compressor_lzw_sram_bytes");
    png_flash = json_number(mj, "edge_compressor_png_flash_bytes");
    png_sram = json_number(mj, "edge_compressor_png_sram_bytes");
    png_heap = json_number(mj, "edge_compressor_png_peak_heap_bytes");
    for (auto [key, flag] : {std::pair{"edge_compressor_lzw_bit_exact", &lzw_exact},
                             std::pair{"edge_compressor_png_bit_exact", &png_exact}})
      if (mj.contains(key) && mj.at(key).is_bool()) *flag = mj.at(key).as_bool();
    if (mj.contains("stages") && mj.at("stages").is_array()) {
      double si = 0, sm = 0;
      for (const Json& st : mj.at("stages").as_array()) {
        auto m = json_number(st, "macs"), in = json_number(st, "instructions");
        const std::string name = st.contains("stage") ? st.at("stage").as_string("stage") : "";
        if (!m || !in || *m <= 0 || name.find("encode") != std::string::npos) continue;
        si += *in, sm += *m;
      }
      if (sm > 0) layer_per_mac = si / sm;
    }
  }
  // Instructions per MAC of the exported device graph: scales other schemes' MACs to instructions.
  std::optional<double> per_mac;
  if (instr && mcu_macs && *mcu_macs > 0) per_mac = *instr / *mcu_macs;
  if (!layer_per_mac) layer_per_mac = per_mac;
  const std::string no_count = "no MCU instruction count (--mcu-summary of agilenn mcu-check)";

  // --- AgileNN: the device half, packets, the served accuracy and the server time.
  std::printf("bench-e2e: %zu test images; device path '%s'; codec tables %s\n", n,
              s.device->name().c_str(), s.tables_how.c_str());
  auto outputs = s.run_device(s.test.images, n);
  runtime::ModelBackend backend(s.model, s.tables);
  double agile_bytes = 0;
  size_t agile_correct = 0, local_correct = 0;
  std::vector<double> server_t, decode_t;
  const int C = cfg.num_classes;
  for (size_t b = 0; b < n; b += 256) {
    size_t m = std::min<size_t>(256, n - b);
    std::vector<float> in;
    for (size_t i = b; i < b + m; ++i) {
      const auto& pkt = outputs[i].packet;
      agile_bytes += double(pkt.size() + runtime::kFrameHeaderBytes);
      std::vector<float> v;
      if (i < n_time) {  // server compute per request: decode + remote predictor, batch 1
        auto t0 = Clock::now();
        v = backend.prepare(pkt);
        auto t1 = Clock::now();
        backend.infer(v, 1);
        auto t2 = Clock::now();
        server_t.push_back(std::chrono::duration<double, std::milli>(t2 - t0).count());
        decode_t.push_back(std::chrono::duration<double, std::milli>(t1 - t0).count());
      } else {
        v = backend.prepare(pkt);
      }
      in.insert(in.end(), v.begin(), v.end());
    }
    auto logits = backend.infer(in, m);
    for (size_t i = 0; i < m; ++i) {
      auto& l = outputs[b + i].local_logits;
      std::vector<double> comb(C);  // in double, as the device and mcu-check combine
      for (int c = 0; c < C; ++c)
        comb[c] = s.learned_alpha * l[c] + (1 - s.learned_alpha) * double(logits[i * C + c]);
      agile_correct += int32_t(std::max_element(comb.begin(), comb.end()) - comb.begin()) ==
                       s.test.labels[b + i];
      local_correct +=
          int32_t(std::max_element(l.begin(), l.end()) - l.begin()) == s.test.labels[b + i];
    }
  }
  const double agile_acc = n ? double(agile_correct) / double(n) : 0;
  const double local_acc = n ? double(local_correct) / double(n) : 0;
  const auto shape = s.device->stream_shape();

  // The server unreachable: the device clients against a refused port, every request must fall
  // back to the local predictor (measured through the device runner, not computed).
  runtime::DeviceRunResult down;
  {
    runtime::RefusingPort refused;
    runtime::DeviceRunOptions d;
    d.server = refused.endpoint();
    d.alpha = s.learned_alpha;
    d.clients = 1;
    std::vector<std::vector<uint8_t>> packets(n);
    for (size_t i = 0; i < n; ++i) packets[i] = outputs[i].packet;
    down = runtime::run_devices(d, outputs, packets, s.test.labels);
  }
  const double down_acc = n ? double(down.correct) / double(n) : 0;
  std::printf(
      "bench-e2e: server unreachable: %zu/%zu requests fell back (server down %zu, deadline %zu, "
      "lost %zu, error %zu), %zu answered, accuracy %.4f\n",
      down.fallbacks(), down.requests, down.fallback_server_down, down.fallback_deadline,
      down.fallback_lost, down.fallback_error, down.answered, down_acc);

  std::vector<Scheme> schemes;
  {
    Scheme a;
    a.name = "agilenn";
    a.device_instructions = instr;
    a.device_note =
        (instr ? "mcu-check " + instr_src + " (encoder fused into the last pointwise stage)"
               : no_count) +
        "; server = packet check + decode (median " + fmt(median(decode_t), 4) +
        " ms) + the remote predictor";
    a.bytes = agile_bytes / double(n);
    a.server_ms = median(server_t);
    a.accuracy = agile_acc;
    a.accuracy_server_down = down_acc;
    if (mcu_flash && mcu_sram) {
      a.flash = *mcu_flash, a.sram = *mcu_sram;
      a.memory_note = "int8 export (mcu-check memory)";
    } else {
      // Estimate: int8 weights of extractor + head + codec tables; SRAM = largest activation
      // pair of the extractor + local channels + index map + packet.
      int64_t params = model.extractor->num_parameters() + model.local_head->num_parameters();
      a.flash = double(params + int64_t(s.tables.to_bytes().size()));
      const int64_t hw = int64_t(shape.height) * shape.width;
      const int64_t img = int64_t(cfg.height) * cfg.width * cfg.in_channels;
      int64_t pair =
          std::max({img + hw * cfg.in_channels * cfg.extractor_depth_multiplier,
                    hw * (cfg.in_channels * cfg.extractor_depth_multiplier + cfg.extractor_hidden),
                    hw * (2 * cfg.extractor_hidden), hw * (cfg.extractor_hidden + cfg.features)});
      a.sram = double(pair + hw * cfg.k() + int64_t(shape.size()) + int64_t(a.bytes));
      a.memory_note =
          "estimate from parameter count and largest activation pair (no mcu-check summary)";
      a.memory_estimated = true;
      a.fits = *a.flash <= kFlashBytes && *a.sram <= kSramBytes;
    }
    a.note = "device path " + s.device->name() + "; server unreachable: " + fmt(down_acc * 100, 2) +
             "% (" + std::to_string(down.fallbacks()) + "/" + std::to_string(down.requests) +
             " requests fell back to the local head)";
    schemes.push_back(a);
  }

  // --- The unsplit network (edge-only classifier, local-only network) or its stand-in.
  std::shared_ptr<xai::AgileModelFile> unsplit;
  const std::string unsplit_dir = r["unsplit-model"].as<std::string>();
  if (!unsplit_dir.empty()) {
    unsplit = std::make_shared<xai::AgileModelFile>(xai::load_agile_model(unsplit_dir));
    if (!unsplit->model->config().unsplit)
      throw error_at(unsplit->path,
                     "--unsplit-model: not an unsplit model (train it with --unsplit)");
  }
  auto& whole = unsplit ? *unsplit : *s.model;
  const std::string whole_name = unsplit ? "unsplit network (" + unsplit->path + ")"
                                         : "stand-in: the AgileNN model run whole (extractor + "
                                           "local head + remote predictor, float); "
                                           "no --unsplit-model given";
  const double whole_acc =
      unsplit ? float_accuracy(*unsplit, s.test) : float_accuracy(*s.model, s.test);
  const double whole_server_ms = whole_model_ms(whole, s.test, n_time);
  const Macs whole_macs = unsplit ? count_macs(*unsplit->model) : macs;

  {  // edge-only: PNG and LZW of the raw image
    double png = 0, lzw = 0;
    // The server decompresses before it classifies: median decode time per image, each decode
    // checked against the raw image.
    std::vector<double> png_decode_t, lzw_decode_t;
    for (size_t i = 0; i < n; ++i) {
      const auto image = s.test.image(i);
      int len = 0;
      unsigned char* p = stbi_write_png_to_mem(image.data(), s.test.width * s.test.channels,
                                               s.test.width, s.test.height, s.test.channels, &len);
      if (!p) throw Error("bench-e2e: stb_image_write failed on test image " + std::to_string(i));
      png += double(len);
      const std::vector<uint8_t> lz = codec::lzw_encode(image, 256);
      lzw += double(lz.size());
      if (i < n_time) {
        int w = 0, h = 0, c = 0;
        auto t0 = Clock::now();
        unsigned char* back = stbi_load_from_memory(p, len, &w, &h, &c, s.test.channels);
        png_decode_t.push_back(
            std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
        const bool same = back && w == s.test.width && h == s.test.height &&
                          std::equal(image.begin(), image.end(), back);
        stbi_image_free(back);
        std::vector<uint8_t> raw(image.size());
        t0 = Clock::now();
        codec::lzw_decode(lz, 256, raw);
        lzw_decode_t.push_back(
            std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
        if (!same || !std::equal(image.begin(), image.end(), raw.begin()))
          throw Error("bench-e2e: PNG or LZW round trip differs on test image " +
                      std::to_string(i));
      }
      std::free(p);
    }
    const double png_decode_ms = median(png_decode_t), lzw_decode_ms = median(lzw_decode_t);
    // mcu-check's counts are for a 28x28 greyscale image (Fashion-MNIST's size).
    const bool count_applies = s.test.height == 28 && s.test.width == 28 && s.test.channels == 1;
    for (int k = 0; k < 2; ++k) {
      Scheme e;
      e.name = k == 0 ? "edge-only (png)" : "edge-only (lzw)";
      const char* coder = k == 0 ? "PNG" : "LZW";
      e.bytes = (k == 0 ? png : lzw) / double(n) + runtime::kFrameHeaderBytes;
      e.device_instructions = 0.0;  // no network on the device
      const std::optional<double> count = k == 0 ? png_instr : lzw_instr;
      const std::optional<bool> exact = k == 0 ? png_exact : lzw_exact;
      if (count && count_applies) {
        e.compressor_instructions = *count;
        e.device_note = std::string(coder) + " compressor on the MCU: " + fmt(*count, 0) +
                        " instructions per 28x28 image (mcu-check " + df.mcu_summary +
                        (k == 0 ? ", stb_image_write's PNG writer" : ", codec/c's LZW encoder") +
                        " on the Cortex-M7 under QEMU" +
                        (exact ? (*exact ? ", output bytes equal to the host encoder's"
                                         : ", OUTPUT DIFFERS from the host encoder's")
                               : "") +
                        ")";
      } else {
        e.device_note = std::string("compressor on the MCU not counted (") +
                        (count ? "mcu-check's count is for 28x28x1 images"
                               : std::string("no MCU instruction count for ") + coder) +
                        "): total is a lower bound";
        e.total_lower_bound = true;
      }
      e.server_ms = whole_server_ms + (k == 0 ? png_decode_ms : lzw_decode_ms);
      e.device_note += "; server = " + std::string(coder) + " decode (median " +
                       fmt(k == 0 ? png_decode_ms : lzw_decode_ms, 4) +
                       " ms, output checked) + the network (median " + fmt(whole_server_ms, 4) +
                       " ms)";
      e.accuracy = whole_acc;
      e.accuracy_server_down = std::nullopt;  // no answer without the server
      const std::optional<double> flash = k == 0 ? png_flash : lzw_flash;
      const std::optional<double> sram = k == 0 ? png_sram : lzw_sram;
      if (flash && sram && count_applies) {
        e.flash = *flash;
        e.sram = *sram;
        e.memory_note =
            k == 0 ? "measured Cortex-M7 build (mcu-check): flash = the PNG writer's code and "
                     "tables kept in the linked ELF (newlib's malloc/memmove not counted); SRAM = "
                     "peak heap of the compressor through a counting allocator (" +
                         fmt(png_heap, 0) +
                         " B, output buffer included) + the image + its static data; stack not "
                         "counted"
                   : "measured Cortex-M7 build (mcu-check): flash = the LZW encoder's code kept "
                     "in the linked ELF; SRAM = its hash-table work area + output buffer + the "
                     "image (sizes from the ELF's symbols); stack not counted";
      } else {
        e.flash = std::nullopt;
        e.sram = double(s.test.image_size()) + e.bytes;
        e.memory_note =
            "SRAM = image + compressed buffer only (the compressor's own state, e.g. LZW's "
            "dictionary or PNG's 64 KB hash table, is not counted); flash n/a (no compressor "
            "build measured: mcu-check's summary has none" +
            std::string(count_applies ? "" : " for this image size") + ")";
        e.memory_estimated = true;
      }
      e.note = "classified by the " + whole_name;
      schemes.push_back(e);
    }
  }
  mcu::WholeNetworkPlan local_plan;
  std::optional<mcu::WholeNetworkRun> local_run;
  {  // local-only: the whole network on the device
    Scheme l;
    l.name = "local-only";
    if (layer_per_mac) {
      l.device_instructions = *layer_per_mac * double(whole_macs.whole);
      l.device_note = "MACs x " + fmt(*layer_per_mac, 2) +
                      " instructions per MAC (the AgileNN device's conv/dense stages on the "
                      "Cortex-M7, without the stage holding the entropy coder; small layers, so "
                      "likely an overestimate for the wider MobileNetV2 layers)";
    } else {
      l.device_note = no_count;
    }
    l.bytes = 0;
    l.server_ms = 0;
    l.accuracy = whole_acc;
    l.accuracy_server_down = whole_acc;  // needs no server
    // The int8 layer graph of the whole network (mcu/'s quantization scheme): flash = its
    // parameters, SRAM = the planner's activation arena; then, when QEMU is there, the graph
    // built as C with random parameters of the same sizes and run on the Cortex-M7.
    local_plan = mcu::plan_whole_network(whole.model->config());
    l.flash = double(local_plan.param_bytes());
    l.sram = double(local_plan.arena_bytes);
    l.memory_note =
        "PLANNED from the int8 layer graph of the whole network as mcu/ quantizes it (BN folded, "
        "per-channel int8 weights, int32 bias + Q31 multiplier + shift per output channel, "
        "residual adds as int8 ADD ops), not an export of the trained model: flash = those "
        "parameter bytes (" +
        std::to_string(local_plan.layers()) +
        " layers; kernel code not counted), SRAM = mcu/planner's activation arena with buffers "
        "reused and each residual input live until its add (largest live set " +
        std::to_string(local_plan.largest_live_bytes) +
        " B; stack and I/O not counted); every layer in " + out + "/local_only_plan.json";
    l.memory_planned = true;
    l.memory_basis = "planned";
    std::string skip = local_only_run == "none" ? "--local-only-run none" : "";
    for (const char* tool : {"arm-none-eabi-gcc", "qemu-system-arm"})
      if (skip.empty()) skip = mcu::tool_missing_reason(tool);
    mcu::WholeNetworkRun separate;
    if (skip.empty()) {
      const std::string dir = std::filesystem::absolute(out).string() + "/local_only_build";
      // The plan in execution: the Cortex-M7 program reuses buffers as planned, the host one gives
      // every buffer its own bytes; the logits must agree. A failed build leaves the plan's
      // figures (the table is still written), with the reason in the note.
      try {
        local_run = mcu::run_whole_network_on_qemu(local_plan, dir + "/qemu", 1);
        separate = mcu::run_whole_network_on_host(local_plan, dir + "/host_separate", 1, true);
      } catch (const Error& ex) {
        local_run.reset();
        skip = std::string("its build or run failed: ") + ex.what();
        std::fprintf(stderr, "bench-e2e: local-only int8 graph: %s\n", skip.c_str());
      }
    }
    if (local_run) {
      const bool agree = separate.logits == local_run->logits;
      l.device_instructions = local_run->instructions;
      l.device_note =
          "MEASURED on the Cortex-M7 under QEMU (same timing as mcu-check): the planned int8 "
          "layer graph as a table of plain-loop C kernels (mcu/c/agilenn_whole.c) with seeded "
          "random int8 parameters of the trained model's shapes, " +
          fmt(local_run->instructions, 0) + " instructions/image (" +
          fmt(local_run->instructions / double(local_plan.macs()), 2) +
          " per MAC); not mcu/'s tuned kernels and not the trained weights; logits " +
          (agree ? "equal" : "DIFFERENT") +
          " to a host run with no buffer reuse (checks the arena plan)";
      l.flash = double(local_run->table_bytes + local_run->kernel_bytes);
      l.sram = double(local_run->arena_bytes);
      l.memory_note =
          "built with random parameters of the trained model's shapes (Cortex-M7 ELF symbol "
          "sizes): flash = parameter tables + op table + the test image (" +
          std::to_string(local_run->table_bytes) + " B; planned parameters " +
          std::to_string(local_plan.param_bytes()) + " B) + kernel code (" +
          std::to_string(local_run->kernel_bytes) + " B), SRAM = the planned arena (" +
          std::to_string(local_run->arena_bytes) + " B; largest live set " +
          std::to_string(local_plan.largest_live_bytes) +
          " B; stack and I/O not counted); every layer in " + out + "/local_only_plan.json";
      l.memory_basis = "random-weight build";
      if (!agree) l.memory_basis += ", PLAN CHECK FAILED";
    } else {
      l.device_note += "; the int8 graph was not run (" + skip + ")";
    }
    l.fits = *l.flash <= kFlashBytes && *l.sram <= kSramBytes;
    const bool macs_agree = local_plan.macs() == whole_macs.whole;
    l.note = std::to_string(whole_macs.whole) +
             " MACs/image (int8 graph: " + std::to_string(local_plan.macs()) +
             (macs_agree ? ", equal" : ", DIFFERENT") + "); " + whole_name +
             (l.fits ? "; fits the STM32F746 (320 KB SRAM / 1 MB flash)"
                     : "; DOES NOT FIT the STM32F746 (320 KB SRAM / 1 MB flash)");
    schemes.push_back(l);
  }
  {  // DeepCOD-style: all F channels quantized with the model's centroids and coded
    std::vector<float> feats;
    const size_t n_train = std::min<size_t>(so.fit_images, s.train.size());
    s.float_device->run_with_features(
        std::span<const uint8_t>(s.train.images.data(), n_train * s.train.image_size()), n_train,
        &feats);
    const size_t F = size_t(cfg.features), hw = size_t(shape.height) * shape.width;
    codec::Quantizer q(runtime::sorted_centroids(*s.model));
    codec::StreamShape all{shape.height, shape.width, uint32_t(F)};
    std::vector<uint8_t> idx(feats.size());
    q.quantize(feats, idx);
    const size_t n_fit = feats.size() / (hw * F);
    auto tables = codec::CodecTables::fit(idx, n_fit, all, q.alphabet(), 0, s.tables.model_id);
    std::vector<float> tf;
    s.float_device->run_with_features(s.test.images, n, &tf);
    std::vector<uint8_t> ti(tf.size());
    q.quantize(tf, ti);
    double bytes = 0;
    for (size_t i = 0; i < n; ++i)
      bytes += double(codec::encode_packet_auto(
                          std::span<const uint8_t>(ti.data() + i * hw * F, hw * F), all, tables)
                          .size() +
                      runtime::kFrameHeaderBytes);
    Scheme d;
    d.name = "deepcod-style";
    if (per_mac) {
      d.device_instructions = *per_mac * double(macs.extractor);
      d.device_note =
          "extractor MACs x the AgileNN device's instructions per MAC (encoder of 24 channels "
          "approximated by the same ratio)";
    } else {
      d.device_note = no_count;
    }
    d.bytes = bytes / double(n);
    d.server_ms = median(server_t);
    if (unsplit) {
      d.accuracy = whole_acc;
      d.note = "accuracy of the unsplit network on unquantized features (no DeepCOD model trained)";
    } else {
      d.note = "accuracy n/a: no DeepCOD/unsplit model trained (give --unsplit-model)";
    }
    d.flash =
        schemes[0].flash
            ? std::optional<double>(*schemes[0].flash - double(model.local_head->num_parameters()))
            : std::nullopt;
    d.sram = schemes[0].sram
                 ? std::optional<double>(*schemes[0].sram + double(hw * (F - size_t(cfg.k()))))
                 : std::nullopt;
    d.memory_note = "AgileNN's memory without the local head, plus the larger index map";
    d.memory_estimated = true;
    d.fits = !d.flash || !d.sram || (*d.flash <= kFlashBytes && *d.sram <= kSramBytes);
    d.note +=
        "; server time = AgileNN's remote predictor (stand-in); features from the float "
        "extractor";
    schemes.push_back(d);
  }

  // --- The table: every clock x link x scheme.
  const double rtt = df.rtt_ms;
  struct Link {
    const char* name;
    double bps;
  };
  const Link links[] = {{"WiFi 6 Mbps", 6e6}, {"BT 2 Mbps", 2e6}, {"BT 270 kbps", 270e3}};
  const double mhzs[] = {216, 128, 64};
  std::ostringstream md, csv;
  md << "# bench-e2e: " << s.model->path << " on " << s.test.name << " (" << n
     << " test images, device path " << s.device->name() << ")\n\n"
     << "Our measurements on " << s.test.name
     << " (the paper's figures are on CIFAR/SVHN). Device time = "
     << "instructions / MHz at 1 instruction per cycle; transmission = bytes x 8 / bandwidth + RTT "
        "("
     << rtt
     << " ms); server = measured median, batch 1, in-process on this host. `n/a` = not measurable "
     << "without the missing input named in the notes; `none` = no answer without the server. "
     << "Fits = within the STM32F746's 320 KB SRAM and 1 MB flash (`est.`: from counts, not an "
     << "export; `planned`: from the int8 layer graph and arena plan, not a build).\n\n"
     << "| MHz | link | scheme | device ms | compressor ms | transmission ms | server ms | total "
        "ms "
        "| accuracy % | accuracy % server down | bytes/image | flash KB | SRAM KB | fits |\n"
     << "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n";
  csv << "mhz,link,scheme,device_ms,compressor_ms,transmission_ms,server_ms,total_ms,"
         "total_is_lower_bound,accuracy,accuracy_server_down,bytes_per_image,flash_bytes,"
         "sram_bytes,fits_stm32f746,memory_estimated,memory_planned\n";
  Json rows = Json::array();
  std::ostringstream plot_data;
  struct Headline {
    std::string scheme;
    std::optional<double> total;
    bool lower_bound;
  };
  std::vector<Headline> headline;
  for (double mhz : mhzs)
    for (const Link& link : links) {
      runtime::LatencyModel lm{mhz, link.bps, rtt};
      for (const Scheme& sc : schemes) {
        auto b = lm.breakdown(sc.device_instructions, sc.compressor_instructions,
                              size_t(std::lround(sc.bytes)), sc.server_ms);
        if (sc.bytes == 0) b.transmission_ms = 0;
        auto total = b.total_ms();
        auto kb = [](std::optional<double> v) {
          return v ? std::optional<double>(*v / 1024) : std::nullopt;
        };
        auto pct = [](std::optional<double> v) {
          return v ? std::optional<double>(*v * 100) : std::nullopt;
        };
        const std::string fits = std::string(sc.fits ? "yes" : "**NO**") +
                                 (!sc.memory_basis.empty() ? " (" + sc.memory_basis + ")"
                                  : sc.memory_estimated    ? " (est.)"
                                                           : "");
        md << "| " << mhz << " | " << link.name << " | " << sc.name << " | " << fmt(b.device_ms)
           << " | " << (b.compressor_ms ? fmt(b.compressor_ms) : "-") << " | "
           << fmt(b.transmission_ms) << " | " << fmt(b.server_ms) << " | "
           << (sc.total_lower_bound && total ? ">= " : "") << fmt(total) << " | "
           << fmt(pct(sc.accuracy)) << " | "
           << (sc.accuracy_server_down ? fmt(pct(sc.accuracy_server_down)) : "none") << " | "
           << fmt(sc.bytes, 0) << " | " << fmt(kb(sc.flash), 1) << " | " << fmt(kb(sc.sram), 1)
           << " | " << fits << " |\n";
        csv << mhz << ",\"" << link.name << "\"," << sc.name << "," << fmt(b.device_ms, 4) << ","
            << fmt(b.compressor_ms, 4) << "," << fmt(b.transmission_ms, 4) << ","
            << fmt(b.server_ms, 4) << "," << fmt(total, 4) << "," << (sc.total_lower_bound ? 1 : 0)
            << "," << fmt(sc.accuracy, 4) << "," << fmt(sc.accuracy_server_down, 4) << ","
            << fmt(sc.bytes, 1) << "," << fmt(sc.flash, 0) << "," << fmt(sc.sram, 0) << ","
            << (sc.fits ? 1 : 0) << "," << (sc.memory_estimated ? 1 : 0) << ","
            << (sc.memory_planned ? 1 : 0) << "\n";
        Json j = b.to_json();
        j["mhz"] = mhz;
        j["link"] = link.name;
        j["bandwidth_bps"] = link.bps;
        j["scheme"] = sc.name;
        j["total_is_lower_bound"] = sc.total_lower_bound;
        j["accuracy"] = sc.accuracy ? Json(*sc.accuracy) : Json();
        j["accuracy_server_down"] =
            sc.accuracy_server_down ? Json(*sc.accuracy_server_down) : Json();
        j["fits_stm32f746"] = sc.fits;
        j["memory_estimated"] = sc.memory_estimated;
        j["memory_planned"] = sc.memory_planned;
        j["bytes_per_image"] = sc.bytes;
        j["flash_bytes"] = sc.flash ? Json(*sc.flash) : Json();
        j["sram_bytes"] = sc.sram ? Json(*sc.sram) : Json();
        rows.push_back(j);
        if (mhz == 216 && link.bps == 6e6)
          headline.push_back({sc.name, total, sc.total_lower_bound});
        if (mhz == 216)
          plot_data << "\"" << sc.name << " " << link.name << "\" "
                    << fmt(b.device_ms.value_or(0) + b.compressor_ms.value_or(0), 4) << " "
                    << b.transmission_ms << " " << b.server_ms << "\n";
      }
    }
  {  // The check: AgileNN's modelled total at 216 MHz / 6 Mbps below every baseline's.
    md << "\nAt 216 MHz / 6 Mbps: ";
    const auto& a = headline[0];
    if (!a.total) {
      md << "AgileNN's total is n/a (" << no_count << "), so the comparison cannot be made.\n";
    } else {
      bool all_below = true;
      for (size_t i = 1; i < headline.size(); ++i) {
        const auto& h = headline[i];
        if (!h.total) {
          md << h.scheme << " n/a; ";
          continue;
        }
        const bool below = *a.total < *h.total;
        all_below &= below;
        md << "AgileNN " << fmt(a.total) << " ms " << (below ? "<" : ">=") << " " << h.scheme << " "
           << (h.lower_bound ? ">= " : "") << fmt(h.total) << " ms; ";
      }
      md << (all_below ? "below every baseline with a total.\n" : "NOT below every baseline.\n");
    }
  }
  md << "\nNotes per scheme:\n\n";
  Json notes = Json::object();
  for (const Scheme& sc : schemes) {
    md << "- **" << sc.name << "**: device: " << sc.device_note << ". Memory: " << sc.memory_note
       << ". " << sc.note << ".\n";
    Json nj;
    nj["device"] = sc.device_note;
    nj["memory"] = sc.memory_note;
    nj["note"] = sc.note;
    nj["fits_stm32f746"] = sc.fits;
    nj["memory_estimated"] = sc.memory_estimated;
    nj["memory_planned"] = sc.memory_planned;
    nj["total_is_lower_bound"] = sc.total_lower_bound;
    notes[sc.name] = nj;
  }
  md << "\nAgileNN accuracy " << fmt(agile_acc * 100) << "%; with the server unreachable "
     << fmt(down_acc * 100) << "% (measured: " << down.fallbacks() << "/" << down.requests
     << " requests fell back to the local head, " << down.answered << " answered; the local "
     << "head alone on every image: " << fmt(local_acc * 100) << "%).\n";
  md << "Device path: " << s.device->name()
     << (s.device->name() == "int8"
             ? " (the int8 fixed-point reference of mcu/, byte-identical to the generated C)"
             : " (the float model, not what the MCU runs)")
     << "; codec tables " << s.tables_how << ".\n";
  std::optional<bool> matches_mcu_check;
  if (mcu_int8_acc && s.device->name() == "int8" && so.limit_test == 0 && so.calib_images == 256) {
    matches_mcu_check =
        std::abs(*mcu_int8_acc - agile_acc) < 0.5 / double(n) &&
        (!mcu_int8_local_acc || std::abs(*mcu_int8_local_acc - local_acc) < 0.5 / double(n));
    md << "mcu-check's int8 pipeline accuracy " << fmt(*mcu_int8_acc * 100) << "% / local "
       << fmt(mcu_int8_local_acc ? std::optional<double>(*mcu_int8_local_acc * 100) : std::nullopt)
       << "%: " << (*matches_mcu_check ? "equal" : "DIFFERENT") << ".\n";
  }

  Json sum;
  sum["model"] = s.model->path;
  sum["dataset"] = s.test.name;
  sum["test_images"] = double(n);
  sum["device_path"] = s.device->name();
  sum["codec_tables"] = s.tables_how;
  sum["agilenn_accuracy"] = agile_acc;
  sum["accuracy_server_unreachable"] = down_acc;
  sum["server_unreachable_fallbacks"] = double(down.fallbacks());
  sum["server_unreachable_answered"] = double(down.answered);
  sum["local_head_accuracy"] = local_acc;
  sum["mcu_check_int8_accuracy"] = mcu_int8_acc ? Json(*mcu_int8_acc) : Json();
  sum["matches_mcu_check_int8_accuracy"] = matches_mcu_check ? Json(*matches_mcu_check) : Json();
  sum["calib_images"] = double(so.calib_images);
  sum["alpha"] = s.learned_alpha;
  sum["device_macs_per_image"] = double(macs.extractor + macs.local_head);
  sum["remote_macs_per_image"] = double(macs.remote);
  sum["mcu_instructions_per_image"] = instr ? Json(*instr) : Json();
  sum["mcu_instructions_source"] = instr_src;
  sum["rtt_ms"] = rtt;
  sum["schemes"] = notes;
  sum["rows"] = rows;
  {  // local-only's int8 plan: totals here, every layer and buffer in local_only_plan.json
    Json lp = Json::object();
    lp["description"] = local_plan.description;
    lp["layers"] = local_plan.layers();
    lp["macs"] = double(local_plan.macs());
    lp["param_bytes"] = double(local_plan.param_bytes());
    lp["arena_bytes"] = double(local_plan.arena_bytes);
    lp["largest_live_bytes"] = double(local_plan.largest_live_bytes);
    lp["qemu_instructions"] = local_run ? Json(local_run->instructions) : Json();
    lp["qemu_table_bytes"] = local_run ? Json(double(local_run->table_bytes)) : Json();
    lp["qemu_kernel_bytes"] = local_run ? Json(double(local_run->kernel_bytes)) : Json();
    sum["local_only_plan"] = lp;
    Json ops = Json::array();
    for (const auto& op : local_plan.ops) {
      Json j = Json::object();
      j["name"] = op.name;
      j["kind"] = mcu::plan_op_kind_name(op.kind);
      j["in"] = Json(Json::Array{Json(op.in_h), Json(op.in_w), Json(op.in_c)});
      j["out"] = Json(Json::Array{Json(op.out_h), Json(op.out_w), Json(op.out_c)});
      j["stride"] = op.stride;
      j["macs"] = double(op.macs);
      j["param_bytes"] = double(op.param_bytes);
      j["output_offset"] = double(local_plan.buffers[size_t(op.output)].offset);
      j["output_bytes"] = double(local_plan.buffers[size_t(op.output)].size);
      j["qemu_instructions"] =
          local_run ? Json(local_run->op_instructions[ops.as_array().size()]) : Json();
      ops.push_back(j);
    }
    Json full = lp;
    full["note"] =
        "int8 layer graph of the whole network (not an export of the trained model): int8 weights "
        "+ int32 bias/multiplier/shift per output channel; arena from mcu/planner (greedy by size, "
        "first fit), offsets per output buffer; qemu_instructions: plain-loop C kernels with "
        "random parameters on the Cortex-M7 under QEMU (--local-only-run qemu)";
    full["ops"] = ops;
    nn::write_json(out + "/local_only_plan.json", full);
  }
  const std::string ref_dir = r["reference"].as<std::string>();
  if (!ref_dir.empty()) {
    auto ref = xai::load_reference(ref_dir);
    sum["reference_test_accuracy"] =
        ref.meta.contains("test_accuracy") ? ref.meta.at("test_accuracy") : Json();
    md << "Reference network (" << ref_dir << "): test accuracy "
       << (ref.meta.contains("test_accuracy") ? fmt(ref.meta.at("test_accuracy").as_number() * 100)
                                              : "n/a")
       << "% (its stored summary).\n";
  }
  const std::string mds = md.str(), csvs = csv.str();
  write_file_atomic(out + "/bench-e2e.md",
                    std::span<const uint8_t>((const uint8_t*)mds.data(), mds.size()));
  write_file_atomic(out + "/bench-e2e.csv",
                    std::span<const uint8_t>((const uint8_t*)csvs.data(), csvs.size()));
  nn::write_json(out + "/summary.json", sum);
  std::fputs(mds.c_str(), stdout);

  // Bar chart of the 216 MHz breakdown (gnuplot when present).
  const std::string dat = out + "/breakdown_216mhz.dat", png = out + "/breakdown_216mhz.png";
  const std::string ds = plot_data.str();
  write_file_atomic(dat, std::span<const uint8_t>((const uint8_t*)ds.data(), ds.size()));
  if (std::system("command -v gnuplot >/dev/null 2>&1") == 0) {
    std::string script =
        "set terminal pngcairo size 1400,600\nset output '" + png +
        "'\nset style data histograms\nset style histogram rowstacked\nset style fill solid 0.8 "
        "border -1\n"
        "set boxwidth 0.7\nset ylabel 'latency (ms, modelled)'\nset xtics rotate by -40 font ',8'\n"
        "set title 'End-to-end latency at 216 MHz (device compute n/a counts as 0)'\n"
        "plot '" +
        dat +
        "' using 2:xtic(1) title 'device', '' using 3 title 'transmission', '' using 4 title "
        "'server'\n";
    const std::string gp = out + "/breakdown_216mhz.gp";
    write_file_atomic(gp, std::span<const uint8_t>((const uint8_t*)script.data(), script.size()));
    if (std::system(("gnuplot '" + gp + "'").c_str()) != 0)
      std::fprintf(stderr, "bench-e2e: gnuplot failed; the data is in %s\n", dat.c_str());
    else
      std::printf("bench-e2e: chart %s\n", png.c_str());
  } else {
    std::fprintf(stderr, "bench-e2e: gnuplot not found; no chart (data in %s)\n", dat.c_str());
  }
  std::printf("bench-e2e: wrote %s/{bench-e2e.md,bench-e2e.csv,summary.json}\n", out.c_str());
  return 0;
}

CommandRegistrar reg(
    "bench-e2e",
    "End-to-end latency/accuracy table: AgileNN vs edge-only, local-only, DeepCOD-style", run);

}  // namespace
}  // namespace agilenn::cli
