// The AgileNN split model:
//   extractor:  SeparableConv(3x3, 4, stride s) -> BN -> ReLU6 -> SeparableConv(3x3, F) -> BN ->
//   ReLU6 split:      the first k = round(split_ratio F) channels are local, the rest remote local
//   head: GAP (the paper's) or grid:G average pooling -> dense -> BN   (device) quantizer:
//   soft-to-hard, C centroids, on the remote channels            (link) remote:     stem-less
//   MobileNetV2 on the F - k remote channels            (server) combiner:   alpha local + (1 -
//   alpha) remote, alpha = sigmoid(w / T) learned; or the plain sum
// `unsplit` (the control): the remote predictor on all F channels, no quantizer, no local head.
#pragma once
#include <cmath>
#include <limits>

#include "nn/batch_norm.h"
#include "nn/conv.h"
#include "nn/layers.h"
#include "nn/mobilenet_v2.h"
#include "xai/quantizer.h"

namespace agilenn::xai {

struct SplitConfig {
  int height = 28, width = 28, in_channels = 1;
  int num_classes = 10;
  int extractor_hidden = 4;  // the first separable conv's width
  // Keras's depth_multiplier of the first separable conv's depthwise: with a 1-channel image and
  // stride 2, 1 keeps a single 14x14 plane (a 4x bottleneck); 4 keeps as many values as pixels.
  int extractor_depth_multiplier = 1;
  int features = 24;  // F
  int stride = 2;
  double split_ratio = 0.2;
  int centroids = 8;
  std::string local_head = "grid:2";  // "gap" | "grid:G"
  std::string combiner = "learned";   // "learned" | "sum"
  double temperature = 6.0;
  bool unsplit = false;
  nn::MobileNetV2Config remote;  // in_channels / stem / num_classes are set from the above

  int k() const { return unsplit ? features : int(std::lround(split_ratio * features)); }
  int grid() const;  // 0 for gap
  Json to_json() const;
  static SplitConfig from_json(const Json& j, const std::string& where);
  void validate(const std::string& where) const;
};

struct SplitOutputs {
  Tensor features;      // extractor output (N, H', W', F)
  Tensor local_logits;  // undefined when unsplit
  Tensor remote_logits;
  Tensor logits;  // combined
  Tensor alpha;   // scalar, undefined for the sum combiner / unsplit
};

class SplitModel : public nn::Module {
 public:
  SplitModel(const SplitConfig& cfg, ag::Rng& rng);
  Tensor forward(const Tensor& x) override { return run(x).logits; }
  // alpha_override in [0, 1] replaces the learned alpha (evaluation); NaN keeps it.
  SplitOutputs run(const Tensor& x,
                   double alpha_override = std::numeric_limits<double>::quiet_NaN());
  Tensor extract(const Tensor& x);
  Tensor local_predict(const Tensor& features);   // from the full feature map
  Tensor remote_predict(const Tensor& features);  // quantizes the remote channels first
  Tensor alpha() const;
  const SplitConfig& config() const { return cfg_; }

  std::shared_ptr<nn::Sequential> extractor, local_head;
  std::shared_ptr<Quantizer> quantizer;
  std::shared_ptr<nn::MobileNetV2> remote;
  Tensor alpha_w;

 private:
  SplitConfig cfg_;
};

}  // namespace agilenn::xai
