// model.safetensors of `agilenn train`: the split model's tensors plus metadata that lets every
// later stage (eval, codec-bench, export-mcu, serve) rebuild it: kind "agilenn", the split config,
// the input shape and normalisation, the centroids, and the training metrics.
// `agilenn fit-codec` adds the link codec's fitted tables: a U8 tensor "codec.tables" (the bytes
// of codec::CodecTables::to_bytes) and a "codec" entry in the metadata; the loader keeps those
// bytes aside (they are not model weights) and the rest of the file is unchanged.
#pragma once
#include <span>
#include <string>
#include <vector>

#include "nn/checkpoint.h"
#include "nn/data/augment.h"
#include "xai/split_model.h"

namespace agilenn::xai {

constexpr const char* kCodecTablesTensor = "codec.tables";

struct AgileModelFile {
  std::shared_ptr<SplitModel> model;
  Json meta;
  std::string path;
  std::vector<float> mean, std;       // input normalisation per channel
  std::vector<uint8_t> codec_tables;  // "codec.tables"; empty when fit-codec has not run

  // The evaluation transform of this model's input: resize to the model's size, its
  // normalisation, no augmentation.
  data::AugmentOptions eval_augment() const;
};

// DIR/model.safetensors or a file path.
AgileModelFile load_agile_model(const std::string& dir_or_file);
void save_agile_model(const std::string& path, SplitModel& model, Json meta,
                      const std::vector<float>& mean, const std::vector<float>& std);

// Rewrites the model file (atomically) with `tables` as the U8 tensor "codec.tables" and
// `codec_meta` as meta["codec"], replacing any earlier ones; every other tensor and metadata entry
// is kept byte for byte. Throws naming the file if it is not an AgileNN model.
void store_codec_tables(const std::string& dir_or_file, std::span<const uint8_t> tables,
                        const Json& codec_meta);

}  // namespace agilenn::xai
