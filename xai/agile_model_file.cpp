#include "xai/agile_model_file.h"

#include <cstring>
#include <filesystem>

#include "nn/io/error.h"
#include "nn/io/safetensors.h"

namespace agilenn::xai {

namespace {

std::string model_path(const std::string& dir_or_file) {
  return std::filesystem::is_directory(dir_or_file) ? dir_or_file + "/model.safetensors"
                                                    : dir_or_file;
}

bool is_codec_name(const std::string& name) {
  return name.rfind("codec.", 0) == 0;
}

Json agilenn_meta(const SafeTensors& st, const std::string& path) {
  auto it = st.metadata().find("agilenn");
  if (it == st.metadata().end())
    throw error_at(path, "not an agilenn checkpoint (no 'agilenn' metadata)");
  Json meta = Json::parse(it->second, path + ": metadata 'agilenn'");
  if (!meta.contains("kind") || meta.at("kind").as_string() != "agilenn")
    throw error_at(path, "not an AgileNN model (metadata kind != 'agilenn')");
  return meta;
}

}  // namespace

void save_agile_model(const std::string& path, SplitModel& model, Json meta,
                      const std::vector<float>& mean, const std::vector<float>& std) {
  nn::Checkpoint c;
  c.tensors = model.state_dict();
  meta["kind"] = "agilenn";
  meta["config"] = model.config().to_json();
  Json m = Json::array(), s = Json::array();
  for (float v : mean) m.push_back(Json(double(v)));
  for (float v : std) s.push_back(Json(double(v)));
  meta["normalization"]["mean"] = m;
  meta["normalization"]["std"] = s;
  if (!model.config().unsplit) {
    Json cs = Json::array();
    for (double v : model.quantizer->centroids().to_vector()) cs.push_back(Json(v));
    meta["centroids"] = cs;
  }
  c.meta = meta;
  nn::save_checkpoint(path, c);
}

data::AugmentOptions AgileModelFile::eval_augment() const {
  data::AugmentOptions ao;
  ao.pad = 0;
  ao.horizontal_flip = false;
  ao.out_height = model->config().height;
  ao.out_width = model->config().width;
  ao.mean = mean;
  ao.std = std;
  return ao;
}

AgileModelFile load_agile_model(const std::string& dir_or_file) {
  AgileModelFile f;
  f.path = model_path(dir_or_file);
  // Read as safetensors rather than nn::load_checkpoint: the codec tables are a U8 tensor, which
  // autograd tensors do not hold; every other tensor goes to the model exactly as before.
  const SafeTensors st = SafeTensors::load(f.path);
  f.meta = agilenn_meta(st, f.path);
  std::map<std::string, ag::Tensor> weights;
  for (const auto& t : st.tensors()) {
    if (is_codec_name(t.name)) {
      if (t.name != kCodecTablesTensor)
        throw error_at(f.path, "tensor '" + t.name + "': unknown codec tensor (expected only '" +
                                   kCodecTablesTensor + "')");
      if (t.dtype != DType::U8 || t.shape.size() != 1)
        throw error_at(f.path, "tensor '" + t.name + "': expected a 1-D U8 tensor, got " +
                                   dtype_name(t.dtype) + " " + shape_string(t.shape));
      f.codec_tables = t.data;
      continue;
    }
    ag::DType dt;
    switch (t.dtype) {
      case DType::F32:
        dt = ag::DType::F32;
        break;
      case DType::F64:
        dt = ag::DType::F64;
        break;
      case DType::I32:
        dt = ag::DType::I32;
        break;
      default:
        throw error_at(f.path, "tensor '" + t.name + "': dtype " + dtype_name(t.dtype) +
                                   " is not used by agilenn");
    }
    ag::Tensor x = ag::Tensor::empty(ag::Shape(t.shape), dt);
    if (!t.data.empty()) std::memcpy(x.raw_data(), t.data.data(), t.data.size());
    weights[t.name] = x;
  }
  if (f.codec_tables.empty() != !f.meta.contains("codec"))
    throw error_at(f.path, f.codec_tables.empty()
                               ? "metadata has 'codec' but there is no tensor 'codec.tables'"
                               : "tensor 'codec.tables' without a 'codec' metadata entry");
  SplitConfig cfg = SplitConfig::from_json(f.meta.at("config"), f.path + ": config");
  ag::Rng rng(0);
  f.model = std::make_shared<SplitModel>(cfg, rng);
  f.model->load_state_dict(weights, f.path);
  f.model->eval();
  for (auto& v : f.meta.at("normalization").at("mean").as_array(f.path + ": normalization.mean"))
    f.mean.push_back(float(v.as_number()));
  for (auto& v : f.meta.at("normalization").at("std").as_array(f.path + ": normalization.std"))
    f.std.push_back(float(v.as_number()));
  if (int(f.mean.size()) != cfg.in_channels || f.std.size() != f.mean.size())
    throw error_at(f.path, "normalization does not match the input channels");
  return f;
}

void store_codec_tables(const std::string& dir_or_file, std::span<const uint8_t> tables,
                        const Json& codec_meta) {
  const std::string path = model_path(dir_or_file);
  if (tables.empty()) throw error_at(path, "refusing to store empty codec tables");
  const SafeTensors old = SafeTensors::load(path);
  Json meta = agilenn_meta(old, path);
  SafeTensors st(path);
  for (const auto& t : old.tensors())
    if (t.name != kCodecTablesTensor) st.add(t.name, t.dtype, t.shape, t.data);
  st.add(kCodecTablesTensor, DType::U8, {int64_t(tables.size())}, tables);
  st.metadata() = old.metadata();
  meta["codec"] = codec_meta;
  st.metadata()["agilenn"] = meta.dump();
  st.write(path);
}

}  // namespace agilenn::xai
