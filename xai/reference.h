// The reference network ("evaluator"): a MobileNetV2 with a stem whose output has the feature
// width, trained on the data set (agilenn train-reference), then frozen. AgileNN uses its
// stem-less body on the extractor's features to compute feature importance.
#pragma once
#include <memory>
#include <string>

#include "nn/checkpoint.h"
#include "nn/mobilenet_v2.h"
#include "xai/importance.h"

namespace agilenn::xai {

struct Reference {
  std::shared_ptr<nn::MobileNetV2> net;  // eval mode, parameters frozen (no gradients)
  Json meta;
  ReferenceFn body() const;  // features (N,H,W,F) -> logits
  int feature_channels() const { return net->stem_out_channels(); }
};

// Loads DIR/reference.safetensors (or a file path) and freezes it.
Reference load_reference(const std::string& dir_or_file);
nn::Checkpoint reference_checkpoint(const nn::MobileNetV2& net, const Json& meta);

}  // namespace agilenn::xai
