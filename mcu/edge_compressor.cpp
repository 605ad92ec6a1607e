#include "mcu/edge_compressor.h"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "mcu/build_shell.h"
#include "mcu/codegen.h"
#include "mcu/device_harness.h"
#include "nn/io/atomic_file.h"
#include "nn/io/error.h"

// The host's reference PNG writer: the same header the device build compiles, static here so it
// cannot clash with another translation unit's stb implementation (bench-e2e has one).
#define STBI_WRITE_NO_STDIO
#define STB_IMAGE_WRITE_STATIC
#define STB_IMAGE_WRITE_IMPLEMENTATION
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-function"
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
#include <stb/stb_image_write.h>
#pragma GCC diagnostic pop

#ifndef AGILENN_STB_IMAGE_WRITE_H
#define AGILENN_STB_IMAGE_WRITE_H "/usr/include/stb/stb_image_write.h"
#endif

namespace agilenn::mcu {

namespace fs = std::filesystem;

namespace {

struct Symbol {
  char type;
  size_t size;
};
// name -> (type, size) of the sized symbols nm lists for `file`.
std::multimap<std::string, Symbol> nm_symbols(const std::string& file, bool defined_only,
                                              const std::string& work_dir) {
  const std::string out = work_dir + "/" + fs::path(file).filename().string() + ".nm.txt";
  run_step("arm-none-eabi-nm of " + file,
           "arm-none-eabi-nm -S " + std::string(defined_only ? "--defined-only " : "") +
               shell_quote(file) + " > " + shell_quote(out),
           out + ".log");
  std::multimap<std::string, Symbol> syms;
  std::istringstream in(read_text_or_empty(out));
  for (std::string line; std::getline(in, line);) {
    std::istringstream ls(line);
    std::string addr, size, type, name;
    if (!(ls >> addr >> size >> type >> name) || type.size() != 1) continue;  // unsized symbol
    syms.insert({name, Symbol{type[0], size_t(std::stoul(size, nullptr, 16))}});
  }
  return syms;
}

void write_png_sources(std::span<const std::vector<uint8_t>> images, const ImageShape& shape,
                       const std::string& dir) {
  if (images.empty()) throw Error("PNG compressor run: no images");
  if (shape.bytes() == 0) throw Error("PNG compressor run: empty image shape");
  for (const auto& im : images)
    if (im.size() != shape.bytes())
      throw Error("PNG compressor run: an image has " + std::to_string(im.size()) +
                  " bytes, the shape " + std::to_string(shape.bytes()));
  fs::create_directories(dir);
  std::ostringstream os;
  os << "/* Images for the PNG driver (generated). */\n#include <stdint.h>\n"
     << "const int agilenn_png_count = " << images.size() << ", agilenn_png_width = " << shape.width
     << ", agilenn_png_height = " << shape.height << ", agilenn_png_channels = " << shape.channels
     << ";\n"
     << "const uint8_t agilenn_png_images[] = {\n";
  for (const auto& im : images) {
    for (uint8_t v : im) os << int(v) << ",";
    os << "\n";
  }
  os << "};\n";
  write_file_atomic(dir + "/agilenn_png_images.c", os.str());
  for (const char* f : {"agilenn_png_main.c", "agilenn_png.c", "agilenn_png.h"})
    write_file_atomic(dir + "/" + f, std::string(embedded_c_source(f)));
  auto header = read_file_bytes(AGILENN_STB_IMAGE_WRITE_H);
  write_file_atomic(dir + "/stb_image_write.h", header);
}

PngCompressorRun parse_png_output(std::span<const std::vector<uint8_t>> images,
                                  const ImageShape& shape, const std::string& out) {
  std::istringstream in(read_text_or_empty(out));
  PngCompressorRun run;
  double ticks = 0, bytes = 0;
  uint64_t overhead = 0;
  bool done = false;
  for (std::string line; std::getline(in, line);) {
    std::istringstream ls(line);
    std::string tag;
    ls >> tag;
    if (tag == "P") {
      size_t i, peak;
      uint64_t t;
      std::string hex;
      if (!(ls >> i >> t >> peak >> hex) || i != run.images || i >= images.size() ||
          hex.size() % 2 != 0)
        throw error_at(out, "bad PNG line: " + line.substr(0, 200));
      std::vector<uint8_t> png;
      for (size_t k = 0; k + 1 < hex.size(); k += 2)
        png.push_back(uint8_t(std::stoul(hex.substr(k, 2), nullptr, 16)));
      run.mismatches += png != host_png(images[i], shape);
      run.peak_heap_bytes = std::max(run.peak_heap_bytes, peak);
      ticks += double(t);
      bytes += double(png.size());
      run.payloads.push_back(std::move(png));
      ++run.images;
    } else if (tag == "O") {
      ls >> overhead;
    } else if (tag == "H") {
      ls >> run.newlib_heap_arena;
    } else if (tag == "DONE") {
      done = true;
    } else if (tag == "ERROR") {
      throw error_at(out, line);
    }
  }
  if (!done || run.images != images.size())
    throw error_at(out, "PNG driver output incomplete (" + std::to_string(run.images) + " of " +
                            std::to_string(images.size()) + " images)");
  run.instructions_per_image =
      std::max(0.0, (ticks / double(run.images) - double(overhead)) / kTicksPerInstruction);
  run.mean_payload_bytes = bytes / double(run.images);
  return run;
}

}  // namespace

CompressorFootprint measure_compressor_footprint(const std::string& elf, const std::string& object,
                                                 const std::string& work_dir) {
  auto obj = nm_symbols(object, true, work_dir);
  auto linked = nm_symbols(elf, false, work_dir);
  CompressorFootprint f;
  size_t kept = 0;
  for (const auto& [name, s] : obj) {
    bool in_elf = false;
    auto [lo, hi] = linked.equal_range(name);
    for (auto it = lo; it != hi; ++it) in_elf |= it->second.size == s.size;
    if (!in_elf) continue;
    ++kept;
    switch (s.type) {
      case 'T':
      case 't':
        f.code_bytes += s.size;
        break;
      case 'R':
      case 'r':
        f.rodata_bytes += s.size;
        break;
      case 'D':
      case 'd':
        f.data_bytes += s.size;
        break;
      case 'B':
      case 'b':
        f.bss_bytes += s.size;
        break;
      default:
        break;
    }
  }
  if (kept == 0) throw error_at(elf, "no symbol of " + object + " is in the linked program");
  f.note = "symbols of " + fs::path(object).filename().string() +
           " kept in the linked Cortex-M7 ELF (arm-none-eabi-nm sizes; newlib functions it calls "
           "are not counted)";
  return f;
}

std::vector<uint8_t> host_png(std::span<const uint8_t> image, const ImageShape& shape) {
  if (image.size() != shape.bytes())
    throw Error("host_png: image of " + std::to_string(image.size()) + " bytes for a shape of " +
                std::to_string(shape.bytes()));
  int len = 0;
  unsigned char* p = stbi_write_png_to_mem(image.data(), shape.width * shape.channels, shape.width,
                                           shape.height, shape.channels, &len);
  if (!p) throw Error("host_png: stb_image_write failed");
  std::vector<uint8_t> png(p, p + len);
  STBIW_FREE(p);
  return png;
}

PngCompressorRun run_png_on_qemu(std::span<const std::vector<uint8_t>> images,
                                 const ImageShape& shape, const std::string& work_dir,
                                 int timeout_seconds) {
  for (const char* tool : {"arm-none-eabi-gcc", "arm-none-eabi-nm", "qemu-system-arm"}) {
    std::string why = tool_missing_reason(tool);
    if (!why.empty()) throw Error("PNG QEMU run: " + why);
  }
  write_png_sources(images, shape, work_dir);
  for (const char* f : {"qemu_startup.c", "qemu_mps2_an500.ld"})
    write_file_atomic(work_dir + "/" + f, std::string(embedded_c_source(f)));
  const std::string gcc = std::string("arm-none-eabi-gcc ") + kCortexM7Flags +
                          " -std=c99 -Wall -Wextra -ffunction-sections -fdata-sections";
  const std::string log = work_dir + "/png_build.log";
  const std::string obj = work_dir + "/agilenn_png.m7.o", elf = work_dir + "/agilenn_png_m7.elf";
  // The compressor as its own object (the footprint is read from its symbols).
  run_step("Cortex-M7 compile of the PNG compressor",
           gcc + " -c " + shell_quote(work_dir + "/agilenn_png.c") + " -o " + shell_quote(obj),
           log);
  std::string cmd = gcc + " -DAGILENN_QEMU " + shell_quote(obj);
  for (const char* f : {"agilenn_png_main.c", "agilenn_png_images.c", "qemu_startup.c"})
    cmd += ' ' + shell_quote(work_dir + "/" + f);
  cmd += " -nostartfiles --specs=rdimon.specs -Wl,--gc-sections -T " +
         shell_quote(work_dir + "/qemu_mps2_an500.ld") + " -lm -o " + shell_quote(elf);
  run_step("Cortex-M7 build of the PNG driver", cmd, log);
  const std::string out = work_dir + "/png_output.txt";
  run_step("QEMU run of the PNG driver", qemu_command(elf, out, timeout_seconds),
           work_dir + "/png_run.log");
  PngCompressorRun run = parse_png_output(images, shape, out);
  run.footprint = measure_compressor_footprint(elf, obj, work_dir);
  run.footprint.note += "; heap: the counting allocator's peak of requested bytes";
  return run;
}

PngCompressorRun run_png_on_host(std::span<const std::vector<uint8_t>> images,
                                 const ImageShape& shape, const std::string& work_dir,
                                 const std::string& cc) {
  write_png_sources(images, shape, work_dir);
  const std::string exe = work_dir + "/agilenn_png_host";
  std::string cmd = cc + " -std=c99 -O2 -Wall -Wextra -pedantic -Werror -I" + shell_quote(work_dir);
  for (const char* f : {"agilenn_png.c", "agilenn_png_main.c", "agilenn_png_images.c"})
    cmd += ' ' + shell_quote(work_dir + "/" + f);
  run_step("host build of the PNG driver", cmd + " -lm -o " + shell_quote(exe),
           work_dir + "/png_host_build.log");
  const std::string out = work_dir + "/png_host_output.txt";
  run_step("host run of the PNG driver", shell_quote(exe) + " > " + shell_quote(out),
           work_dir + "/png_host_run.log");
  return parse_png_output(images, shape, out);
}

LzwFootprint measure_lzw_footprint(const std::string& dir) {
  const std::string elf = dir + "/agilenn_lzw_m7.elf", src = dir + "/agilenn_lzw.c";
  if (!fs::exists(elf) || !fs::exists(src))
    throw error_at(dir, "no LZW build here (run_lzw_on_qemu writes agilenn_lzw_m7.elf)");
  const std::string obj = dir + "/agilenn_lzw.m7.o";
  run_step("Cortex-M7 compile of the LZW encoder",
           std::string("arm-none-eabi-gcc ") + kCortexM7Flags +
               " -std=c99 -ffunction-sections -fdata-sections -c " + shell_quote(src) + " -o " +
               shell_quote(obj),
           dir + "/lzw_size.log");
  LzwFootprint f;
  f.compressor = measure_compressor_footprint(elf, obj, dir);
  auto linked = nm_symbols(elf, false, dir);
  auto size_of = [&](const std::string& name) {
    auto it = linked.find(name);
    if (it == linked.end()) throw error_at(elf, "no symbol " + name);
    return it->second.size;
  };
  f.work_bytes = size_of("agilenn_lzw_work");
  f.out_bytes = size_of("agilenn_lzw_out");
  return f;
}

}  // namespace agilenn::mcu
