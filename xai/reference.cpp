#include "xai/reference.h"

#include <filesystem>

#include "nn/io/error.h"

namespace agilenn::xai {

ReferenceFn Reference::body() const {
  auto n = net;
  return [n](const Tensor& f) { return n->forward_body(f); };
}

nn::Checkpoint reference_checkpoint(const nn::MobileNetV2& net, const Json& meta) {
  nn::Checkpoint c;
  c.tensors = net.state_dict();
  c.meta = meta;
  c.meta["kind"] = "reference";
  c.meta["config"] = net.config().to_json();
  return c;
}

Reference load_reference(const std::string& dir_or_file) {
  std::string path = dir_or_file;
  if (std::filesystem::is_directory(path)) path += "/reference.safetensors";
  nn::Checkpoint c = nn::load_checkpoint(path);
  if (!c.meta.contains("kind") || c.meta.at("kind").as_string() != "reference")
    throw error_at(path, "not a reference network checkpoint (metadata kind != 'reference')");
  auto cfg = nn::MobileNetV2Config::from_json(c.meta.at("config"), path + ": config");
  ag::Rng rng(0);
  Reference r;
  r.net = std::make_shared<nn::MobileNetV2>(cfg, rng);
  r.net->load_state_dict(c.tensors, path);
  r.net->eval();
  r.net->fold_batch_norm();  // frozen: conv + BN as one conv with bias (fewer ops per XAI step)
  for (auto* p : r.net->parameters()) p->set_requires_grad(false);
  r.meta = c.meta;
  return r;
}

}  // namespace agilenn::xai
