#include "mcu/pipeline_accuracy.h"

#include <algorithm>

#include "autograd/graph.h"
#include "codec/packet.h"
#include "mcu/packet_encoder.h"
#include "mcu/reference.h"
#include "nn/io/error.h"

namespace agilenn::mcu {

namespace {

template <typename T>
size_t argmax(const T* v, size_t n) {
  size_t best = 0;
  for (size_t i = 1; i < n; ++i)
    if (v[i] > v[best]) best = i;
  return best;
}

}  // namespace

PipelineAccuracy pipeline_accuracy(const ExportedModel& e, const data::Dataset& test,
                                   size_t batch_size) {
  if (!e.trained) throw Error("pipeline_accuracy: needs a trained model (--model)");
  if (test.size() == 0) throw error_at(test.name, "no test images");
  xai::SplitModel& model = *e.trained->model;
  const xai::SplitConfig& cfg = model.config();
  const FrozenModel& fm = e.model;
  const Int8Model& q = e.int8;
  ag::NoGradGuard no_grad;
  model.eval();
  PipelineAccuracy acc;
  acc.images = test.size();
  const bool learned = cfg.combiner == "learned";
  acc.alpha = learned ? model.alpha().item() : 1.0;
  const size_t classes = size_t(cfg.num_classes), in_size = test.image_size();
  const size_t fh = size_t(q.feat_h), fw = size_t(q.feat_w), r = size_t(q.feat_c - q.split_k);
  size_t float_ok = 0, float_local_ok = 0, int8_ok = 0, int8_local_ok = 0, packet_bytes = 0;
  for (size_t start = 0; start < test.size(); start += batch_size) {
    const size_t n = std::min(batch_size, test.size() - start);
    // Float model on the normalised images.
    std::vector<float> x(n * in_size);
    for (size_t i = 0; i < n; ++i) {
      auto im = test.image(start + i);
      for (size_t j = 0; j < in_size; ++j) {
        size_t ch = j % size_t(fm.in_c);
        x[i * in_size + j] = (im[j] / 255.f - fm.input_mean[ch]) / fm.input_std[ch];
      }
    }
    ag::Tensor xt = ag::Tensor::from_floats(
        x, ag::Shape{int64_t(n), int64_t(fm.in_h), int64_t(fm.in_w), int64_t(fm.in_c)});
    xai::SplitOutputs out = model.run(xt);
    std::vector<double> logits = out.logits.to_vector(), local = out.local_logits.to_vector();
    // int8 device part, then the server's decode and the float remote predictor.
    std::vector<float> remote_in(n * fh * fw * r);
    std::vector<std::vector<int32_t>> local_q(n);
    for (size_t i = 0; i < n; ++i) {
      ReferenceResult ref = reference_run(q, test.image(start + i));
      codec::DecodedPacket d = codec::decode_packet(ref.packet, q.codec);
      acc.decode_mismatches += d.indices != ref.indices;
      acc.context_packets += d.header.coder == q.device_coder;
      packet_bytes += ref.packet.size();
      for (size_t j = 0; j < d.indices.size(); ++j)
        remote_in[i * fh * fw * r + j] = fm.centroids.at(d.indices[j]);
      local_q[i] = ref.local_logits;
    }
    ag::Tensor rt = ag::Tensor::from_floats(
        remote_in, ag::Shape{int64_t(n), int64_t(fh), int64_t(fw), int64_t(r)});
    std::vector<double> remote = model.remote->forward(rt).to_vector();
    for (size_t i = 0; i < n; ++i) {
      const int32_t label = test.labels[start + i];
      float_ok += argmax(&logits[i * classes], classes) == size_t(label);
      float_local_ok += argmax(&local[i * classes], classes) == size_t(label);
      int8_local_ok += argmax(local_q[i].data(), classes) == size_t(label);
      std::vector<double> combined(classes);
      for (size_t c = 0; c < classes; ++c) {
        double l = q.dense.logit_scale * double(local_q[i][c]);
        combined[c] = learned ? acc.alpha * l + (1 - acc.alpha) * remote[i * classes + c]
                              : l + remote[i * classes + c];
      }
      int8_ok += argmax(combined.data(), classes) == size_t(label);
    }
  }
  const double total = double(test.size());
  acc.float_accuracy = float_ok / total;
  acc.float_local_accuracy = float_local_ok / total;
  acc.int8_accuracy = int8_ok / total;
  acc.int8_local_accuracy = int8_local_ok / total;
  acc.mean_packet_bytes = packet_bytes / total;
  return acc;
}

}  // namespace agilenn::mcu
