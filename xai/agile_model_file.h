// model.safetensors of `agilenn train`: the split model's tensors plus metadata that lets every
// later stage (eval, codec-bench, export-mcu, serve) rebuild it: kind "agilenn", the split config,
// the input shape and normalisation, the centroids, and the training metrics.
#pragma once
#include <string>

#include "nn/checkpoint.h"
#include "xai/split_model.h"

namespace agilenn::xai {

struct AgileModelFile {
  std::shared_ptr<SplitModel> model;
  Json meta;
  std::string path;
  std::vector<float> mean, std;  // input normalisation per channel
};

// DIR/model.safetensors or a file path.
AgileModelFile load_agile_model(const std::string& dir_or_file);
void save_agile_model(const std::string& path, SplitModel& model, Json meta, const std::vector<float>& mean,
                      const std::vector<float>& std);

}  // namespace agilenn::xai
