#include "runtime/device_compute.h"

#include <algorithm>

#include "autograd/graph.h"
#include "mcu/packet_encoder.h"
#include "mcu/reference.h"
#include "nn/data/augment.h"
#include "nn/io/error.h"

namespace agilenn::runtime {

std::vector<float> sorted_centroids(const xai::AgileModelFile& model) {
  std::vector<float> c = model.model->quantizer->centroids().to_floats();
  // Stable order of equal values does not matter here: equal centroids decode to the same value.
  std::sort(c.begin(), c.end());
  if (c.empty() || !(c.back() > c.front()))
    throw error_at(model.path, "the quantizer needs at least two distinct centroid values");
  return c;
}

codec::StreamShape model_stream_shape(const xai::AgileModelFile& model) {
  const auto& cfg = model.model->config();
  if (cfg.unsplit) throw error_at(model.path, "an unsplit model has no device half");
  // Run the extractor on one zero image for its output size (stride and padding as trained).
  ag::NoGradGuard ng;
  model.model->eval();
  auto f =
      model.model->extract(ag::Tensor::zeros(ag::Shape{1, cfg.height, cfg.width, cfg.in_channels}));
  return codec::StreamShape{uint32_t(f.dim(1)), uint32_t(f.dim(2)),
                            uint32_t(cfg.features - cfg.k())};
}

FloatDevice::FloatDevice(std::shared_ptr<xai::AgileModelFile> model, int in_h, int in_w, int in_c)
    : model_(std::move(model)),
      in_h_(in_h),
      in_w_(in_w),
      in_c_(in_c),
      shape_(model_stream_shape(*model_)),
      quantizer_(sorted_centroids(*model_)) {
  if (in_c != model_->model->config().in_channels)
    throw error_at(model_->path, "the data set has " + std::to_string(in_c) +
                                     " channels, the model expects " +
                                     std::to_string(model_->model->config().in_channels));
}

int FloatDevice::num_classes() const {
  return model_->model->config().num_classes;
}

std::vector<DeviceOutput> FloatDevice::run(std::span<const uint8_t> images, size_t n) {
  return run_with_features(images, n, nullptr);
}

std::vector<DeviceOutput> FloatDevice::run_with_features(std::span<const uint8_t> images, size_t n,
                                                         std::vector<float>* features) {
  const auto& cfg = model_->model->config();
  const size_t img = size_t(in_h_) * in_w_ * in_c_;
  if (images.size() != n * img) throw Error("FloatDevice::run: image bytes do not match the count");
  data::Augmenter aug(model_->eval_augment(), in_h_, in_w_, in_c_);
  std::vector<DeviceOutput> out;
  out.reserve(n);
  if (features) features->clear();
  ag::NoGradGuard ng;
  model_->model->eval();
  const size_t chunk = 128;
  for (size_t b = 0; b < n; b += chunk) {
    size_t m = std::min(chunk, n - b);
    std::vector<float> x(m * aug.out_size());
    for (size_t i = 0; i < m; ++i)
      aug.apply_fixed(images.data() + (b + i) * img, 0, 0, false, x.data() + i * aug.out_size());
    auto xt =
        ag::Tensor::from_floats(x, ag::Shape{int64_t(m), cfg.height, cfg.width, cfg.in_channels});
    auto f = model_->model->extract(xt);
    auto local = model_->model->local_predict(f).to_floats();
    auto fv = f.to_floats();
    if (features) features->insert(features->end(), fv.begin(), fv.end());
    const size_t F = size_t(cfg.features), k = size_t(cfg.k()),
                 hw = size_t(shape_.height) * shape_.width;
    for (size_t i = 0; i < m; ++i) {
      DeviceOutput o;
      for (int c = 0; c < cfg.num_classes; ++c)
        o.local_logits.push_back(local[i * cfg.num_classes + c]);
      o.indices.resize(shape_.size());
      std::vector<float> remote(shape_.size());
      for (size_t p = 0; p < hw; ++p)
        for (size_t r = 0; r < F - k; ++r) remote[p * (F - k) + r] = fv[(i * hw + p) * F + k + r];
      quantizer_.quantize(remote, o.indices);
      out.push_back(std::move(o));
    }
  }
  return out;
}

Int8Device::Int8Device(std::shared_ptr<const mcu::Int8Model> model) : model_(std::move(model)) {
  if (!model_) throw Error("Int8Device: no model");
  if (model_->codec.alphabet == 0)
    throw Error("Int8Device: the int8 model has no codec tables attached");
}

codec::StreamShape Int8Device::stream_shape() const {
  return mcu::remote_stream_shape(*model_);
}

std::vector<DeviceOutput> Int8Device::run(std::span<const uint8_t> images, size_t n) {
  const size_t img = size_t(model_->in_h) * model_->in_w * model_->in_c;
  if (images.size() != n * img)
    throw Error("Int8Device::run: " + std::to_string(images.size()) + " bytes for " +
                std::to_string(n) + " images of " + std::to_string(img) +
                " bytes (the MCU path takes images of the model's input size)");
  std::vector<DeviceOutput> out(n);
  for (size_t i = 0; i < n; ++i) {
    mcu::ReferenceResult r = mcu::reference_run(*model_, images.subspan(i * img, img));
    DeviceOutput& o = out[i];
    o.local_logits.resize(r.local_logits.size());
    for (size_t c = 0; c < r.local_logits.size(); ++c)
      o.local_logits[c] = model_->dense.logit_scale * double(r.local_logits[c]);
    o.indices = std::move(r.indices);
    o.packet = std::move(r.packet);
  }
  return out;
}

}  // namespace agilenn::runtime
