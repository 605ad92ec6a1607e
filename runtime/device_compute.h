// The device half of AgileNN behind an interface: the int8 fixed-point reference the MCU runs
// (mcu/reference.h, byte-identical to the generated C) or the float model. Both produce, per
// image: the local logits and the remote channels' centroid indices (H x W x R, NHWC, in the order
// of the *sorted* centroids the codec and the packet use); the int8 path also the packet itself.
#pragma once
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "codec/quantize.h"
#include "codec/stream.h"
#include "mcu/int8_model.h"
#include "xai/agile_model_file.h"

namespace agilenn::runtime {

struct DeviceOutput {
  // num_classes, real-valued. int8 path: logit_scale * int32 logit, in double exactly as
  // mcu-check's pipeline accuracy combines them (a float would move near-ties).
  std::vector<double> local_logits;
  std::vector<uint8_t> indices;  // H x W x R
  std::vector<uint8_t> packet;   // what the device sends; empty = encode `indices` with the tables
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

// The int8 path: mcu::reference_run per image (local int32 logits x logit_scale, the remote
// indices and the packet coded with the model's attached codec tables), i.e. what the MCU computes
// and sends for the same pixels. Images must be the model's input size (no resizing on the MCU).
class Int8Device : public DeviceComputation {
 public:
  explicit Int8Device(std::shared_ptr<const mcu::Int8Model> model);
  std::string name() const override { return "int8"; }
  int num_classes() const override { return model_->num_classes; }
  codec::StreamShape stream_shape() const override;
  std::vector<DeviceOutput> run(std::span<const uint8_t> images, size_t n) override;
  const mcu::Int8Model& model() const { return *model_; }

 private:
  std::shared_ptr<const mcu::Int8Model> model_;
};

// The model's centroids sorted increasing (the codec's and the packet's index order).
std::vector<float> sorted_centroids(const xai::AgileModelFile& model);
// The extractor's output map size for the model's input.
codec::StreamShape model_stream_shape(const xai::AgileModelFile& model);

}  // namespace agilenn::runtime
