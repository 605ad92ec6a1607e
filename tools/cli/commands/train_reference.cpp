// agilenn train-reference: train the reference network (MobileNetV2 whose stem outputs the feature
// width) and save it for AgileNN's XAI step.
#include <cstdio>
#include <filesystem>

#include "autograd/graph.h"
#include "nn/fit.h"
#include "nn/io/error.h"
#include "nn/optimizer.h"
#include "tools/cli/command.h"
#include "tools/cli/common.h"
#include "xai/reference.h"

namespace agilenn::cli {
namespace {

using ag::Tensor;

int run(int argc, char** argv) {
  cxxopts::Options opts(argv[0], "Train the reference network used for feature importance.");
  add_common_flags(opts);
  opts.add_options()("out", "output directory",
                     cxxopts::value<std::string>()->default_value("runs/ref"));
  add_recipe_flags(opts);
  auto r = opts.parse(argc, argv);
  if (handle_help(opts, r)) return 0;
  set_threads(r["threads"].as<int>());
  xai::Preset p = xai::get_preset(r["preset"].as<std::string>());
  const xai::TrainRecipe rec = recipe_from_flags(r, p.reference_train);
  const std::string out = r["out"].as<std::string>();
  std::filesystem::create_directories(out);

  DataBundle d = load_data(p, r);
  data::Augmenter train_aug(d.augment, d.train.height, d.train.width, d.train.channels);
  data::AugmentOptions test_opt = d.augment;
  data::Augmenter test_aug(test_opt, d.test.height, d.test.width, d.test.channels);
  nn::MobileNetV2Config cfg = p.reference;
  cfg.num_classes = d.test.num_classes;
  const uint64_t seed = r["seed"].as<uint64_t>();
  ag::Rng rng(seed);
  auto net = std::make_shared<nn::MobileNetV2>(cfg, rng);
  int64_t macs = 0;
  {
    ag::MacCounter mc;
    ag::NoGradGuard ng;
    net->eval();
    net->forward(Tensor::zeros(ag::Shape{1, p.height, p.width, p.channels}));
    net->train();
    macs = mc.macs();
  }
  std::printf("reference: MobileNetV2, %lld parameters, %lld MACs/image, %zu training images\n",
              (long long)net->num_parameters(), (long long)macs, d.train.size());
  nn::SGDW opt(net->named_parameters(), rec.momentum, rec.weight_decay);

  nn::FitConfig fc;
  fc.label = "reference";
  fc.out_dir = out;
  fc.epochs = rec.epochs;
  fc.batch_size = size_t(rec.batch_size);
  fc.lr = rec.lr;
  fc.warmup_epochs = rec.warmup_epochs;
  fc.seed = seed;
  fc.resume = r.count("resume") > 0;
  fc.stop_after_epoch = r["stop-after-epoch"].as<int>();
  nn::FitHooks h;
  h.step = [&](const Tensor& x, const Tensor& y, double lr) {
    Tensor logits = net->forward(x);
    Tensor loss = ag::cross_entropy(logits, y);
    opt.zero_grad();
    loss.backward();
    opt.step(lr);
    nn::StepResult s;
    s.loss = loss.item();
    Tensor pred = ag::argmax_last(logits.detach());
    for (int64_t i = 0; i < y.numel(); ++i)
      s.correct += pred.data<int32_t>()[i] == y.data<int32_t>()[i];
    return s;
  };
  h.eval_columns = {"test_accuracy"};
  h.evaluate = [&] {
    net->eval();
    auto e = nn::evaluate([&](const Tensor& x) { return net->forward(x); }, d.test, test_aug, 256,
                          "test");
    net->train();
    return std::map<std::string, double>{{"test_accuracy", e.accuracy}};
  };
  nn::use_model_checkpoint(h, *net, opt, out);
  nn::FitSummary s = nn::fit(fc, d.train, train_aug, h);
  if (s.interrupted) {
    std::printf("stopped after epoch %d as asked; continue with --resume\n", fc.stop_after_epoch);
    return 0;
  }

  net->eval();
  auto final_eval =
      nn::evaluate([&](const Tensor& x) { return net->forward(x); }, d.test, test_aug, 256, "test");
  Json meta;
  meta["preset"] = p.name;
  meta["dataset"] = d.test.name;
  meta["input"] = Json::Array{Json(p.height), Json(p.width), Json(p.channels)};
  meta["test_accuracy"] = final_eval.accuracy;
  xai::reference_checkpoint(*net, meta);
  nn::save_checkpoint(out + "/reference.safetensors", xai::reference_checkpoint(*net, meta));

  Json sum;
  sum["kind"] = "reference";
  sum["preset"] = p.name;
  sum["dataset"] = d.test.name;
  sum["test_accuracy"] = final_eval.accuracy;
  sum["epochs"] = rec.epochs;
  sum["train_seconds"] = s.train_seconds;
  sum["parameters"] = net->num_parameters();
  sum["macs_per_image"] = macs;
  sum["train_images"] = uint64_t(d.train.size());
  sum["test_images"] = uint64_t(d.test.size());
  sum["recipe"] = rec.to_json();
  sum["images_per_s"] = s.last.count("images_per_s") ? s.last["images_per_s"] : 0.0;
  nn::write_json(out + "/summary.json", sum);
  nn::plot_csv(out + "/log.csv", out + "/curves.png", "reference network", 1,
               {{3, "train accuracy"}, {7, "test accuracy"}});
  std::printf(
      "reference: test accuracy %.4f after %d epochs, %.1f s; wrote %s/reference.safetensors\n",
      final_eval.accuracy, rec.epochs, s.train_seconds, out.c_str());
  return 0;
}

CommandRegistrar reg("train-reference", "Train the reference network (the XAI evaluator)", run);

}  // namespace
}  // namespace agilenn::cli
