// Named presets: the data set, preprocessing, model sizes and training recipes that go together.
//   fashion-mnist (default): sized for a 2-core machine (the main job's 30-minute budget)
//   cifar:  the public AgileNN code's sizes (96x96 input, extractor stride 3, full MobileNetV2
//   body) tiny:   a few hundred images and small widths, for CI smoke runs
#pragma once
#include <string>
#include <vector>

#include "nn/data/augment.h"
#include "nn/mobilenet_v2.h"
#include "xai/agile_loss.h"
#include "xai/split_model.h"

namespace agilenn::xai {

struct TrainRecipe {
  int epochs = 10;
  int batch_size = 64;
  double lr = 0.05;
  double momentum = 0.9;
  double weight_decay = 5e-4;
  int warmup_epochs = 1;
  size_t limit_train = 0, limit_test = 0;  // 0 = the whole split
  Json to_json() const;
};

struct Preset {
  std::string name, dataset;
  int height = 28, width = 28, channels = 1;  // model input (after resize)
  data::AugmentOptions augment;
  nn::MobileNetV2Config reference;  // with its stem (24 output channels)
  TrainRecipe reference_train;
  SplitConfig split;
  TrainRecipe agile_train;
  AgileLossConfig loss;
};

Preset get_preset(const std::string& name);  // throws naming --preset
const std::vector<std::string>& preset_names();

}  // namespace agilenn::xai
