// The export-mcu pipeline shared by `agilenn export-mcu` and `agilenn mcu-check`: get the frozen
// device model (seeded random weights for now; --model DIR once checkpoints exist), calibrate and
// quantize it, generate the bundle, and describe its memory in memory.json.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "mcu/codegen.h"
#include "mcu/device_harness.h"
#include "mcu/int8_model.h"
#include "nn/io/frozen_model.h"
#include "nn/io/json.h"

namespace agilenn::mcu {

struct ExportOptions {
  bool random_model = false;
  std::string model_dir;              // trained model (not wired yet: checkpoints do not exist)
  uint64_t seed = 1;                  // random model weights
  std::string local_head = "grid:4";  // gap | grid:G
  std::string preset = "fashion";     // fashion (28x28x1, stride 2) | cifar (96x96x3, stride 3)
  std::string calib_source = "fashion-mnist";  // fashion-mnist | random
  size_t calib_images = 256;
  std::string data_dir = "/usr/share/datasets/fashion-mnist";
};

struct ExportedModel {
  FrozenModel model;
  Int8Model int8;
  Bundle bundle;
  std::string calibration;  // what the activation ranges were calibrated on
};

// Throws agilenn::Error naming the flag on bad options.
ExportedModel export_device_model(const ExportOptions& options);
// Parses "gap" or "grid:G" (G >= 1); throws naming --local-head.
int parse_local_head(const std::string& text);

// memory.json: flash/SRAM figures (measured with arm-none-eabi-size when `sizes` is given),
// arena layout and per-stage MACs.
Json memory_json(const ExportedModel& exported, const ArmSizes* sizes,
                 const std::string& size_note);

// Images of the model's input shape: Fashion-MNIST (train or t10k) or seeded random pixels.
std::vector<std::vector<uint8_t>> model_images(const FrozenModel& model, const std::string& source,
                                               const std::string& data_dir, bool train, size_t n,
                                               uint64_t seed);

}  // namespace agilenn::mcu
