// agilenn export-mcu: quantize the device part to int8 and write the C99 bundle + memory.json.
#include <unistd.h>
#include <cstdio>
#include <filesystem>
#include <string>

#include <cxxopts.hpp>

#include "mcu/export.h"
#include "nn/io/atomic_file.h"
#include "nn/io/error.h"
#include "tools/cli/command.h"

namespace {

int run_export_mcu(int argc, char** argv) {
  cxxopts::Options opts(argv[0],
                        "Quantize the device part of AgileNN to int8 and write a C99 bundle "
                        "(agilenn_model.{h,c}, agilenn_kernels.h, agilenn_codec.h, "
                        "agilenn_weights.c, README.md, memory.json).");
  opts.add_options()("model", "Trained model: directory of model.safetensors (agilenn train)",
                     cxxopts::value<std::string>()->default_value(""))(
      "dataset", "Data set of the trained model's calibration images (default: the model's own)",
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
      "out", "Output directory of the bundle",
      cxxopts::value<std::string>()->default_value("device"))("h,help", "Show this help");
  try {
    auto r = opts.parse(argc, argv);
    if (r.count("help")) {
      std::puts(opts.help().c_str());
      return 0;
    }
    agilenn::mcu::ExportOptions o;
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
    std::string out = r["out"].as<std::string>();
    auto e = agilenn::mcu::export_device_model(o);
    agilenn::mcu::write_bundle(e.bundle, out);
    std::string why = agilenn::mcu::tool_missing_reason("arm-none-eabi-gcc");
    agilenn::Json mem;
    if (why.empty()) {
      auto tmp = std::filesystem::temp_directory_path() /
                 ("agilenn_export_mcu_" + std::to_string(getpid()));
      auto sizes =
          agilenn::mcu::measure_arm_sizes(std::filesystem::absolute(out).string(), tmp.string());
      std::filesystem::remove_all(tmp);
      mem = agilenn::mcu::memory_json(e, &sizes, "");
    } else {
      mem = agilenn::mcu::memory_json(e, nullptr, "not measured: " + why);
    }
    agilenn::write_file_atomic(out + "/memory.json", mem.dump(2) + "\n");
    std::printf("wrote %s/: arena %zu B, weights %zu B, flash %s B, SRAM %s B, %lld MACs/image\n",
                out.c_str(), e.bundle.arena_bytes, e.bundle.weight_bytes,
                mem.at("flash_bytes").dump().c_str(), mem.at("sram_bytes").dump().c_str(),
                (long long)e.bundle.macs_per_image());
    return 0;
  } catch (const cxxopts::exceptions::exception& ex) {
    std::fprintf(stderr, "agilenn export-mcu: %s\n", ex.what());
    return 2;
  } catch (const agilenn::Error& ex) {
    std::fprintf(stderr, "agilenn export-mcu: %s\n", ex.what());
    return 1;
  }
}

agilenn::cli::CommandRegistrar reg("export-mcu",
                                   "Quantize the device part to int8 and write the C bundle",
                                   run_export_mcu);
}  // namespace
