// agilenn train: the AgileNN split model with the XAI-regularised loss, or its controls
// (--no-xai: lambda = 1; --unsplit: extractor + remote predictor on all channels).
#include <cmath>
#include <cstdio>
#include <filesystem>

#include "autograd/graph.h"
#include "nn/fit.h"
#include "nn/io/error.h"
#include "nn/optimizer.h"
#include "tools/cli/command.h"
#include "tools/cli/common.h"
#include "xai/agile_model_file.h"
#include "xai/evaluate.h"
#include "xai/reference.h"
#include "xai/remapping.h"

namespace agilenn::cli {
namespace {

using ag::Tensor;

xai::XaiMethod parse_xai(const std::string& s) {
  if (s == "ig") return xai::XaiMethod::IntegratedGradients;
  if (s == "saliency") return xai::XaiMethod::Saliency;
  throw Error("--xai must be 'ig' or 'saliency', got '" + s + "'");
}

xai::DisorderForm parse_disorder(const std::string& s) {
  if (s == "paper") return xai::DisorderForm::Paper;
  if (s == "public") return xai::DisorderForm::Public;
  throw Error("--disorder must be 'paper' or 'public', got '" + s + "'");
}

Json eval_json(const xai::AgileEval& e) {
  Json j;
  j["test_accuracy"] = e.accuracy;
  j["local_accuracy"] = e.local_accuracy;
  j["remote_accuracy"] = e.remote_accuracy;
  j["skewness"] = e.skewness;
  j["skewness_at_rho"] = e.skewness_at_rho;
  j["disorder_violation_rate"] = e.disorder_violation_rate;
  j["alpha"] = e.alpha;
  return j;
}

int run(int argc, char** argv) {
  cxxopts::Options opts(argv[0], "Train the AgileNN split model (or a control) on a data set.");
  add_common_flags(opts);
  opts.add_options()("reference", "reference network directory (agilenn train-reference)",
                     cxxopts::value<std::string>()->default_value("runs/ref"))(
      "out", "output directory", cxxopts::value<std::string>()->default_value("runs/agile"))(
      "split-ratio", "share of the feature channels kept on the device",
      cxxopts::value<double>()->default_value("0.2"))(
      "rho", "target skewness", cxxopts::value<double>()->default_value("0.8"))(
      "lambda",
      "weight of the prediction loss (1 - lambda weighs skewness + disorder) (default: the "
      "preset's; fashion-mnist: 0.9, cifar: 0.8 as the public code)",
      cxxopts::value<double>())("centroids", "quantizer centroids",
                                cxxopts::value<int>()->default_value("8"))(
      "ig-steps", "integrated-gradients points (2 = the public code's trapezoid)",
      cxxopts::value<int>()->default_value("2"))(
      "xai", "importance: ig | saliency", cxxopts::value<std::string>()->default_value("ig"))(
      "disorder", "disorder loss: paper (channel) | public (element-wise)",
      cxxopts::value<std::string>()->default_value("paper"))(
      "correct-only",
      "importance losses only on samples the reference classifies correctly, as the paper "
      "(default: the preset's; fashion-mnist: true; --correct-only=false: every sample, as the "
      "public code)",
      cxxopts::value<bool>()->implicit_value("true"))("temperature", "alpha = sigmoid(w / T)",
                                                      cxxopts::value<double>()->default_value("6"))(
      "combiner", "learned (alpha) | sum", cxxopts::value<std::string>()->default_value("learned"))(
      "local-head", "gap | grid:G (default: the preset's; fashion-mnist: grid:4)",
      cxxopts::value<std::string>())(
      "extractor-hidden",
      "width of the extractor's first separable conv (default: the preset's; fashion-mnist: 4); "
      "a wider one costs device instructions",
      cxxopts::value<int>())(
      "extractor-depth-multiplier",
      "outputs per input channel of the extractor's first depthwise conv, as Keras's "
      "depth_multiplier (default: the preset's; fashion-mnist: 1); more device work",
      cxxopts::value<int>())(
      "remote-width",
      "width multiplier of the remote predictor's MobileNetV2 body (default: the preset's; "
      "fashion-mnist: 1); server work only, the device part is unchanged",
      cxxopts::value<double>())(
      "local-loss-weight",
      "B: adds B * CE(local logits alone) (default: the preset's; fashion-mnist: 0.5)",
      cxxopts::value<double>())("channel-remapping", "none | global_importance | topk_appearance",
                                cxxopts::value<std::string>()->default_value("none"))(
      "teacher",
      "distil from this trained model (an `agilenn train` output directory, e.g. an --unsplit "
      "run): the combined prediction's cross-entropy becomes (1 - beta) CE + beta KD",
      cxxopts::value<std::string>())(
      "distill-weight",
      "beta, the distillation share of the prediction loss, in (0, 1] (default: the preset's; "
      "0.5)",
      cxxopts::value<double>())("distill-temperature",
                                "softmax temperature of the distillation loss (> 0) (default: the "
                                "preset's; 4)",
                                cxxopts::value<double>())(
      "distill-remote-weight",
      "R: with --teacher, also adds R * KD(remote logits alone, teacher) (>= 0)",
      cxxopts::value<double>()->default_value("0"))("no-xai",
                                                    "control: no importance loss (lambda = 1)")(
      "unsplit", "control: extractor + remote predictor on all channels, no quantizer");
  add_recipe_flags(opts);
  auto r = opts.parse(argc, argv);
  if (handle_help(opts, r)) return 0;
  set_threads(r["threads"].as<int>());
  xai::Preset p = xai::get_preset(r["preset"].as<std::string>());
  const xai::TrainRecipe rec = recipe_from_flags(r, p.agile_train);

  xai::SplitConfig cfg = p.split;
  cfg.split_ratio = r["split-ratio"].as<double>();
  cfg.centroids = r["centroids"].as<int>();
  cfg.temperature = r["temperature"].as<double>();
  cfg.combiner = r["combiner"].as<std::string>();
  if (r.count("local-head")) cfg.local_head = r["local-head"].as<std::string>();
  if (r.count("extractor-hidden")) cfg.extractor_hidden = r["extractor-hidden"].as<int>();
  if (r.count("extractor-depth-multiplier"))
    cfg.extractor_depth_multiplier = r["extractor-depth-multiplier"].as<int>();
  if (r.count("remote-width")) {
    cfg.remote.width = r["remote-width"].as<double>();
    if (!(cfg.remote.width > 0 && cfg.remote.width <= 4))
      throw Error("--remote-width must be in (0, 4], got " + std::to_string(cfg.remote.width));
  }
  cfg.unsplit = r.count("unsplit") > 0;
  xai::AgileLossConfig lc = p.loss;
  lc.xai = !r.count("no-xai") && !cfg.unsplit;
  if (r.count("lambda")) lc.lambda = r["lambda"].as<double>();
  lc.rho = r["rho"].as<double>();
  lc.ig_steps = r["ig-steps"].as<int>();
  lc.method = parse_xai(r["xai"].as<std::string>());
  lc.disorder = parse_disorder(r["disorder"].as<std::string>());
  if (r.count("correct-only")) lc.correct_only = r["correct-only"].as<bool>();
  if (r.count("local-loss-weight")) lc.local_loss_weight = r["local-loss-weight"].as<double>();
  if (lc.lambda < 0 || lc.lambda > 1) throw Error("--lambda must be in [0, 1]");
  if (lc.rho <= 0 || lc.rho > 1) throw Error("--rho must be in (0, 1]");
  if (lc.ig_steps < 2) throw Error("--ig-steps must be >= 2");
  if (lc.local_loss_weight < 0) throw Error("--local-loss-weight must be >= 0");
  const std::string teacher_dir = r.count("teacher") ? r["teacher"].as<std::string>() : "";
  for (const char* f : {"distill-weight", "distill-temperature", "distill-remote-weight"})
    if (teacher_dir.empty() && r.count(f))
      throw Error(std::string("--") + f + " needs --teacher (the model to distil from)");
  if (r.count("distill-weight")) lc.distill_weight = r["distill-weight"].as<double>();
  if (teacher_dir.empty()) lc.distill_weight = 0;
  if (r.count("distill-temperature"))
    lc.distill_temperature = r["distill-temperature"].as<double>();
  if (!teacher_dir.empty() && !(lc.distill_weight > 0 && lc.distill_weight <= 1))
    throw Error("--distill-weight must be in (0, 1], got " + std::to_string(lc.distill_weight));
  lc.distill_remote_weight = teacher_dir.empty() ? 0.0 : r["distill-remote-weight"].as<double>();
  if (!(lc.distill_remote_weight >= 0))
    throw Error("--distill-remote-weight must be >= 0, got " +
                std::to_string(lc.distill_remote_weight));
  if (!(lc.distill_temperature > 0))
    throw Error("--distill-temperature must be > 0, got " + std::to_string(lc.distill_temperature));
  const auto remap = xai::parse_remapping(r["channel-remapping"].as<std::string>());
  cfg.validate("agilenn train");  // before any output or data loading; names the flags
  const std::string out = r["out"].as<std::string>();
  std::filesystem::create_directories(out);

  DataBundle d = load_data(p, r);
  cfg.num_classes = d.test.num_classes;
  data::Augmenter train_aug(d.augment, d.train.height, d.train.width, d.train.channels);
  data::Augmenter test_aug(d.augment, d.test.height, d.test.width, d.test.channels);

  // The reference network: required for the XAI loss and for the skewness statistics.
  xai::Reference ref;
  xai::ReferenceFn ref_body;
  const std::string ref_dir = r["reference"].as<std::string>();
  const bool need_ref = lc.xai || (!cfg.unsplit && std::filesystem::exists(ref_dir));
  if (need_ref) {
    ref = xai::load_reference(ref_dir);
    if (ref.feature_channels() != cfg.features)
      throw error_at(ref_dir, "reference stem outputs " + std::to_string(ref.feature_channels()) +
                                  " channels; the extractor outputs " +
                                  std::to_string(cfg.features));
    ref_body = ref.body();
  }
  // The teacher: frozen, fed the same (augmented, normalised) batches as the student.
  xai::AgileModelFile teacher;
  double teacher_accuracy = NAN;
  if (!teacher_dir.empty()) {
    teacher = xai::load_agile_model(teacher_dir);
    if (teacher.mean != d.augment.mean || teacher.std != d.augment.std)
      throw error_at(teacher.path,
                     "the teacher was trained with another input normalisation "
                     "(another data set?) than " +
                         d.train.name);
    const auto& tc = teacher.model->config();
    if (tc.height != cfg.height || tc.width != cfg.width || tc.in_channels != cfg.in_channels)
      throw error_at(teacher.path,
                     "the teacher takes " + std::to_string(tc.height) + "x" +
                         std::to_string(tc.width) + "x" + std::to_string(tc.in_channels) +
                         " inputs, the student " + std::to_string(cfg.height) + "x" +
                         std::to_string(cfg.width) + "x" + std::to_string(cfg.in_channels));
    if (teacher.model->config().num_classes != cfg.num_classes)
      throw error_at(teacher.path, "the teacher has " +
                                       std::to_string(teacher.model->config().num_classes) +
                                       " classes, the data set " + std::to_string(cfg.num_classes));
    teacher.model->eval();
    if (teacher.meta.contains("metrics") && teacher.meta["metrics"].contains("test_accuracy"))
      teacher_accuracy = teacher.meta.at("metrics").at("test_accuracy").as_number();
    std::printf("teacher %s (test accuracy %.4f): distillation weight %g, temperature %g\n",
                teacher.path.c_str(), teacher_accuracy, lc.distill_weight, lc.distill_temperature);
  }
  const uint64_t seed = r["seed"].as<uint64_t>();
  ag::Rng rng(seed);
  auto model = std::make_shared<xai::SplitModel>(cfg, rng);
  Tensor x1 = Tensor::zeros(ag::Shape{1, p.height, p.width, p.channels});
  ag::Shape fshape;
  int64_t device_macs = 0, remote_macs = 0;
  {
    ag::NoGradGuard ng;
    model->eval();
    ag::MacCounter all;
    Tensor f;
    {
      ag::MacCounter ex;
      f = model->extract(x1);
      if (!cfg.unsplit) model->local_predict(f);
      device_macs = ex.macs();
    }
    {
      ag::MacCounter rm;
      model->remote_predict(f);
      remote_macs = rm.macs();
    }
    fshape = f.shape();
    model->train();
  }
  Tensor g0;
  if (need_ref)
    g0 = xai::baseline_gradients(ref_body, ag::Shape{fshape[1], fshape[2], fshape[3]},
                                 cfg.num_classes, ag::DType::F32);
  const char* kind = cfg.unsplit ? "unsplit" : (lc.xai ? "agilenn" : "no-xai");
  std::printf(
      "train (%s): k = %d of %d channels, feature map %s, device %lld MACs/image, remote %lld "
      "MACs/image\n",
      kind, cfg.k(), cfg.features, fshape.str().c_str(), (long long)device_macs,
      (long long)remote_macs);

  const bool resume = r.count("resume") > 0;
  if (remap != xai::Remapping::None && !cfg.unsplit && !resume) {
    if (!need_ref) throw Error("--channel-remapping needs --reference");
    data::LoaderOptions lo;
    lo.batch_size = 256;
    lo.shuffle = true;
    lo.train = false;
    lo.seed = seed;
    data::BatchLoader cal(d.train, test_aug, lo);
    cal.start_epoch(0);
    std::vector<Tensor> imps;
    data::Batch b;
    model->eval();
    for (int i = 0; i < 8 && cal.next(b); ++i) {
      Tensor f;
      {
        ag::NoGradGuard ng;
        f = model->extract(nn::batch_images(b));
      }
      auto imp = xai::feature_importance(ref_body, f, nn::batch_labels(b), g0, lc.method,
                                         lc.ig_steps, false);
      imps.push_back(xai::channel_importance(imp.importance).detach());
    }
    model->train();
    auto perm = xai::rank_channels(imps, cfg.k(), remap);
    xai::permute_extractor_outputs(*model, perm);
    std::printf("channel remapping (%s): first channels now",
                r["channel-remapping"].as<std::string>().c_str());
    for (int i = 0; i < cfg.k(); ++i) std::printf(" %d", perm[size_t(i)]);
    std::printf("\n");
  }

  nn::SGDW opt(model->named_parameters(), rec.momentum, rec.weight_decay);
  nn::FitConfig fc;
  fc.label = std::string("train ") + kind;
  fc.out_dir = out;
  fc.epochs = rec.epochs;
  fc.batch_size = size_t(rec.batch_size);
  fc.lr = rec.lr;
  fc.warmup_epochs = rec.warmup_epochs;
  fc.seed = seed;
  fc.resume = resume;
  fc.stop_after_epoch = r["stop-after-epoch"].as<int>();
  if (lc.xai) fc.extra_columns = {"skewness", "skew_loss", "disorder_loss"};
  if (teacher.model) fc.extra_columns.push_back("distill");
  nn::FitHooks h;
  h.step = [&](const Tensor& x, const Tensor& y, double lr) {
    Tensor teacher_logits;
    if (teacher.model) {
      ag::NoGradGuard ng;
      teacher_logits = teacher.model->run(x).logits;
    }
    auto res = xai::agile_loss(*model, ref_body, g0, x, y, lc, teacher_logits);
    opt.zero_grad();
    res.loss.backward();
    opt.step(lr);
    nn::StepResult s;
    s.loss = res.loss.item();
    s.correct = res.correct;
    if (lc.xai)
      s.extra = {{"skewness", res.skewness},
                 {"skew_loss", res.skew_loss},
                 {"disorder_loss", res.disorder_loss}};
    if (teacher.model) s.extra["distill"] = res.distill;
    return s;
  };
  h.eval_columns = {"test_accuracy", "local_accuracy", "remote_accuracy"};
  h.evaluate = [&] {
    auto e = xai::evaluate_split_model(*model, nullptr, Tensor(), d.test, test_aug, lc.rho);
    return std::map<std::string, double>{{"test_accuracy", e.accuracy},
                                         {"local_accuracy", e.local_accuracy},
                                         {"remote_accuracy", e.remote_accuracy}};
  };
  nn::use_model_checkpoint(h, *model, opt, out);
  nn::FitSummary s = nn::fit(fc, d.train, train_aug, h);
  if (s.interrupted) {
    std::printf("stopped after epoch %d as asked; continue with --resume\n", fc.stop_after_epoch);
    return 0;
  }

  auto e = xai::evaluate_split_model(*model, ref_body, g0, d.test, test_aug, lc.rho, NAN, lc.method,
                                     lc.ig_steps);
  Json meta;
  meta["preset"] = p.name;
  meta["dataset"] = d.test.name;
  meta["control"] = kind;
  meta["input"] = Json::Array{Json(p.height), Json(p.width), Json(p.channels)};
  meta["feature_shape"] = Json::Array{Json(fshape[1]), Json(fshape[2]), Json(fshape[3])};
  meta["metrics"] = eval_json(e);
  xai::save_agile_model(out + "/model.safetensors", *model, meta, d.augment.mean, d.augment.std);

  Json sum = eval_json(e);
  sum["kind"] = kind;
  sum["preset"] = p.name;
  sum["dataset"] = d.test.name;
  sum["k"] = cfg.k();
  sum["features"] = cfg.features;
  sum["centroids"] = cfg.unsplit ? 0 : cfg.centroids;
  sum["local_head"] = cfg.unsplit ? "none" : cfg.local_head;
  sum["extractor_hidden"] = cfg.extractor_hidden;
  sum["extractor_depth_multiplier"] = cfg.extractor_depth_multiplier;
  sum["remote_width"] = cfg.remote.width;
  sum["local_loss_weight"] = lc.local_loss_weight;
  if (teacher.model) {
    sum["teacher"] = teacher.path;
    sum["teacher_test_accuracy"] = teacher_accuracy;
  }
  sum["distill_weight"] = lc.distill_weight;
  sum["distill_temperature"] = lc.distill_temperature;
  sum["distill_remote_weight"] = lc.distill_remote_weight;
  sum["lambda"] = lc.xai ? lc.lambda : 1.0;
  sum["correct_only"] = lc.xai && lc.correct_only;
  sum["rho"] = lc.rho;
  sum["ig_steps"] = lc.ig_steps;
  sum["xai"] = r["xai"].as<std::string>();
  sum["disorder"] = r["disorder"].as<std::string>();
  sum["channel_remapping"] = r["channel-remapping"].as<std::string>();
  sum["epochs"] = rec.epochs;
  sum["train_seconds"] = s.train_seconds;
  sum["device_macs_per_image"] = device_macs;
  sum["remote_macs_per_image"] = remote_macs;
  sum["parameters"] = model->num_parameters();
  sum["recipe"] = rec.to_json();
  nn::write_json(out + "/summary.json", sum);
  nn::plot_csv(out + "/log.csv", out + "/curves.png", std::string("AgileNN ") + kind, 1,
               {{3, "train accuracy"}, {int(7 + fc.extra_columns.size()), "test accuracy"}});
  if (cfg.unsplit)  // no local predictor, quantizer or importance: nothing else to print
    std::printf("train (%s): test accuracy %.4f, %.1f s\n", kind, e.accuracy, s.train_seconds);
  else
    std::printf(
        "train (%s): test accuracy %.4f (local %.4f, remote %.4f), skewness %.4f, alpha %.3f, "
        "%.1f s\n",
        kind, e.accuracy, e.local_accuracy, e.remote_accuracy, e.skewness, e.alpha,
        s.train_seconds);
  return 0;
}

CommandRegistrar reg("train", "Train the AgileNN split model (--no-xai / --unsplit: the controls)",
                     run);

}  // namespace
}  // namespace agilenn::cli
