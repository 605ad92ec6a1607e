#include "runtime/session_flags.h"

#include "nn/io/error.h"

namespace agilenn::runtime {

void add_model_flags(cxxopts::Options& opts) {
  // clang-format off
  opts.add_options()
      ("model", "trained model directory (agilenn train)", cxxopts::value<std::string>()->default_value("runs/agile"))
      ("dataset", "data set (default: the model's own, from its metadata)", cxxopts::value<std::string>()->default_value(""))
      ("data-dir", "data set directory (default: the installed one)", cxxopts::value<std::string>()->default_value(""))
      ("calib-images", "training images calibrating the int8 export (as mcu-check; both ends must agree)", cxxopts::value<size_t>()->default_value("256"))
      ("fit-images", "training images the codec tables are fitted on (int8 device's indices, as mcu-check) when the model file has none; both ends must agree", cxxopts::value<size_t>()->default_value("1000"));
  // clang-format on
}

void add_device_flags(cxxopts::Options& opts) {
  // clang-format off
  opts.add_options()
      ("device-path", "device half: int8 (the MCU's fixed-point code, mcu/reference) or float (the float model)", cxxopts::value<std::string>()->default_value("int8"))
      ("limit", "only the first N test images (0 = all)", cxxopts::value<size_t>()->default_value("0"))
      ("mcu-summary", "summary.json of agilenn mcu-check (instructions per image, flash/SRAM); without it device compute is not modelled", cxxopts::value<std::string>()->default_value(""))
      ("rtt-ms", "simulated round-trip time added to every request", cxxopts::value<double>()->default_value("0"));
  // clang-format on
}

SessionOptions session_options(const cxxopts::ParseResult& r, bool with_device) {
  SessionOptions so;
  so.model_dir = r["model"].as<std::string>();
  so.dataset = r["dataset"].as<std::string>();
  so.data_dir = r["data-dir"].as<std::string>();
  so.calib_images = r["calib-images"].as<size_t>();
  so.fit_images = r["fit-images"].as<size_t>();
  if (so.calib_images == 0) throw error_at("--calib-images", "must be >= 1");
  if (so.fit_images == 0) throw error_at("--fit-images", "must be >= 1");
  if (with_device) {
    so.device_path = r["device-path"].as<std::string>();
    so.limit_test = r["limit"].as<size_t>();
    if (so.device_path != "int8" && so.device_path != "float")
      throw error_at("--device-path", "expected int8 or float, got '" + so.device_path + "'");
  } else {
    so.need_test = false;
    so.need_device = false;
  }
  return so;
}

DeviceFlags device_flags(const cxxopts::ParseResult& r) {
  DeviceFlags f;
  f.mcu_summary = r["mcu-summary"].as<std::string>();
  f.rtt_ms = r["rtt-ms"].as<double>();
  if (!(f.rtt_ms >= 0)) throw error_at("--rtt-ms", "must be >= 0");
  return f;
}

}  // namespace agilenn::runtime
