#include "runtime/model_backend.h"

#include "autograd/graph.h"
#include "nn/io/error.h"
#include "runtime/device_compute.h"

namespace agilenn::runtime {

ModelBackend::ModelBackend(std::shared_ptr<xai::AgileModelFile> model, codec::CodecTables tables)
    : model_(std::move(model)),
      tables_(std::move(tables)),
      shape_(model_stream_shape(*model_)),
      quantizer_(sorted_centroids(*model_)) {
  if (tables_.remote_channels != shape_.channels || tables_.alphabet != quantizer_.alphabet())
    throw error_at(model_->path,
                   "codec tables do not match the model (remote channels / centroids)");
  // Only this model's map size is accepted: a packet claiming another shape is rejected before
  // anything is allocated.
  limits_.max_height = shape_.height;
  limits_.max_width = shape_.width;
  limits_.max_indices = shape_.size();
}

int ModelBackend::num_classes() const {
  return model_->model->config().num_classes;
}

std::vector<float> ModelBackend::prepare(std::span<const uint8_t> packet) const {
  codec::DecodedPacket d = codec::decode_packet(packet, tables_, limits_);
  if (!(d.header.shape == shape_))
    throw Error("packet: map " + std::to_string(d.header.shape.height) + "x" +
                std::to_string(d.header.shape.width) + " is not the model's");
  std::vector<float> values(shape_.size());
  quantizer_.dequantize(d.indices, values);
  return values;
}

std::vector<float> ModelBackend::infer(const std::vector<float>& inputs, size_t n) {
  if (inputs.size() != n * shape_.size()) throw Error("ModelBackend::infer: input size mismatch");
  ag::NoGradGuard ng;
  model_->model->eval();
  auto x =
      ag::Tensor::from_floats(inputs, ag::Shape{int64_t(n), int64_t(shape_.height),
                                                int64_t(shape_.width), int64_t(shape_.channels)});
  return model_->model->remote->forward(x).to_floats();
}

}  // namespace agilenn::runtime
