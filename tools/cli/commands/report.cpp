// agilenn report: one table of the main job's results, gathered from each stage's summary.json,
// printed and written to RUNS/report.md and RUNS/summary.json.
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "nn/io/atomic_file.h"
#include "nn/io/error.h"
#include "nn/training.h"
#include "tools/cli/command.h"
#include "tools/cli/common.h"

namespace agilenn::cli {
namespace {

Json read_json(const std::string& path) {
  if (!std::filesystem::exists(path)) return Json();
  return Json::parse(read_file_text(path), path);
}

std::string num(const Json& j, const char* key, const char* fmt = "%.4f") {
  const Json* v = j.find(key);
  if (!v || !v->is_number() || std::isnan(v->as_number())) return "-";
  char buf[64];
  std::snprintf(buf, sizeof buf, fmt, v->as_number());
  return buf;
}

int run(int argc, char** argv) {
  cxxopts::Options opts(argv[0], "Summarise the main job's runs into one table.");
  opts.add_options()("runs", "the runs directory",
                     cxxopts::value<std::string>()->default_value("runs"))("h,help",
                                                                           "show this help");
  auto r = opts.parse(argc, argv);
  if (handle_help(opts, r)) return 0;
  const std::string runs = r["runs"].as<std::string>();
  if (!std::filesystem::is_directory(runs)) throw error_at(runs, "no such runs directory (--runs)");
  std::ostringstream md;
  Json all;
  Json ref = read_json(runs + "/ref/summary.json");
  md << "## Models (Fashion-MNIST test set)\n\n"
     << "| run | accuracy | local-only | remote-only | skewness | share >= rho | disorder "
        "violations | alpha | train s |\n"
     << "|---|---|---|---|---|---|---|---|---|\n";
  if (!ref.is_null()) {
    md << "| reference | " << num(ref, "test_accuracy") << " | - | - | - | - | - | - | "
       << num(ref, "train_seconds", "%.0f") << " |\n";
    all["reference"] = ref;
  }
  for (const char* name : {"agile", "no-xai", "agile-ig8", "unsplit"}) {
    Json s = read_json(runs + "/" + name + "/summary.json");
    if (s.is_null()) continue;
    all[name] = s;
    md << "| " << name << " | " << num(s, "test_accuracy") << " | " << num(s, "local_accuracy")
       << " | " << num(s, "remote_accuracy") << " | " << num(s, "skewness") << " | "
       << num(s, "skewness_at_rho") << " | " << num(s, "disorder_violation_rate") << " | "
       << num(s, "alpha", "%.3f") << " | " << num(s, "train_seconds", "%.0f") << " |\n";
  }
  if (const Json* a = all.find("agile"); a && a->find("teacher"))
    md << "\nagile is distilled from " << a->at("teacher").as_string() << " (test accuracy "
       << num(*a, "teacher_test_accuracy") << "; weight " << num(*a, "distill_weight", "%g")
       << ", temperature " << num(*a, "distill_temperature", "%g") << ").\n";
  Json codec = read_json(runs + "/codec/summary.json");
  if (!codec.is_null()) {
    all["codec"] = codec;
    md << "\n## Link codec (bytes per image, Fashion-MNIST test set)\n\n| coder | packet | payload "
          "|\n|---|---|---|\n";
    if (const Json* coders = codec.find("coders"))
      for (auto& [name, c] : coders->as_object())
        md << "| " << name << " | " << num(c, "mean_packet_bytes", "%.1f") << " | "
           << num(c, "mean_payload_bytes", "%.1f") << " |\n";
    const Json* e = codec.find("order0_entropy_bits_per_image");
    if (e && e->is_number())
      md << "| order-0 entropy bound | - | " << std::to_string(int(e->as_number() / 8)) << " |\n";
    md << "\nRaw 8-bit image: " << num(codec, "raw_image_bytes", "%.0f")
       << " B; remote float32 features: " << num(codec, "float32_feature_bytes_per_image", "%.0f")
       << " B; default coder: "
       << (codec.contains("default_coder") ? codec.at("default_coder").as_string() : "-") << ".\n";
  }
  Json mcu = read_json(runs + "/mcu/summary.json");
  if (!mcu.is_null()) {
    all["mcu"] = mcu;
    md << "\n## Device (int8, Cortex-M7)\n\n| bit-exact host | bit-exact QEMU | instructions/image "
          "| MACs/image | flash B | SRAM B | int8 accuracy | float accuracy "
          "|\n|---|---|---|---|---|---|---|---|\n";
    auto b = [&](const char* k) {
      const Json* v = mcu.find(k);
      return v && v->is_bool() ? std::string(v->as_bool() ? "yes" : "NO") : std::string("-");
    };
    md << "| " << b("bit_exact_host") << " | " << b("bit_exact_qemu") << " | "
       << num(mcu, "instructions_per_image", "%.0f") << " | " << num(mcu, "macs_per_image", "%.0f")
       << " | " << num(mcu, "flash_bytes", "%.0f") << " | " << num(mcu, "sram_bytes", "%.0f")
       << " | " << num(mcu, "int8_accuracy") << " | " << num(mcu, "float_accuracy") << " |\n";
  }
  Json e2e = read_json(runs + "/e2e/summary.json");
  if (!e2e.is_null()) {
    all["e2e"] = e2e;
    md << "\n## End to end\n\nLatency and accuracy per scheme, MCU clock and link: " << runs
       << "/e2e/bench-e2e.md\n";
  }
  if (std::filesystem::exists(runs + "/stages.csv")) {
    md << "\n## Wall time per stage\n\n| stage | seconds |\n|---|---|\n";
    std::istringstream in(read_file_text(runs + "/stages.csv"));
    std::string line;
    std::getline(in, line);
    Json st;
    while (std::getline(in, line)) {
      auto comma = line.find(',');
      if (comma == std::string::npos) continue;
      md << "| " << line.substr(0, comma) << " | " << line.substr(comma + 1) << " |\n";
      st[line.substr(0, comma)] = std::strtod(line.c_str() + comma + 1, nullptr);
    }
    all["stage_seconds"] = st;
  }
  // The mission's targets for the default preset, each with the value it was judged on.
  {
    Json checks;
    md << "\n## Targets\n\n| target | measured | met |\n|---|---|---|\n";
    auto check = [&](const std::string& what, const std::string& measured, bool known, bool met) {
      md << "| " << what << " | " << measured << " | " << (known ? (met ? "yes" : "NO") : "-")
         << " |\n";
      if (known) checks[what] = met;
    };
    auto value = [&](const char* run, const char* key) {
      const Json* s = all.find(run);
      const Json* v = s ? s->find(key) : nullptr;
      return v && v->is_number() ? v->as_number() : NAN;
    };
    const double ref_acc = value("reference", "test_accuracy"),
                 ref_s = value("reference", "train_seconds"), acc = value("agile", "test_accuracy"),
                 un = value("unsplit", "test_accuracy"), loc = value("agile", "local_accuracy"),
                 skew = value("agile", "skewness");
    char buf[96];
    std::snprintf(buf, sizeof buf, "%.2f%% in %.0f s", 100 * ref_acc, ref_s);
    check("reference >= 92% in <= 600 s", buf, !std::isnan(ref_acc),
          ref_acc >= 0.92 && ref_s <= 600);
    std::snprintf(buf, sizeof buf, "%.2f%%", 100 * acc);
    check("AgileNN combined >= 90%", buf, !std::isnan(acc), acc >= 0.90);
    std::snprintf(buf, sizeof buf, "%.2f points", 100 * (un - acc));
    check("AgileNN within 1.0 point of unsplit", buf, !std::isnan(acc) && !std::isnan(un),
          un - acc <= 0.01);
    std::snprintf(buf, sizeof buf, "%.3f", skew);
    check("test skewness >= 0.80", buf, !std::isnan(skew), skew >= 0.80);
    std::snprintf(buf, sizeof buf, "%.2f%%", 100 * loc);
    check("local-only >= 80%", buf, !std::isnan(loc), loc >= 0.80);
    if (const Json* st = all.find("stage_seconds")) {
      // The whole job when it finished (stages.csv's total), else the sum of its trainings.
      double train = 0;
      for (const char* k : {"train-reference", "train-agilenn", "train-unsplit", "train-no-xai"})
        if (const Json* v = st->find(k)) train += v->as_number();
      if (const Json* total = st->find("total")) {
        std::snprintf(buf, sizeof buf, "%.0f s in all, %.0f s of training", total->as_number(),
                      train);
        check("main job <= 1800 s", buf, true, total->as_number() <= 1800);
      } else {
        std::snprintf(buf, sizeof buf, "%.0f s of training", train);
        check("main job trainings <= 1800 s", buf, train > 0, train <= 1800);
      }
    }
    all["targets_met"] = checks;
  }
  const std::string text = md.str();
  std::fputs(text.c_str(), stdout);
  write_file_atomic(runs + "/report.md", text);
  nn::write_json(runs + "/summary.json", all);
  return 0;
}

CommandRegistrar reg("report", "Summarise the main job's results (runs/*/summary.json)", run);

}  // namespace
}  // namespace agilenn::cli
