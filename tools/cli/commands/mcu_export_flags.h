// The flags export-mcu and mcu-check share (which model, its calibration and codec tables), so
// the two commands accept and document them identically.
#pragma once
#include <string>

#include <cxxopts.hpp>

#include "mcu/export.h"

namespace agilenn::cli {

// Adds --model, --dataset, --codec-fit-images, --random-model, --seed, --preset, --local-head,
// --calib-source, --calib-images, --data-dir and --coder with their defaults.
inline void add_mcu_export_flags(cxxopts::Options& opts) {
  opts.add_options()("model", "Trained model: directory of model.safetensors (agilenn train)",
                     cxxopts::value<std::string>()->default_value(""))(
      "dataset", "Data set of the trained model's images (default: the model's own)",
      cxxopts::value<std::string>()->default_value(""))(
      "codec-fit-images",
      "Training images the codec tables are fitted on when the model file has none",
      cxxopts::value<size_t>()->default_value("1000"))(
      "random-model", "Use seeded random weights, default Fashion-MNIST shapes (default: off)",
      cxxopts::value<bool>()->default_value("false"))(
      "seed", "Seed of the random model", cxxopts::value<uint64_t>()->default_value("1"))(
      "preset",
      "Random model shapes: fashion (28x28x1, stride 2) or cifar (96x96x3, stride 3; use random "
      "images)",
      cxxopts::value<std::string>()->default_value("fashion"))(
      "local-head", "Random model's local predictor head: gap or grid:G",
      cxxopts::value<std::string>()->default_value("grid:4"))(
      "calib-source",
      "Random model's calibration images: fashion-mnist (training set) or random (a trained "
      "model calibrates on its own training set)",
      cxxopts::value<std::string>()->default_value("fashion-mnist"))(
      "calib-images", "Number of calibration images",
      cxxopts::value<size_t>()->default_value("256"))(
      "data-dir", "Data set directory (default: the data set's installed directory)",
      cxxopts::value<std::string>()->default_value(""))(
      "coder",
      "Device packet coder: context-static (codec coder 4), context-skip (coder 5: the remote "
      "channels the weights make constant are neither computed nor coded), or auto "
      "(context-skip when the weights fix a remote channel)",
      cxxopts::value<std::string>()->default_value("auto"));
}

inline mcu::ExportOptions mcu_export_options(const cxxopts::ParseResult& r) {
  mcu::ExportOptions o;
  o.model_dir = r["model"].as<std::string>();
  o.random_model = r["random-model"].as<bool>();
  o.seed = r["seed"].as<uint64_t>();
  o.local_head = r["local-head"].as<std::string>();
  o.preset = r["preset"].as<std::string>();
  o.calib_source = r["calib-source"].as<std::string>();
  o.calib_images = r["calib-images"].as<size_t>();
  o.data_dir = r["data-dir"].as<std::string>();
  o.dataset = r["dataset"].as<std::string>();
  o.codec_fit_images = r["codec-fit-images"].as<size_t>();
  o.coder = r["coder"].as<std::string>();
  return o;
}

}  // namespace agilenn::cli
