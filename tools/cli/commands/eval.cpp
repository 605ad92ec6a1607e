// agilenn eval: evaluate a saved model (a reference network or an AgileNN model) on a data set.
#include <cmath>
#include <cstdio>
#include <filesystem>

#include "nn/io/error.h"
#include "nn/training.h"
#include "tools/cli/command.h"
#include "tools/cli/common.h"
#include "xai/agile_model_file.h"
#include "xai/evaluate.h"
#include "xai/reference.h"

namespace agilenn::cli {
namespace {

using ag::Tensor;

int run(int argc, char** argv) {
  cxxopts::Options opts(
      argv[0], "Evaluate a saved model (DIR/reference.safetensors or DIR/model.safetensors).");
  add_common_flags(opts);
  opts.add_options()("model", "model directory or .safetensors file",
                     cxxopts::value<std::string>())(
      "reference", "reference network directory, for the skewness statistics of an AgileNN model",
      cxxopts::value<std::string>()->default_value(""))(
      "alpha", "override the combiner's alpha in [0, 1] (AgileNN models)",
      cxxopts::value<double>())("rho", "skewness threshold for the share of samples reaching it",
                                cxxopts::value<double>()->default_value("0.8"))(
      "out", "JSON output file (default: DIR/eval.json)",
      cxxopts::value<std::string>()->default_value(""));
  auto r = opts.parse(argc, argv);
  if (handle_help(opts, r)) return 0;
  if (!r.count("model")) throw Error("--model is required");
  set_threads(r["threads"].as<int>());
  std::string path = r["model"].as<std::string>();
  const bool is_dir = std::filesystem::is_directory(path);
  if (!std::filesystem::exists(path)) throw error_at(path, "no such model (--model)");
  std::string dir = is_dir ? path : std::filesystem::path(path).parent_path().string();
  if (dir.empty()) dir = ".";
  const bool reference = is_dir ? std::filesystem::exists(path + "/reference.safetensors") &&
                                      !std::filesystem::exists(path + "/model.safetensors")
                                : path.find("reference") != std::string::npos;
  xai::Preset p = xai::get_preset(r["preset"].as<std::string>());
  DataBundle d = load_data(p, r, /*need_train=*/false);
  data::Augmenter aug(d.augment, d.test.height, d.test.width, d.test.channels);
  Json out;
  out["model"] = path;
  out["dataset"] = d.test.name;
  out["samples"] = uint64_t(d.test.size());
  if (reference) {
    xai::Reference ref = xai::load_reference(path);
    auto e = nn::evaluate([&](const Tensor& x) { return ref.net->forward(x); }, d.test, aug, 256,
                          "eval");
    out["kind"] = "reference";
    out["test_accuracy"] = e.accuracy;
    out["test_loss"] = e.loss;
    std::printf("reference: test accuracy %.4f, loss %.4f on %lld images\n", e.accuracy, e.loss,
                (long long)e.samples);
  } else {
    xai::AgileModelFile f = xai::load_agile_model(path);
    if (f.mean != d.augment.mean || f.std != d.augment.std)
      std::fprintf(
          stderr,
          "note: the model's input normalisation differs from the preset's; using the model's\n");
    d.augment.mean = f.mean;
    d.augment.std = f.std;
    data::Augmenter maug(d.augment, d.test.height, d.test.width, d.test.channels);
    xai::ReferenceFn body;
    Tensor g0;
    const std::string ref_dir = r["reference"].as<std::string>();
    if (!ref_dir.empty() && !f.model->config().unsplit) {
      xai::Reference ref = xai::load_reference(ref_dir);
      body = ref.body();
      Tensor f1 = f.model->extract(Tensor::zeros(ag::Shape{1, p.height, p.width, p.channels}));
      g0 = xai::baseline_gradients(body, ag::Shape{f1.dim(1), f1.dim(2), f1.dim(3)},
                                   f.model->config().num_classes, ag::DType::F32);
    }
    const double alpha = r.count("alpha") ? r["alpha"].as<double>() : NAN;
    auto e =
        xai::evaluate_split_model(*f.model, body, g0, d.test, maug, r["rho"].as<double>(), alpha);
    out["kind"] = f.model->config().unsplit ? "unsplit" : "agilenn";
    out["test_accuracy"] = e.accuracy;
    out["local_accuracy"] = e.local_accuracy;
    out["remote_accuracy"] = e.remote_accuracy;
    out["skewness"] = e.skewness;
    out["skewness_at_rho"] = e.skewness_at_rho;
    out["disorder_violation_rate"] = e.disorder_violation_rate;
    out["alpha"] = e.alpha;
    std::printf(
        "%s: test accuracy %.4f (local-only %.4f, remote-only %.4f), alpha %.3f, skewness %.4f\n",
        out.at("kind").as_string().c_str(), e.accuracy, e.local_accuracy, e.remote_accuracy,
        e.alpha, e.skewness);
  }
  std::string o = r["out"].as<std::string>();
  if (o.empty()) o = dir + "/eval.json";
  nn::write_json(o, out);
  std::printf("wrote %s\n", o.c_str());
  return 0;
}

CommandRegistrar reg("eval", "Evaluate a saved model on a data set", run);

}  // namespace
}  // namespace agilenn::cli
