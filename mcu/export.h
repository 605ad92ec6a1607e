// The export-mcu pipeline shared by `agilenn export-mcu` and `agilenn mcu-check`: get the frozen
// device model (a trained model file, or seeded random weights), calibrate and quantize it on
// training images, attach the codec's tables (stored in the model file, else fitted here on the
// device's indices of training images), generate the bundle, and describe its memory.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "mcu/codegen.h"
#include "mcu/device_harness.h"
#include "mcu/int8_model.h"
#include "nn/data/dataset.h"
#include "nn/io/frozen_model.h"
#include "nn/io/json.h"
#include "xai/agile_model_file.h"

namespace agilenn::mcu {

struct ExportOptions {
  bool random_model = false;
  std::string model_dir;              // trained model: DIR/model.safetensors of `agilenn train`
  uint64_t seed = 1;                  // random model weights
  std::string local_head = "grid:4";  // gap | grid:G (random model only)
  std::string preset = "fashion";     // fashion (28x28x1, stride 2) | cifar (96x96x3, stride 3)
  std::string calib_source = "fashion-mnist";  // fashion-mnist | random
  size_t calib_images = 256;
  size_t codec_fit_images = 1000;  // training images the codec tables are fitted on (if not stored)
  std::string dataset;             // trained model: "" = the model's own (metadata "dataset")
  std::string data_dir;            // "" = the data set's default directory
  // The device's packet coder: auto (context-skip when the weights fix at least one remote
  // channel, else context-static) | context-static | context-skip.
  std::string coder = "auto";
};

struct ExportedModel {
  FrozenModel model;
  Int8Model int8;
  Bundle bundle;
  std::string calibration;   // what the activation ranges were calibrated on
  std::string codec_tables;  // where the codec tables came from
  std::string description;   // the model, for summaries
  // Trained model only: the loaded file (float SplitModel, metadata), the data set name and
  // directory the images come from, and the SplitModel index of each (sorted) frozen centroid.
  std::shared_ptr<xai::AgileModelFile> trained;
  std::string dataset, data_dir;
  std::vector<int> sorted_to_original;
};

// Throws agilenn::Error naming the flag on bad options.
ExportedModel export_device_model(const ExportOptions& options);
// Parses "gap" or "grid:G" (G >= 1); throws naming --local-head.
int parse_local_head(const std::string& text);

// memory.json: flash/SRAM figures (measured with arm-none-eabi-size when `sizes` is given),
// arena layout and per-stage MACs.
Json memory_json(const ExportedModel& exported, const ArmSizes* sizes,
                 const std::string& size_note);

// The trained model's data set split (its images must have the model's input shape).
data::Dataset load_model_dataset(const ExportedModel& exported, data::Split split);

// Images of the model's input shape: Fashion-MNIST (train or t10k) or seeded random pixels.
std::vector<std::vector<uint8_t>> model_images(const FrozenModel& model, const std::string& source,
                                               const std::string& data_dir, bool train, size_t n,
                                               uint64_t seed);

}  // namespace agilenn::mcu
