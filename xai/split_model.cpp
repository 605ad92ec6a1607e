#include "xai/split_model.h"

#include "autograd/graph.h"
#include "nn/io/error.h"

namespace agilenn::xai {

using namespace agilenn::ag;

int SplitConfig::grid() const {
  if (local_head == "gap") return 0;
  if (local_head.rfind("grid:", 0) == 0) {
    try {
      size_t used = 0;
      int g = std::stoi(local_head.substr(5), &used);
      if (used == local_head.size() - 5 && g >= 1) return g;
    } catch (...) {
    }
  }
  throw Error("--local-head must be 'gap' or 'grid:G' with G >= 1, got '" + local_head + "'");
}

void SplitConfig::validate(const std::string& w) const {
  if (height < 1 || width < 1 || in_channels < 1) throw Error(w + ": bad input shape");
  if (features < 2) throw Error(w + ": features must be >= 2");
  if (extractor_hidden < 1 || extractor_hidden > 256)
    throw Error(w + ": extractor_hidden (--extractor-hidden) must be 1..256, got " +
                std::to_string(extractor_hidden));
  if (extractor_depth_multiplier < 1 || extractor_depth_multiplier > 16)
    throw Error(w +
                ": extractor_depth_multiplier (--extractor-depth-multiplier) must be 1..16, got " +
                std::to_string(extractor_depth_multiplier));
  if (!unsplit && (k() < 1 || k() >= features))
    throw Error(w + ": --split-ratio " + std::to_string(split_ratio) +
                " gives k = " + std::to_string(k()) + ", which must be in [1, " +
                std::to_string(features - 1) + "]");
  if (combiner != "learned" && combiner != "sum")
    throw Error(w + ": --combiner must be 'learned' or 'sum'");
  if (temperature <= 0) throw Error(w + ": --temperature must be > 0");
  const int g = grid();
  const int fh = (height + stride - 1) / stride, fw = (width + stride - 1) / stride;
  if (g > fh || g > fw)
    throw Error(w + ": local head grid " + std::to_string(g) + " exceeds the feature map");
}

Json SplitConfig::to_json() const {
  Json j;
  j["height"] = height;
  j["width"] = width;
  j["in_channels"] = in_channels;
  j["num_classes"] = num_classes;
  j["extractor_hidden"] = extractor_hidden;
  j["extractor_depth_multiplier"] = extractor_depth_multiplier;
  j["features"] = features;
  j["stride"] = stride;
  j["split_ratio"] = split_ratio;
  j["centroids"] = centroids;
  j["local_head"] = local_head;
  j["combiner"] = combiner;
  j["temperature"] = temperature;
  j["unsplit"] = unsplit;
  j["k"] = k();
  j["remote"] = remote.to_json();
  return j;
}

SplitConfig SplitConfig::from_json(const Json& j, const std::string& w) {
  SplitConfig c;
  c.height = int(j.at("height").as_int(w + ".height"));
  c.width = int(j.at("width").as_int(w + ".width"));
  c.in_channels = int(j.at("in_channels").as_int(w + ".in_channels"));
  c.num_classes = int(j.at("num_classes").as_int(w + ".num_classes"));
  c.extractor_hidden = int(j.at("extractor_hidden").as_int(w + ".extractor_hidden"));
  // Absent in checkpoints written before the field existed: those used 1.
  if (j.contains("extractor_depth_multiplier"))
    c.extractor_depth_multiplier =
        int(j.at("extractor_depth_multiplier").as_int(w + ".extractor_depth_multiplier"));
  c.features = int(j.at("features").as_int(w + ".features"));
  c.stride = int(j.at("stride").as_int(w + ".stride"));
  c.split_ratio = j.at("split_ratio").as_number(w + ".split_ratio");
  c.centroids = int(j.at("centroids").as_int(w + ".centroids"));
  c.local_head = j.at("local_head").as_string(w + ".local_head");
  c.combiner = j.at("combiner").as_string(w + ".combiner");
  c.temperature = j.at("temperature").as_number(w + ".temperature");
  c.unsplit = j.at("unsplit").as_bool(w + ".unsplit");
  c.remote = nn::MobileNetV2Config::from_json(j.at("remote"), w + ".remote");
  c.validate(w);
  return c;
}

SplitModel::SplitModel(const SplitConfig& cfg, Rng& rng) : cfg_(cfg) {
  cfg.validate("split model");
  extractor = register_module("extractor", std::make_shared<nn::Sequential>());
  extractor->add(std::make_shared<nn::SeparableConv2d>(
      cfg.in_channels, cfg.extractor_hidden, 3, cfg.stride, rng, cfg.extractor_depth_multiplier));
  extractor->add(std::make_shared<nn::BatchNorm>(cfg.extractor_hidden));
  extractor->add(std::make_shared<nn::ReLU6>());
  extractor->add(
      std::make_shared<nn::SeparableConv2d>(cfg.extractor_hidden, cfg.features, 3, 1, rng));
  extractor->add(std::make_shared<nn::BatchNorm>(cfg.features));
  extractor->add(std::make_shared<nn::ReLU6>());
  const int k = cfg.k();
  if (!cfg.unsplit) {
    const int g = cfg.grid();
    local_head = register_module("local_head", std::make_shared<nn::Sequential>());
    if (g == 0)
      local_head->add(std::make_shared<nn::GlobalAvgPool>());
    else
      local_head->add(std::make_shared<nn::GridAvgPool>(g));
    local_head->add(
        std::make_shared<nn::Linear>(k * std::max(g, 1) * std::max(g, 1), cfg.num_classes, rng));
    local_head->add(std::make_shared<nn::BatchNorm>(cfg.num_classes));
    quantizer = register_module("quantizer", std::make_shared<Quantizer>(cfg.centroids));
  }
  nn::MobileNetV2Config rc = cfg.remote;
  rc.stem = false;
  rc.in_channels = cfg.unsplit ? cfg.features : cfg.features - k;
  rc.num_classes = cfg.num_classes;
  remote = register_module("remote", std::make_shared<nn::MobileNetV2>(rc, rng));
  if (!cfg.unsplit && cfg.combiner == "learned") {
    alpha_w = Tensor::zeros(Shape{1});  // alpha starts at 0.5
    register_parameter("alpha_w", &alpha_w);
  }
}

Tensor SplitModel::extract(const Tensor& x) {
  return extractor->forward(x);
}

Tensor SplitModel::local_predict(const Tensor& f) {
  if (cfg_.unsplit) throw Error("the unsplit model has no local predictor");
  return local_head->forward(slice(f, 3, 0, cfg_.k()));
}

Tensor SplitModel::remote_predict(const Tensor& f) {
  if (cfg_.unsplit) return remote->forward(f);
  return remote->forward(quantizer->forward(slice(f, 3, cfg_.k(), cfg_.features)));
}

Tensor SplitModel::alpha() const {
  if (!alpha_w.defined()) return Tensor();
  return reshape(sigmoid(mul(alpha_w, 1.0 / cfg_.temperature)), Shape{});
}

SplitOutputs SplitModel::run(const Tensor& x, double alpha_override) {
  SplitOutputs o;
  o.features = extract(x);
  o.remote_logits = remote_predict(o.features);
  if (cfg_.unsplit) {
    o.logits = o.remote_logits;
    return o;
  }
  o.local_logits = local_predict(o.features);
  if (!std::isnan(alpha_override)) {
    if (alpha_override < 0 || alpha_override > 1) throw Error("--alpha must be in [0, 1]");
    o.alpha = Tensor::scalar(alpha_override, x.dtype());
  } else if (cfg_.combiner == "learned") {
    o.alpha = alpha();
  }
  if (o.alpha.defined())
    o.logits = add(mul(o.local_logits, o.alpha), mul(o.remote_logits, rsub(1.0, o.alpha)));
  else
    o.logits = add(o.local_logits, o.remote_logits);
  return o;
}

}  // namespace agilenn::xai
