// The device half of AgileNN behind an interface, so the client can run either the float model
// or (once the trained model's int8 export is wired) the fixed-point reference the MCU runs.
// Both produce, per image: the local logits and the remote channels' centroid indices (H x W x R,
// NHWC, in the order of the *sorted* centroids the codec and the packet use).
#pragma once
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "codec/quantize.h"
#include "codec/stream.h"
#include "xai/agile_model_file.h"

namespace agilenn::runtime {

struct DeviceOutput {
  std::vector<float> local_logits;  // num_classes
  std::vector<uint8_t> indices;     // H x W x R
};

class DeviceComputation {
 public:
  virtual ~DeviceComputation() = default;
  virtual std::string name() const = 0;  // says which path runs ("float", "int8-reference")
  virtual int num_classes() const = 0;
  virtual codec::StreamShape stream_shape() const = 0;
  // images: n raw uint8 images of the data set's shape, back to back.
  virtual std::vector<DeviceOutput> run(std::span<const uint8_t> images, size_t n) = 0;
};

// The float path: extractor + local head + nearest sorted centroid, from the trained model.
// Input preprocessing = the model's evaluation transform (resize to the model's input, the
// stored normalisation).
class FloatDevice : public DeviceComputation {
 public:
  FloatDevice(std::shared_ptr<xai::AgileModelFile> model, int in_h, int in_w, int in_c);
  std::string name() const override { return "float"; }
  int num_classes() const override;
  codec::StreamShape stream_shape() const override { return shape_; }
  std::vector<DeviceOutput> run(std::span<const uint8_t> images, size_t n) override;
  // Also returns the extractor's full feature maps (n x H x W x F floats) when `features` is set.
  std::vector<DeviceOutput> run_with_features(std::span<const uint8_t> images, size_t n,
                                              std::vector<float>* features);

 private:
  std::shared_ptr<xai::AgileModelFile> model_;
  int in_h_, in_w_, in_c_;
  codec::StreamShape shape_;
  codec::Quantizer quantizer_;
};

// The model's centroids sorted increasing (the codec's and the packet's index order).
std::vector<float> sorted_centroids(const xai::AgileModelFile& model);
// The extractor's output map size for the model's input.
codec::StreamShape model_stream_shape(const xai::AgileModelFile& model);

}  // namespace agilenn::runtime
