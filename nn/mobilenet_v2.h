// MobileNetV2 (Sandler et al. 2018) in the Keras layout, with a (t, c, n, s) config table, a width
// multiplier, and an optional stem: without it the network takes a feature map (AgileNN's remote
// predictor on the remote channels, and the reference network's body on the 24-channel features).
#pragma once
#include <array>
#include <vector>

#include "nn/batch_norm.h"
#include "nn/conv.h"
#include "nn/io/json.h"
#include "nn/layers.h"

namespace agilenn::nn {

// Expand 1x1 (when t > 1) -> BN -> ReLU6 -> depthwise 3x3 (stride) -> BN -> ReLU6 -> project 1x1 ->
// BN, plus the input when stride == 1 and in == out.
class InvertedResidual : public Module {
 public:
  InvertedResidual(int in, int out, int stride, int expand, ag::Rng& rng);
  Tensor forward(const Tensor& x) override;
  void fold_batch_norm();
  bool residual;

 private:
  std::shared_ptr<Sequential> block_;
};

struct MobileNetV2Config {
  int in_channels = 3;  // image channels with a stem; feature channels without
  bool stem = true;
  int stem_channels = 32;  // before the width multiplier (the reference net uses 24, unscaled)
  bool scale_stem = true;
  int stem_stride = 2;
  std::vector<std::array<int, 4>> blocks = {{1, 16, 1, 1}, {6, 24, 2, 2}, {6, 32, 3, 2},
                                            {6, 64, 4, 2}, {6, 96, 3, 1}, {6, 160, 3, 2},
                                            {6, 320, 1, 1}};  // (t, c, n, s)
  double width = 1.0;
  int last_channels = 1280;
  int num_classes = 10;
  double dropout = 0.0;

  Json to_json() const;
  static MobileNetV2Config from_json(const Json& j, const std::string& where);
};

int make_divisible(double v, int divisor = 8);

// Folds each BatchNorm that follows a Conv2d in `seq` into that conv (eval-mode statistics).
void fold_batch_norm(Sequential& seq);

class MobileNetV2 : public Module {
 public:
  MobileNetV2(const MobileNetV2Config& cfg, ag::Rng& rng);
  Tensor forward(const Tensor& x) override;  // logits
  Tensor forward_body(const Tensor& x);      // from after the stem
  Tensor forward_stem(const Tensor& x);
  const MobileNetV2Config& config() const { return cfg_; }
  // Frozen inference only: folds every batch norm into the conv before it (the state dict changes).
  void fold_batch_norm();
  int stem_out_channels() const { return stem_out_; }

  std::shared_ptr<Sequential> stem, body;

 private:
  MobileNetV2Config cfg_;
  int stem_out_ = 0;
};

}  // namespace agilenn::nn
