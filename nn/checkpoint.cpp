#include "nn/checkpoint.h"

#include <cstring>

#include "nn/io/error.h"
#include "nn/io/safetensors.h"

namespace agilenn::nn {

void save_checkpoint(const std::string& path, const Checkpoint& ckpt) {
  SafeTensors st(path);
  for (auto& [name, t] : ckpt.tensors) {
    std::vector<int64_t> shape = t.shape().vec();
    const size_t bytes = size_t(t.numel()) * ag::dtype_size(t.dtype());
    std::span<const uint8_t> data(static_cast<const uint8_t*>(t.raw_data()), bytes);
    switch (t.dtype()) {
      case ag::DType::F32:
        st.add(name, agilenn::DType::F32, shape, data);
        break;
      case ag::DType::F64:
        st.add(name, agilenn::DType::F64, shape, data);
        break;
      case ag::DType::I32:
        st.add(name, agilenn::DType::I32, shape, data);
        break;
    }
  }
  st.metadata()["format"] = "pt";
  st.metadata()["agilenn"] = ckpt.meta.dump();
  st.write(path);
}

Checkpoint load_checkpoint(const std::string& path) {
  SafeTensors st = SafeTensors::load(path);
  Checkpoint c;
  for (auto& t : st.tensors()) {
    ag::DType dt;
    switch (t.dtype) {
      case agilenn::DType::F32:
        dt = ag::DType::F32;
        break;
      case agilenn::DType::F64:
        dt = ag::DType::F64;
        break;
      case agilenn::DType::I32:
        dt = ag::DType::I32;
        break;
      default:
        throw error_at(path, "tensor '" + t.name + "': dtype " + dtype_name(t.dtype) +
                                 " is not used by agilenn");
    }
    ag::Tensor x = ag::Tensor::empty(ag::Shape(t.shape), dt);
    if (!t.data.empty()) std::memcpy(x.raw_data(), t.data.data(), t.data.size());
    c.tensors[t.name] = x;
  }
  auto it = st.metadata().find("agilenn");
  if (it == st.metadata().end())
    throw error_at(path, "not an agilenn checkpoint (no 'agilenn' metadata)");
  c.meta = Json::parse(it->second, path + ": metadata 'agilenn'");
  return c;
}

std::map<std::string, ag::Tensor> with_prefix(const std::map<std::string, ag::Tensor>& t,
                                              const std::string& prefix) {
  std::map<std::string, ag::Tensor> out;
  for (auto& [n, v] : t)
    if (n.compare(0, prefix.size(), prefix) == 0) out[n.substr(prefix.size())] = v;
  return out;
}

void add_prefixed(std::map<std::string, ag::Tensor>& dst,
                  const std::map<std::string, ag::Tensor>& src, const std::string& prefix) {
  for (auto& [n, v] : src) dst[prefix + n] = v;
}

}  // namespace agilenn::nn
