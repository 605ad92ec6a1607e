#include "xai/preset.h"

#include "nn/io/error.h"

namespace agilenn::xai {

Json TrainRecipe::to_json() const {
  Json j;
  j["epochs"] = epochs;
  j["batch_size"] = batch_size;
  j["lr"] = lr;
  j["momentum"] = momentum;
  j["weight_decay"] = weight_decay;
  j["warmup_epochs"] = warmup_epochs;
  j["limit_train"] = uint64_t(limit_train);
  j["limit_test"] = uint64_t(limit_test);
  return j;
}

const std::vector<std::string>& preset_names() {
  static const std::vector<std::string> n = {"fashion-mnist", "fashion-mnist-long", "cifar",
                                             "tiny"};
  return n;
}

namespace {
// MobileNetV2 body sized for 14x14 feature maps (Fashion-MNIST after the stride-2 stem/extractor).
std::vector<std::array<int, 4>> small_body() {
  return {{1, 16, 1, 1}, {4, 24, 2, 2}, {4, 32, 2, 1}, {4, 64, 2, 2}, {4, 96, 1, 1}};
}
}  // namespace

Preset get_preset(const std::string& name) {
  Preset p;
  p.name = name;
  if (name == "fashion-mnist" || name == "fashion-mnist-long" || name == "tiny") {
    p.dataset = "fashion-mnist";
    p.height = p.width = 28;
    p.channels = 1;
    p.augment.pad = 0;  // flip only: crops slowed convergence within the main job's epochs
    p.augment.horizontal_flip = true;
    p.augment.mean = {0.2860f};
    p.augment.std = {0.3530f};
    p.reference.in_channels = 1;
    p.reference.stem_channels = 24;
    p.reference.scale_stem = false;
    p.reference.stem_stride = 2;
    p.reference.blocks = small_body();
    p.reference.last_channels = 256;
    p.reference.num_classes = 10;
    // Sized for the 30-minute main job on 2 cores (see README): quiet-machine estimates are
    // ~4.5 minutes for the reference, ~13 for AgileNN and ~6 for the unsplit control (the no-XAI
    // control, ~7 more, runs with tools/main_job.sh --with-no-xai).
    p.reference_train.epochs = 12;
    p.reference_train.lr = 0.1;
    p.split.height = p.split.width = 28;
    p.split.in_channels = 1;
    p.split.stride = 2;
    p.split.remote.blocks = small_body();
    p.split.remote.last_channels = 256;
    // 16 epochs, not 12: measured (README), 12 left AgileNN 1.22 points below the unsplit
    // control and 16 0.46 (90.97% vs 91.43%); the split model with its importance, local and
    // quantizer terms converges more slowly than the unsplit network.
    p.agile_train.epochs = 16;
    p.agile_train.lr = 0.1;
    // The grid head keeps where the local features are; B trains it to work alone too (the
    // device's fallback): see the local-head study in the README.
    p.split.local_head = "grid:4";
    p.loss.local_loss_weight = 0.5;
    // lambda 0.9 rather than the public code's 0.8, and the importance losses on the samples the
    // reference classifies correctly (the paper's choice): measured at this budget (README), 0.8
    // gave 89.83% combined / skewness 0.888, 0.9 90.17% / 0.860, 0.9 correct-only 90.71% / 0.808.
    p.loss.lambda = 0.9;
    p.loss.correct_only = true;
    if (name == "fashion-mnist-long") {
      // For bigger budgets, the recipe that reached >= 92.5% combined (README): 40 epochs, the
      // wider extractor (4 planes from the first depthwise, 8-wide separable conv), and, with
      // `agilenn train --teacher` (tools/main_job.sh --distill), distillation from the unsplit
      // control (weight 0.5, temperature 4). Distillation pulls importance out of the local
      // channels, so lambda is 0.8 here: at 16 epochs 0.9 left skewness 0.67, 0.8 0.76. The
      // reference stays at 12 epochs, as in every measured long run.
      p.agile_train.epochs = 40;
      p.split.extractor_depth_multiplier = 4;
      p.split.extractor_hidden = 8;
      p.loss.lambda = 0.8;
      p.loss.distill_weight = 0.5;
      p.loss.distill_temperature = 4;
    }
    if (name == "tiny") {
      p.reference.blocks = {{1, 8, 1, 1}, {2, 16, 1, 2}};
      p.reference.last_channels = 32;
      p.split.remote.blocks = p.reference.blocks;
      p.split.remote.last_channels = 32;
      for (TrainRecipe* r : {&p.reference_train, &p.agile_train}) {
        r->epochs = 2;
        r->batch_size = 32;
        r->warmup_epochs = 0;
        r->limit_train = 512;
        r->limit_test = 256;
      }
    }
  } else if (name == "cifar") {
    p.dataset = "cifar10";
    p.height = p.width = 96;  // CIFAR upscaled, as the public code
    p.channels = 3;
    p.augment.pad = 4;
    p.augment.horizontal_flip = true;
    p.augment.out_height = p.augment.out_width = 96;
    p.augment.mean = {0.4914f, 0.4822f, 0.4465f};
    p.augment.std = {0.2470f, 0.2435f, 0.2616f};
    p.reference.in_channels = 3;
    p.reference.stem_channels = 24;
    p.reference.scale_stem = false;
    p.reference.stem_stride = 3;
    p.reference.num_classes = 10;  // default MobileNetV2 blocks and last_channels
    p.reference_train.epochs = 200;
    p.reference_train.batch_size = 128;
    p.reference_train.lr = 0.1;
    p.split.height = p.split.width = 96;
    p.split.in_channels = 3;
    p.split.stride = 3;
    p.agile_train = p.reference_train;
  } else {
    throw Error("--preset must be one of fashion-mnist, fashion-mnist-long, cifar, tiny; got '" +
                name + "'");
  }
  p.split.num_classes = p.reference.num_classes;
  return p;
}

}  // namespace agilenn::xai
