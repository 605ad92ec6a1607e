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
#include "tools/cli/commands/mcu_export_flags.h"

namespace {

int run_export_mcu(int argc, char** argv) {
  cxxopts::Options opts(argv[0],
                        "Quantize the device part of AgileNN to int8 and write a C99 bundle "
                        "(agilenn_model.{h,c}, agilenn_kernels.h, agilenn_codec.h, "
                        "agilenn_weights.c, README.md, memory.json).");
  agilenn::cli::add_mcu_export_flags(opts);
  opts.add_options()("out", "Output directory of the bundle",
                     cxxopts::value<std::string>()->default_value("device"))("h,help",
                                                                             "Show this help");
  try {
    auto r = opts.parse(argc, argv);
    if (r.count("help")) {
      std::puts(opts.help().c_str());
      return 0;
    }
    const agilenn::mcu::ExportOptions o = agilenn::cli::mcu_export_options(r);
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
