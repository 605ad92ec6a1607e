// Checkpoints: named tensors in safetensors (Python opens them with safetensors.torch.load_file)
// plus our metadata as JSON text under the "agilenn" metadata key. Written atomically.
#pragma once
#include <map>
#include <string>

#include "autograd/tensor.h"
#include "nn/io/json.h"

namespace agilenn::nn {

struct Checkpoint {
  std::map<std::string, ag::Tensor> tensors;
  Json meta;  // {"kind": "...", "config": {...}, ...}
};

void save_checkpoint(const std::string& path, const Checkpoint& ckpt);
// Throws agilenn::Error naming `path` for a missing, truncated or malformed file.
Checkpoint load_checkpoint(const std::string& path);

// Tensors whose names start with `prefix`, with the prefix removed.
std::map<std::string, ag::Tensor> with_prefix(const std::map<std::string, ag::Tensor>& t,
                                              const std::string& prefix);
void add_prefixed(std::map<std::string, ag::Tensor>& dst,
                  const std::map<std::string, ag::Tensor>& src, const std::string& prefix);

}  // namespace agilenn::nn
