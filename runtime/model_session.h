// What serve, device and bench-e2e all start from: the trained model, its int8 export (the device
// graph mcu-check verifies, with the codec tables), the data set, the device path and the codec
// tables both ends share.
//
// The tables are always the int8 export's (mcu/export.h): the model file's "codec.tables"
// (`agilenn fit-codec`) when present, else fitted on the int8 device's indices of the first
// `fit_images` training images, exactly as `agilenn mcu-check` does. So serve, device (either
// path) and mcu-check agree on them without passing the device path to the server.
#pragma once
#include <memory>
#include <optional>
#include <string>

#include "codec/tables.h"
#include "mcu/export.h"
#include "nn/data/dataset.h"
#include "nn/io/json.h"
#include "runtime/device_compute.h"

namespace agilenn::runtime {

struct ModelSession {
  std::string model_dir;
  std::shared_ptr<xai::AgileModelFile> model;
  std::shared_ptr<const mcu::ExportedModel> exported;
  data::Dataset train, test;
  std::unique_ptr<DeviceComputation> device;  // the chosen device path
  std::unique_ptr<FloatDevice> float_device;  // the float extractor (features, comparisons)
  codec::CodecTables tables;
  std::string tables_how;
  double learned_alpha = 0.5;  // the model's alpha (0.5 for the sum combiner: same argmax)

  // The device half on n images (back to back) with every output's packet filled in: the
  // device's own packet (int8) or the indices coded with the tables (float).
  std::vector<DeviceOutput> run_device(std::span<const uint8_t> images, size_t n) const;
};

struct SessionOptions {
  std::string model_dir = "runs/agile";
  std::string dataset;  // "" = the model's own (its metadata)
  std::string data_dir;
  std::string device_path = "int8";  // int8 | float
  size_t calib_images = 256;         // as mcu-check: activation ranges of the int8 export
  size_t fit_images = 1000;          // as mcu-check: codec tables when the model file has none
  size_t limit_test = 0;             // 0 = the whole test split
  bool need_test = true;
  bool need_device = true;  // false: the server (model + tables only)
};

ModelSession open_session(const SessionOptions& o);

// instructions_per_image from `agilenn mcu-check`'s summary.json; nullopt (with the reason in
// *why) when the file is absent or has no count (QEMU skipped). Throws on a malformed file.
std::optional<double> read_mcu_instructions(const std::string& summary_path, std::string* why);

}  // namespace agilenn::runtime
