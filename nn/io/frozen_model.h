// A plain description of the exported device model (no autograd): input normalisation, the
// extractor's float layers, the split, the local predictor and the quantizer's centroids.
// mcu/ reads it; nn/ will write it from a checkpoint. Layouts are NHWC / HWIO:
//   depthwise weight (KH, KW, C, mult), conv weight (KH, KW, Cin, Cout), dense weight (in, out).
// The dense layer's input is the pooled G x G x k map flattened in NHWC order: (gy*G + gx)*k + c.
#pragma once
#include <cstdint>
#include <random>
#include <span>
#include <string>
#include <vector>

namespace agilenn {

enum class FrozenLayerKind { DepthwiseConv, Conv, BatchNorm, Relu6, GridAvgPool, Dense };
const char* frozen_layer_kind_name(FrozenLayerKind kind);

struct FrozenLayer {
  FrozenLayerKind kind = FrozenLayerKind::Conv;
  // DepthwiseConv / Conv: 'same' output size ceil(in / stride); zero padding pad_top/pad_left
  // before (the padding after is implied). No bias unless `bias` is non-empty.
  int kh = 1, kw = 1, stride = 1, pad_top = 0, pad_left = 0;
  int cin = 0, cout = 0;  // Conv/Dense: in/out channels; DepthwiseConv: cin = C, cout = C*mult
  int mult = 1;           // DepthwiseConv channel multiplier
  std::vector<float> weight;
  std::vector<float> bias;  // empty or cout values
  // BatchNorm (2-D over channels, or 1-D over dense outputs): y = gamma*(x-mean)/sqrt(var+eps)+beta
  std::vector<float> gamma, beta, running_mean, running_var;
  float eps = 1e-3f;
  int grid = 1;  // GridAvgPool: G x G cells (G = 1 is global average pooling)
};

struct FrozenModel {
  int in_h = 28, in_w = 28, in_c = 1;
  // The network input is x_c = (pixel / 255 - mean_c) / std_c for uint8 pixels.
  std::vector<float> input_mean{0.f}, input_std{1.f};
  std::vector<FrozenLayer> extractor;   // conv/BN/ReLU6 layers producing the feature map
  int split_k = 5;                      // first split_k channels are local, the rest remote
  std::vector<FrozenLayer> local_head;  // GridAvgPool -> Dense -> (BatchNorm)
  std::vector<float> centroids;         // quantizer centroids for the remote channels
  int num_classes = 10;

  // Shape of the extractor output; throws agilenn::Error naming the layer if the chain is invalid.
  struct Shape {
    int h, w, c;
  };
  Shape feature_shape() const;
  // Full consistency check (weights sizes, split, head input size); throws agilenn::Error.
  void validate() const;
};

// TF-style 'same' padding before the input for one axis: (pad_total / 2).
int same_pad_before(int in, int kernel, int stride);

// Random model with the AgileNN device architecture (see mcu/README.md):
// SepConv(3x3 dw stride s, pw -> 4) -> BN -> ReLU6 -> SepConv(3x3 dw, pw -> channels) -> BN ->
// ReLU6, a grid:G local head and `num_centroids` centroids in [0, 6].
struct RandomModelOptions {
  int in_h = 28, in_w = 28, in_c = 1, stride = 2, mid_channels = 4, channels = 24;
  int split_k = 5, grid = 4, num_classes = 10, num_centroids = 8;
};
FrozenModel random_frozen_model(const RandomModelOptions& options, uint64_t seed);

// Float reference forward of one image (plain loops).
struct FloatForward {
  std::vector<float> features;      // (H, W, C) extractor output
  std::vector<float> local_logits;  // (num_classes)
  std::vector<uint8_t> indices;     // (H, W, C - k) nearest-centroid index of each remote value
};
FloatForward float_forward(const FrozenModel& model, std::span<const uint8_t> image);

// Nearest centroid of v, ties to the lower index (the quantizer's forward rule).
int nearest_centroid(std::span<const float> centroids, double v);

// Single-layer float ops (NHWC), exposed for tests and for mcu/'s calibration.
// `h,w,c` are the input dims; returns the output, its dims in *oh, *ow, *oc.
std::vector<float> apply_frozen_layer(const FrozenLayer& layer, const std::vector<float>& x, int h,
                                      int w, int c, int* oh, int* ow, int* oc);

}  // namespace agilenn
