// The server side of a trained AgileNN model: decode the packet with the codec tables, turn the
// indices into centroid values (the remote channels the remote predictor was trained on) and run
// the float remote predictor on a batch.
#pragma once
#include <memory>

#include "codec/packet.h"
#include "codec/quantize.h"
#include "codec/tables.h"
#include "runtime/backend.h"
#include "xai/agile_model_file.h"

namespace agilenn::runtime {

class ModelBackend : public RemoteBackend {
 public:
  ModelBackend(std::shared_ptr<xai::AgileModelFile> model, codec::CodecTables tables);
  size_t input_size() const override { return shape_.size(); }
  int num_classes() const override;
  std::vector<float> prepare(std::span<const uint8_t> packet) const override;
  std::vector<float> infer(const std::vector<float>& inputs, size_t n) override;

 private:
  std::shared_ptr<xai::AgileModelFile> model_;
  codec::CodecTables tables_;
  codec::StreamShape shape_;
  codec::Quantizer quantizer_;
  codec::PacketLimits limits_;
};

}  // namespace agilenn::runtime
