// bench_conv: median times of our conv2d kernels (forward, backward-input, backward-weight) on
// AgileNN's shapes (tools/bench/shapes.json; NHWC, float32), and with --torch the same shapes in
// PyTorch (tools/bench/torch_conv.py, channels_last, same thread count) and the ratio
// ours/torch from this one run. Writes summary.json to --out.
#include <algorithm>
#include <array>
#include <chrono>
#include <cstdio>
#include <cxxopts.hpp>
#include <iostream>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "autograd/kernels/conv2d.h"
#include "autograd/parallel.h"
#include "nn/io/atomic_file.h"
#include "nn/io/error.h"
#include "nn/io/json.h"

namespace ag = agilenn::ag;
using agilenn::Json;

namespace {

const std::array<const char*, 3> kPasses = {"forward", "backward_input", "backward_weight"};

struct Shape {
  std::string name;
  ag::kernels::Conv2dGeom geom;
};

std::string read_text(const std::string& path) {
  auto bytes = agilenn::read_file_bytes(path);
  return std::string(bytes.begin(), bytes.end());
}

std::vector<Shape> load_shapes(const std::string& path, const std::string& only) {
  Json spec = Json::parse(read_text(path), path);
  const int batch = int(spec.at("batch").as_int(path + ": batch"));
  std::vector<Shape> shapes;
  for (const Json& s : spec.at("shapes").as_array(path + ": shapes")) {
    Shape sh;
    sh.name = s.at("name").as_string(path + ": name");
    if (!only.empty() && ("," + only + ",").find("," + sh.name + ",") == std::string::npos)
      continue;
    auto field = [&](const char* f) {
      return int(s.at(f).as_int(path + ": " + sh.name + "." + f));
    };
    ag::kernels::Conv2dGeom& g = sh.geom;
    g.n = batch, g.h = field("h"), g.w = field("w"), g.c = field("c"), g.oc = field("oc");
    g.kh = g.kw = field("k");
    g.stride_h = g.stride_w = field("stride");
    g.pad_top = g.pad_left = field("pad");
    g.dil_h = g.dil_w = 1;
    g.groups = field("groups");
    g.oh = (g.h + 2 * g.pad_top - g.kh) / g.stride_h + 1;
    g.ow = (g.w + 2 * g.pad_left - g.kw) / g.stride_w + 1;
    shapes.push_back(sh);
  }
  if (shapes.empty())
    throw agilenn::error_at("--only", "no shape of " + path + " matches '" + only + "'");
  return shapes;
}

struct Timing {
  double median_ms, min_ms;
};

template <typename F>
Timing time_ms(F&& f, int reps, int warmup) {
  for (int i = 0; i < warmup; ++i) f();
  std::vector<double> t;
  for (int i = 0; i < reps; ++i) {
    auto t0 = std::chrono::steady_clock::now();
    f();
    t.push_back(
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
  }
  std::sort(t.begin(), t.end());
  return {t.size() % 2 ? t[t.size() / 2] : 0.5 * (t[t.size() / 2 - 1] + t[t.size() / 2]), t[0]};
}

std::array<Timing, 3> time_ours(const ag::kernels::Conv2dGeom& g, int reps, int warmup) {
  const size_t xs = size_t(g.n) * g.h * g.w * g.c, ys = size_t(g.n) * g.oh * g.ow * g.oc;
  const size_t ws = size_t(g.kh) * g.kw * (g.c / g.groups) * g.oc;
  std::vector<float> x(xs), dx(xs), y(ys), dy(ys), w(ws), dw(ws);
  std::mt19937 rng(0);
  std::normal_distribution<float> nd;
  for (auto* v : {&x, &dy, &w})
    for (auto& e : *v) e = nd(rng);
  return {
      time_ms([&] { ag::kernels::conv2d_forward(g, x.data(), w.data(), y.data()); }, reps, warmup),
      time_ms([&] { ag::kernels::conv2d_backward_input(g, dy.data(), w.data(), dx.data()); }, reps,
              warmup),
      time_ms([&] { ag::kernels::conv2d_backward_weight(g, x.data(), dy.data(), dw.data()); }, reps,
              warmup)};
}

// Runs the PyTorch script and returns its JSON, or null (with a message) if torch is missing.
Json run_torch(const std::string& python, const std::string& dir, const std::string& shapes_path,
               int threads, int reps, const std::string& only) {
  std::string cmd = python + " " + dir + "/torch_conv.py --shapes " + shapes_path + " --threads " +
                    std::to_string(threads) + " --reps " + std::to_string(reps) +
                    (only.empty() ? "" : " --only " + only);
  std::unique_ptr<FILE, int (*)(FILE*)> pipe(popen(cmd.c_str(), "r"), pclose);
  if (!pipe) return Json();
  std::string out;
  char buf[4096];
  while (size_t n = fread(buf, 1, sizeof buf, pipe.get())) out.append(buf, n);
  const int status = pclose(pipe.release());
  if (status != 0 || out.empty()) {
    std::cerr << "bench_conv: PyTorch run failed (" << cmd << "); printing our side only\n";
    return Json();
  }
  return Json::parse(out, "torch_conv.py output");
}

}  // namespace

int main(int argc, char** argv) try {
  cxxopts::Options opts("bench_conv", "conv2d kernel benchmark (ours vs PyTorch)");
  opts.add_options()("threads", "thread count (ours and torch)",
                     cxxopts::value<int>()->default_value("2"))(
      "reps", "timed repetitions per pass (median)", cxxopts::value<int>()->default_value("15"))(
      "warmup", "untimed repetitions per pass", cxxopts::value<int>()->default_value("3"))(
      "torch", "also run tools/bench/torch_conv.py and print ratios")(
      "python", "python for --torch",
      cxxopts::value<std::string>()->default_value("/usr/bin/python3"))(
      "shapes", "shape list",
      cxxopts::value<std::string>()->default_value(AGILENN_BENCH_DIR "/shapes.json"))(
      "only", "comma-separated shape names (default: all)",
      cxxopts::value<std::string>()->default_value(""))(
      "out", "summary.json path (empty: do not write)",
      cxxopts::value<std::string>()->default_value("summary.json"))("h,help", "show help");
  auto args = opts.parse(argc, argv);
  if (args.count("help")) {
    std::cout << opts.help() << "\n";
    return 0;
  }
  const int threads = args["threads"].as<int>(), reps = args["reps"].as<int>();
  const int warmup = args["warmup"].as<int>();
  if (reps < 1) throw agilenn::error_at("--reps", "must be >= 1");
  if (warmup < 0) throw agilenn::error_at("--warmup", "must be >= 0");
  const std::string shapes_path = args["shapes"].as<std::string>(),
                    only = args["only"].as<std::string>();
  ag::set_num_threads(threads);
  auto shapes = load_shapes(shapes_path, only);

  std::vector<std::array<Timing, 3>> ours;
  for (const auto& s : shapes) ours.push_back(time_ours(s.geom, reps, warmup));
  Json torch;
  if (args.count("torch"))
    torch = run_torch(args["python"].as<std::string>(), AGILENN_BENCH_DIR, shapes_path, threads,
                      reps, only);
  const bool have_torch = !torch.is_null();

  Json summary = Json::object();
  summary["threads"] = threads;
  summary["batch"] = shapes.front().geom.n;
  summary["reps"] = reps;
  summary["layout"] = "NHWC float32 (torch: channels_last)";
  if (have_torch) {
    summary["torch_version"] = torch.at("torch_version");
    summary["torch_blas"] = torch.at("blas");
  }
  Json rows = Json::array();
  std::printf("threads %d, batch %d, median of %d reps (ms)%s\n", threads, shapes.front().geom.n,
              reps, have_torch ? ", torch channels_last float32" : "");
  std::printf("%-20s %-16s %9s %9s %7s   %9s %9s %7s\n", "shape", "pass", "ours", "torch", "ratio",
              "ours_min", "torch_min", "ratio");
  for (size_t i = 0; i < shapes.size(); ++i) {
    for (size_t p = 0; p < kPasses.size(); ++p) {
      Json row = Json::object();
      row["shape"] = shapes[i].name;
      row["pass"] = kPasses[p];
      const Timing o = ours[i][p];
      row["ours_ms"] = o.median_ms;
      row["ours_min_ms"] = o.min_ms;
      if (have_torch) {
        const Json& r = torch.at("results").at(shapes[i].name);
        const double t = r.at(kPasses[p]).as_number();
        const double tmin = r.at(std::string(kPasses[p]) + "_min").as_number();
        row["torch_ms"] = t;
        row["torch_min_ms"] = tmin;
        row["ratio"] = o.median_ms / t;
        row["ratio_min"] = o.min_ms / tmin;
        std::printf("%-20s %-16s %9.3f %9.3f %7.2f   %9.3f %9.3f %7.2f\n", shapes[i].name.c_str(),
                    kPasses[p], o.median_ms, t, o.median_ms / t, o.min_ms, tmin, o.min_ms / tmin);
      } else {
        std::printf("%-20s %-16s %9.3f %9s %7s   %9.3f\n", shapes[i].name.c_str(), kPasses[p],
                    o.median_ms, "-", "-", o.min_ms);
      }
      rows.push_back(row);
    }
  }
  summary["rows"] = rows;
  const std::string out = args["out"].as<std::string>();
  if (!out.empty()) agilenn::write_file_atomic(out, summary.dump(2) + "\n");
  return 0;
} catch (const std::exception& e) {
  std::cerr << "bench_conv: " << e.what() << "\n";
  return 1;
}
