#include "xai/agile_model_file.h"

#include <filesystem>

#include "nn/io/error.h"

namespace agilenn::xai {

void save_agile_model(const std::string& path, SplitModel& model, Json meta, const std::vector<float>& mean,
                      const std::vector<float>& std) {
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

AgileModelFile load_agile_model(const std::string& dir_or_file) {
  AgileModelFile f;
  f.path = dir_or_file;
  if (std::filesystem::is_directory(f.path)) f.path += "/model.safetensors";
  nn::Checkpoint c = nn::load_checkpoint(f.path);
  if (!c.meta.contains("kind") || c.meta.at("kind").as_string() != "agilenn")
    throw error_at(f.path, "not an AgileNN model (metadata kind != 'agilenn')");
  SplitConfig cfg = SplitConfig::from_json(c.meta.at("config"), f.path + ": config");
  ag::Rng rng(0);
  f.model = std::make_shared<SplitModel>(cfg, rng);
  f.model->load_state_dict(c.tensors, f.path);
  f.model->eval();
  for (auto& v : c.meta.at("normalization").at("mean").as_array(f.path + ": normalization.mean"))
    f.mean.push_back(float(v.as_number()));
  for (auto& v : c.meta.at("normalization").at("std").as_array(f.path + ": normalization.std"))
    f.std.push_back(float(v.as_number()));
  if (int(f.mean.size()) != cfg.in_channels || f.std.size() != f.mean.size())
    throw error_at(f.path, "normalization does not match the input channels");
  f.meta = c.meta;
  return f;
}

}  // namespace agilenn::xai
