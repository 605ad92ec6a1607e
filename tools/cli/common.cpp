#include "tools/cli/common.h"

#include <cblas.h>

#include <cstdio>
#include <thread>

#include "autograd/parallel.h"
#include "nn/io/error.h"
#include "nn/training.h"

namespace agilenn::cli {

void add_common_flags(cxxopts::Options& opts) {
  opts.add_options()("preset", "fashion-mnist | fashion-mnist-long | cifar | tiny",
                     cxxopts::value<std::string>()->default_value("fashion-mnist"))(
      "dataset",
      "fashion-mnist | mnist | cifar10 | cifar100 | image-folder (default: the preset's)",
      cxxopts::value<std::string>())("data-dir", "data set directory (default: the installed one)",
                                     cxxopts::value<std::string>()->default_value(""))(
      "threads", "worker threads (0 = all cores)", cxxopts::value<int>()->default_value("0"))(
      "seed", "random seed", cxxopts::value<uint64_t>()->default_value("1"))(
      "limit-train", "use only the first N training images (0 = all; default: the preset's)",
      cxxopts::value<size_t>())("limit-test",
                                "use only the first N test images (0 = all; default: the preset's)",
                                cxxopts::value<size_t>())(
      "augment-pad", "training augmentation: pad + random crop of N pixels (default: the preset's)",
      cxxopts::value<int>())("no-flip", "training augmentation: no random horizontal flip")(
      "h,help", "show this help");
}

void set_threads(int threads) {
  if (threads < 0) throw Error("--threads must be >= 0, got " + std::to_string(threads));
  const int n = threads == 0 ? int(std::max(1u, std::thread::hardware_concurrency())) : threads;
  ag::set_num_threads(n);
}

DataBundle load_data(const xai::Preset& p, const cxxopts::ParseResult& r, bool need_train) {
  DataBundle d;
  const std::string name = flag_or<std::string>(r, "dataset", p.dataset);
  const std::string dir = r["data-dir"].as<std::string>();
  if (need_train) d.train = data::load_dataset(name, dir, data::Split::Train);
  d.test = data::load_dataset(name, dir, data::Split::Test);
  nn::limit_dataset(d.train, flag_or<size_t>(r, "limit-train", p.reference_train.limit_train));
  nn::limit_dataset(d.test, flag_or<size_t>(r, "limit-test", p.reference_train.limit_test));
  if (d.test.channels != p.channels)
    throw Error("--dataset " + name + " has " + std::to_string(d.test.channels) +
                " channels; preset " + p.name + " expects " + std::to_string(p.channels));
  d.augment = p.augment;
  d.augment.pad = flag_or(r, "augment-pad", d.augment.pad);
  if (d.augment.pad < 0) throw Error("--augment-pad must be >= 0");
  if (r.count("no-flip")) d.augment.horizontal_flip = false;
  d.augment.out_height = p.height;
  d.augment.out_width = p.width;
  return d;
}

void add_recipe_flags(cxxopts::Options& opts) {
  opts.add_options()("epochs", "epochs (default: the preset's)", cxxopts::value<int>())(
      "batch-size", "batch size (default: the preset's)", cxxopts::value<int>())(
      "lr", "peak learning rate of the cosine schedule (default: the preset's)",
      cxxopts::value<double>())("resume", "continue from OUT/checkpoint.safetensors")(
      "stop-after-epoch", "end this run after epoch N, as if interrupted (resume with --resume)",
      cxxopts::value<int>()->default_value("0"));
}

xai::TrainRecipe recipe_from_flags(const cxxopts::ParseResult& r, xai::TrainRecipe rec) {
  rec.epochs = flag_or(r, "epochs", rec.epochs);
  rec.batch_size = flag_or(r, "batch-size", rec.batch_size);
  rec.lr = flag_or(r, "lr", rec.lr);
  if (rec.epochs < 1) throw Error("--epochs must be >= 1");
  if (rec.batch_size < 2) throw Error("--batch-size must be >= 2");
  if (!(rec.lr > 0)) throw Error("--lr must be > 0");
  if (r["stop-after-epoch"].as<int>() < 0) throw Error("--stop-after-epoch must be >= 0");
  return rec;
}

bool handle_help(const cxxopts::Options& opts, const cxxopts::ParseResult& r) {
  if (!r.count("help")) return false;
  std::puts(opts.help().c_str());
  return true;
}

}  // namespace agilenn::cli
