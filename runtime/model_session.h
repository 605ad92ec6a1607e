// What serve, device and bench-e2e all start from: the trained model, a data set split, the
// float device path and the codec tables both ends share.
#pragma once
#include <memory>
#include <optional>
#include <string>

#include "codec/tables.h"
#include "nn/data/dataset.h"
#include "nn/io/json.h"
#include "runtime/device_compute.h"

namespace agilenn::runtime {

struct ModelSession {
  std::string model_dir;
  std::shared_ptr<xai::AgileModelFile> model;
  data::Dataset train, test;
  std::unique_ptr<FloatDevice> device;
  codec::CodecTables tables;
  std::string tables_how;
  double learned_alpha = 0.5;  // the model's alpha (0.5 for the sum combiner: same argmax)
};

struct SessionOptions {
  std::string model_dir, dataset = "fashion-mnist", data_dir;
  size_t fit_images = 512;  // training images the codec tables are fitted on
  size_t limit_test = 0;    // 0 = the whole test split
  bool need_test = true;
};

ModelSession open_session(const SessionOptions& o);

// instructions_per_image from `agilenn mcu-check`'s summary.json; nullopt (with the reason in
// *why) when the file is absent or has no count (QEMU skipped). Throws on a malformed file.
std::optional<double> read_mcu_instructions(const std::string& summary_path, std::string* why);

}  // namespace agilenn::runtime
