// agilenn bench-train: time the training steps the main job runs (reference step, the split
// model's plain step, the XAI step with ig-steps 2 and 8) against the same models in PyTorch
// (tools/bench/torch_train.py), each phase in its own process so peak RSS is per phase.
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <memory>

#include "autograd/graph.h"
#include "nn/io/atomic_file.h"
#include "nn/io/error.h"
#include "nn/optimizer.h"
#include "nn/training.h"
#include "tools/cli/command.h"
#include "tools/cli/common.h"
#include "xai/agile_loss.h"
#include "xai/importance.h"

namespace agilenn::cli {
namespace {

using ag::Tensor;

const std::vector<std::string> kPhases = {"ref", "plain", "xai", "xai8"};

double peak_rss_mb() {
  struct rusage ru {};
  getrusage(RUSAGE_SELF, &ru);
  return double(ru.ru_maxrss) / 1024.0;
}

// One phase in this process: prints a JSON line.
int run_phase(const xai::Preset& p, const std::string& phase, int batch, int steps) {
  ag::Rng rng(7);
  Tensor x = ag::randn(ag::Shape{batch, p.height, p.width, p.channels}, rng);
  std::vector<int32_t> lab(static_cast<size_t>(batch));
  for (int i = 0; i < batch; ++i) lab[size_t(i)] = i % p.split.num_classes;
  Tensor y = Tensor::from_ints(lab, ag::Shape{batch});
  auto ref = std::make_shared<nn::MobileNetV2>(p.reference, rng);
  std::function<void()> step;
  int64_t params = 0, macs = 0;
  std::shared_ptr<xai::SplitModel> model;
  std::unique_ptr<nn::SGDW> opt;
  Tensor g0;
  xai::AgileLossConfig lc;
  auto count_macs = [&](nn::Module& m) {
    ag::NoGradGuard ng;
    ag::MacCounter mc;
    m.eval();
    m.forward(ag::slice(x, 0, 0, 1));
    m.train();
    return mc.macs();
  };
  if (phase == "ref") {
    params = ref->num_parameters();
    macs = count_macs(*ref);
    opt = std::make_unique<nn::SGDW>(ref->named_parameters());
    step = [&] {
      Tensor loss = ag::cross_entropy(ref->forward(x), y);
      opt->zero_grad();
      loss.backward();
      opt->step(0.01);
    };
  } else {
    model = std::make_shared<xai::SplitModel>(p.split, rng);
    params = model->num_parameters();
    macs = count_macs(*model);
    opt = std::make_unique<nn::SGDW>(model->named_parameters());
    ref->eval();
    ref->fold_batch_norm();  // as agilenn train does with the frozen reference (xai/reference.cpp)
    for (auto* t : ref->parameters()) t->set_requires_grad(false);
    lc.xai = phase != "plain";
    lc.ig_steps = phase == "xai8" ? 8 : 2;
    Tensor f1;
    {
      ag::NoGradGuard ng;
      f1 = model->extract(ag::slice(x, 0, 0, 1));
    }
    auto body = [ref](const Tensor& f) { return ref->forward_body(f); };
    g0 = xai::baseline_gradients(body, ag::Shape{f1.dim(1), f1.dim(2), f1.dim(3)},
                                 p.split.num_classes, ag::DType::F32);
    step = [&, body] {
      auto r = xai::agile_loss(*model, body, g0, x, y, lc);
      opt->zero_grad();
      r.loss.backward();
      opt->step(0.01);
    };
  }
  for (int i = 0; i < 3; ++i) step();
  // CPU time of the process next to wall time: on a busy machine it moves much less.
  auto cpu_ms = [] {
    timespec t{};
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
    return double(t.tv_sec) * 1e3 + double(t.tv_nsec) * 1e-6;
  };
  std::vector<double> ts, cs;
  for (int i = 0; i < steps; ++i) {
    auto t0 = std::chrono::steady_clock::now();
    const double c0 = cpu_ms();
    step();
    cs.push_back(cpu_ms() - c0);
    ts.push_back(
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
  }
  std::sort(ts.begin(), ts.end());
  std::sort(cs.begin(), cs.end());
  Json j;
  j["parameters"] = params;
  j["macs_per_image"] = macs;
  j["median_ms"] = ts[ts.size() / 2];
  j["min_ms"] = ts[0];
  j["cpu_median_ms"] = cs[cs.size() / 2];
  j["peak_rss_mb"] = peak_rss_mb();
  std::printf("%s\n", j.dump().c_str());
  return 0;
}

// Runs argv, returns its last stdout line parsed as JSON (or null on failure).
Json run_child(const std::vector<std::string>& args) {
  std::string cmd;
  for (auto& a : args) cmd += "'" + a + "' ";
  FILE* f = popen(cmd.c_str(), "r");
  if (!f) return Json();
  std::string last, line;
  char buf[4096];
  while (std::fgets(buf, sizeof buf, f)) {
    line = buf;
    if (!line.empty() && line[0] == '{') last = line;
  }
  const int rc = pclose(f);
  if (rc != 0 || last.empty()) return Json();
  return Json::parse(last, args[0]);
}

// Of several runs of one phase: the median run's median, the smallest min, the largest RSS.
Json median_round(std::vector<Json> runs) {
  std::sort(runs.begin(), runs.end(), [](const Json& a, const Json& b) {
    return a.at("median_ms").as_number() < b.at("median_ms").as_number();
  });
  Json m = runs[runs.size() / 2];
  double mn = m.at("min_ms").as_number(), rss = m.at("peak_rss_mb").as_number();
  for (auto& r : runs) {
    mn = std::min(mn, r.at("min_ms").as_number());
    rss = std::max(rss, r.at("peak_rss_mb").as_number());
  }
  m["min_ms"] = mn;
  m["peak_rss_mb"] = rss;
  return m;
}

int run(int argc, char** argv) {
  cxxopts::Options opts(argv[0], "Time the training steps against PyTorch on the same models.");
  opts.add_options()("preset", "fashion-mnist | fashion-mnist-long | cifar | tiny",
                     cxxopts::value<std::string>()->default_value("fashion-mnist"))(
      "steps", "timed steps per phase (after 3 warm-up steps)",
      cxxopts::value<int>()->default_value("20"))("batch", "batch size",
                                                  cxxopts::value<int>()->default_value("64"))(
      "threads", "threads for both engines", cxxopts::value<int>()->default_value("2"))(
      "out", "directory for summary.json",
      cxxopts::value<std::string>()->default_value("runs/bench-train"))(
      "phases", "comma-separated subset of ref,plain,xai,xai8",
      cxxopts::value<std::string>()->default_value("ref,plain,xai,xai8"))(
      "ig-chunk-images", "images per pass of the integrated-gradients points through the reference",
      cxxopts::value<int>()->default_value("64"))(
      "rounds", "alternate ours/PyTorch this many times per phase; report the median round",
      cxxopts::value<int>()->default_value("3"))("no-torch", "skip the PyTorch side")(
      "phase", "internal: run one phase in this process", cxxopts::value<std::string>())(
      "h,help", "show this help");
  auto r = opts.parse(argc, argv);
  if (handle_help(opts, r)) return 0;
  const int steps = r["steps"].as<int>(), batch = r["batch"].as<int>(),
            threads = r["threads"].as<int>(), rounds = r["rounds"].as<int>();
  if (steps < 1 || batch < 2 || threads < 1 || rounds < 1)
    throw Error("--steps >= 1, --batch >= 2, --threads >= 1 and --rounds >= 1 required");
  xai::Preset p = xai::get_preset(r["preset"].as<std::string>());
  const int chunk = r["ig-chunk-images"].as<int>();
  if (chunk < 1) throw Error("--ig-chunk-images must be >= 1, got " + std::to_string(chunk));
  xai::set_ig_chunk_images(chunk);
  if (r.count("phase")) {
    set_threads(threads);
    return run_phase(p, r["phase"].as<std::string>(), batch, steps);
  }
  std::vector<std::string> phases;
  {
    std::string s = r["phases"].as<std::string>(), tok;
    for (size_t i = 0; i <= s.size(); ++i) {
      if (i == s.size() || s[i] == ',') {
        if (std::find(kPhases.begin(), kPhases.end(), tok) == kPhases.end())
          throw Error("--phases: unknown phase '" + tok + "'");
        phases.push_back(tok);
        tok.clear();
      } else {
        tok += s[i];
      }
    }
  }
  const std::string out = r["out"].as<std::string>();
  std::filesystem::create_directories(out);
  // The spec PyTorch builds its models from: the same configs our models are built from.
  Json spec;
  spec["batch"] = batch;
  spec["threads"] = threads;
  spec["steps"] = steps;
  spec["height"] = p.height;
  spec["width"] = p.width;
  spec["channels"] = p.channels;
  spec["reference"] = p.reference.to_json();
  spec["split"] = p.split.to_json();
  const std::string spec_path = out + "/torch_spec.json";
  write_file_atomic(spec_path, spec.dump(1));
  const std::string self = std::filesystem::read_symlink("/proc/self/exe").string();
  const std::string script = std::string(AGILENN_SOURCE_DIR) + "/tools/bench/torch_train.py";
  const bool torch = !r.count("no-torch") &&
                     std::system("/usr/bin/python3 -c 'import torch' >/dev/null 2>&1") == 0;
  if (!torch && !r.count("no-torch"))
    std::printf(
        "PyTorch is not installed (/usr/bin/python3 cannot import torch): printing our side "
        "only\n");

  Json sum;
  sum["preset"] = p.name;
  sum["threads"] = threads;
  sum["batch"] = batch;
  sum["steps"] = steps;
  sum["rounds"] = rounds;
  bool mismatch = false;
  std::printf("\n%-6s %10s %12s | %9s %9s %9s %9s %8s | %9s %9s %8s | %7s\n", "phase", "params",
              "MACs/img", "ours med", "ours min", "ours cpu", "img/s", "RSS MB", "torch med",
              "torch min", "RSS MB", "ratio");
  for (auto& ph : phases) {
    // The machine's speed drifts (shared VM): alternate the two sides so both see the same
    // conditions, and keep the round whose median is the median of the rounds.
    std::vector<Json> our_rounds, their_rounds;
    for (int round = 0; round < rounds; ++round) {
      Json o = run_child({self, "bench-train", "--phase", ph, "--preset", p.name, "--steps",
                          std::to_string(steps), "--batch", std::to_string(batch), "--threads",
                          std::to_string(threads), "--ig-chunk-images", std::to_string(chunk)});
      if (o.is_null()) throw Error("bench-train: our phase '" + ph + "' failed");
      our_rounds.push_back(o);
      if (torch) {
        Json t = run_child({"/usr/bin/python3", script, spec_path, ph});
        if (!t.is_null()) their_rounds.push_back(t);
      }
    }
    Json ours = median_round(our_rounds);
    Json theirs = their_rounds.empty() ? Json() : median_round(their_rounds);
    const std::string key = ph == "ref"     ? "ref"
                            : ph == "plain" ? "plain"
                            : ph == "xai"   ? "xai"
                                            : "xai8";
    sum[key + "_step_ms"] = ours.at("median_ms");
    sum[key + "_min_ms"] = ours.at("min_ms");
    sum[key + "_cpu_ms"] = ours.at("cpu_median_ms");
    sum[key + "_peak_rss_mb"] = ours.at("peak_rss_mb");
    sum[key + "_parameters"] = ours.at("parameters");
    sum[key + "_macs_per_image"] = ours.at("macs_per_image");
    const double om = ours.at("median_ms").as_number();
    double ratio = NAN;
    if (!theirs.is_null()) {
      sum["torch_" + key + "_step_ms"] = theirs.at("median_ms");
      sum["torch_" + key + "_min_ms"] = theirs.at("min_ms");
      sum["torch_" + key + "_peak_rss_mb"] = theirs.at("peak_rss_mb");
      ratio = om / theirs.at("median_ms").as_number();
      sum["ratio_" + key] = ratio;
      if (theirs.at("parameters").as_int() != ours.at("parameters").as_int() ||
          theirs.at("macs_per_image").as_int() != ours.at("macs_per_image").as_int()) {
        mismatch = true;
        std::printf("MISMATCH in %s: torch has %lld parameters, %lld MACs/image\n", ph.c_str(),
                    (long long)theirs.at("parameters").as_int(),
                    (long long)theirs.at("macs_per_image").as_int());
      }
    }
    std::printf(
        "%-6s %10lld %12lld | %9.1f %9.1f %9.1f %9.0f %8.0f | %9s %9s %8s | %7s\n", ph.c_str(),
        (long long)ours.at("parameters").as_int(), (long long)ours.at("macs_per_image").as_int(),
        om, ours.at("min_ms").as_number(), ours.at("cpu_median_ms").as_number(),
        1000.0 * batch / om, ours.at("peak_rss_mb").as_number(),
        theirs.is_null() ? "-"
                         : std::to_string(theirs.at("median_ms").as_number()).substr(0, 7).c_str(),
        theirs.is_null() ? "-"
                         : std::to_string(theirs.at("min_ms").as_number()).substr(0, 7).c_str(),
        theirs.is_null() ? "-" : std::to_string(int(theirs.at("peak_rss_mb").as_number())).c_str(),
        std::isnan(ratio) ? "-" : std::to_string(ratio).substr(0, 5).c_str());
    std::fflush(stdout);
  }
  if (sum.contains("xai_peak_rss_mb")) sum["peak_rss_mb"] = sum.at("xai_peak_rss_mb");
  if (sum.contains("torch_xai_peak_rss_mb"))
    sum["torch_peak_rss_mb"] = sum.at("torch_xai_peak_rss_mb");
  if (sum.contains("xai_step_ms") && sum.contains("xai8_step_ms"))
    sum["xai8_over_xai"] = sum.at("xai8_step_ms").as_number() / sum.at("xai_step_ms").as_number();
  if (sum.contains("xai_step_ms") && sum.contains("xai8_step_ms")) {
    std::printf("ig-steps 8 / ig-steps 2: %.2fx (medians), %.2fx (mins), %.2fx (CPU time)\n",
                sum.at("xai8_over_xai").as_number(),
                sum.at("xai8_min_ms").as_number() / sum.at("xai_min_ms").as_number(),
                sum.at("xai8_cpu_ms").as_number() / sum.at("xai_cpu_ms").as_number());
  }
  sum["models_match"] = !mismatch;
  nn::write_json(out + "/summary.json", sum);
  std::printf("wrote %s/summary.json\n", out.c_str());
  if (mismatch) throw Error("bench-train: our models and PyTorch's differ in parameters or MACs");
  return 0;
}

CommandRegistrar reg("bench-train", "Benchmark the training steps against PyTorch", run);

}  // namespace
}  // namespace agilenn::cli
