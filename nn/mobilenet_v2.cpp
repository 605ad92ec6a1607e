#include "nn/mobilenet_v2.h"

#include <algorithm>

#include "autograd/graph.h"
#include "nn/io/error.h"

namespace agilenn::nn {

int make_divisible(double v, int divisor) {
  int nv = std::max(divisor, int(v + divisor / 2.0) / divisor * divisor);
  if (nv < 0.9 * v) nv += divisor;  // never round down by more than 10%
  return nv;
}

InvertedResidual::InvertedResidual(int in, int out, int stride, int expand, ag::Rng& rng)
    : residual(stride == 1 && in == out) {
  block_ = register_module("block", std::make_shared<Sequential>());
  const int hidden = in * expand;
  if (expand != 1) {
    block_->add(std::make_shared<Conv2d>(ConvSpec{in, hidden, 1, 1, 1, false, true}, rng));
    block_->add(std::make_shared<BatchNorm>(hidden));
    block_->add(std::make_shared<ReLU6>());
  }
  block_->add(depthwise_conv2d(hidden, 3, stride, rng));
  block_->add(std::make_shared<BatchNorm>(hidden));
  block_->add(std::make_shared<ReLU6>());
  block_->add(std::make_shared<Conv2d>(ConvSpec{hidden, out, 1, 1, 1, false, true}, rng));
  block_->add(std::make_shared<BatchNorm>(out));
}

void fold_batch_norm(Sequential& seq) {
  for (size_t i = 0; i + 1 < seq.size(); ++i) {
    auto conv = std::dynamic_pointer_cast<Conv2d>(seq[i]);
    auto bn = std::dynamic_pointer_cast<BatchNorm>(seq[i + 1]);
    if (!conv || !bn) continue;
    ag::NoGradGuard ng;
    Tensor scale = ag::mul(bn->gamma, ag::rsqrt(ag::add(bn->running_var, bn->eps)));
    Tensor shift = ag::sub(bn->beta, ag::mul(bn->running_mean, scale));
    conv->fold_scale_shift(scale, shift);
    seq.replace(i + 1, std::make_shared<Identity>());
  }
}

void InvertedResidual::fold_batch_norm() {
  nn::fold_batch_norm(*block_);
}

void MobileNetV2::fold_batch_norm() {
  nn::fold_batch_norm(*stem);
  nn::fold_batch_norm(*body);
  for (size_t i = 0; i < body->size(); ++i)
    if (auto ir = std::dynamic_pointer_cast<InvertedResidual>((*body)[i])) ir->fold_batch_norm();
}

Tensor InvertedResidual::forward(const Tensor& x) {
  Tensor y = block_->forward(x);
  return residual ? ag::add(x, y) : y;
}

Json MobileNetV2Config::to_json() const {
  Json j;
  j["in_channels"] = in_channels;
  j["stem"] = stem;
  j["stem_channels"] = stem_channels;
  j["scale_stem"] = scale_stem;
  j["stem_stride"] = stem_stride;
  Json b = Json::array();
  for (auto& r : blocks)
    b.push_back(Json(Json::Array{Json(r[0]), Json(r[1]), Json(r[2]), Json(r[3])}));
  j["blocks"] = b;
  j["width"] = width;
  j["last_channels"] = last_channels;
  j["num_classes"] = num_classes;
  j["dropout"] = dropout;
  return j;
}

MobileNetV2Config MobileNetV2Config::from_json(const Json& j, const std::string& w) {
  MobileNetV2Config c;
  c.in_channels = int(j.at("in_channels").as_int(w + ".in_channels"));
  c.stem = j.at("stem").as_bool(w + ".stem");
  c.stem_channels = int(j.at("stem_channels").as_int(w + ".stem_channels"));
  c.scale_stem = j.at("scale_stem").as_bool(w + ".scale_stem");
  c.stem_stride = int(j.at("stem_stride").as_int(w + ".stem_stride"));
  c.blocks.clear();
  for (auto& r : j.at("blocks").as_array(w + ".blocks")) {
    auto& a = r.as_array(w + ".blocks[]");
    if (a.size() != 4) throw Error(w + ".blocks: each row must be [t, c, n, s]");
    c.blocks.push_back(
        {int(a[0].as_int()), int(a[1].as_int()), int(a[2].as_int()), int(a[3].as_int())});
  }
  c.width = j.at("width").as_number(w + ".width");
  c.last_channels = int(j.at("last_channels").as_int(w + ".last_channels"));
  c.num_classes = int(j.at("num_classes").as_int(w + ".num_classes"));
  c.dropout = j.at("dropout").as_number(w + ".dropout");
  return c;
}

MobileNetV2::MobileNetV2(const MobileNetV2Config& cfg, ag::Rng& rng) : cfg_(cfg) {
  if (cfg.width <= 0 || cfg.num_classes < 1 || cfg.in_channels < 1)
    throw Error("MobileNetV2: bad config");
  stem = register_module("stem", std::make_shared<Sequential>());
  body = register_module("body", std::make_shared<Sequential>());
  int ch = cfg.in_channels;
  if (cfg.stem) {
    stem_out_ = cfg.scale_stem ? make_divisible(cfg.stem_channels * cfg.width) : cfg.stem_channels;
    stem->add(
        std::make_shared<Conv2d>(ConvSpec{ch, stem_out_, 3, cfg.stem_stride, 1, false, true}, rng));
    stem->add(std::make_shared<BatchNorm>(stem_out_));
    stem->add(std::make_shared<ReLU6>());
    ch = stem_out_;
  } else {
    stem_out_ = ch;
  }
  for (auto& [t, c, n, s] : cfg.blocks) {
    const int out = make_divisible(c * cfg.width);
    for (int i = 0; i < n; ++i) {
      body->add(std::make_shared<InvertedResidual>(ch, out, i == 0 ? s : 1, t, rng));
      ch = out;
    }
  }
  const int last =
      cfg.width > 1.0 ? make_divisible(cfg.last_channels * cfg.width) : cfg.last_channels;
  body->add(std::make_shared<Conv2d>(ConvSpec{ch, last, 1, 1, 1, false, true}, rng));
  body->add(std::make_shared<BatchNorm>(last));
  body->add(std::make_shared<ReLU6>());
  body->add(std::make_shared<GlobalAvgPool>());
  if (cfg.dropout > 0) body->add(std::make_shared<Dropout>(cfg.dropout, rng.next_u64()));
  body->add(std::make_shared<Linear>(last, cfg.num_classes, rng));
}

Tensor MobileNetV2::forward_stem(const Tensor& x) {
  return stem->forward(x);
}
Tensor MobileNetV2::forward_body(const Tensor& x) {
  return body->forward(x);
}
Tensor MobileNetV2::forward(const Tensor& x) {
  return body->forward(stem->forward(x));
}

}  // namespace agilenn::nn
