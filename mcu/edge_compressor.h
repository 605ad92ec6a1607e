// The edge-only baseline's compressors measured on the device: stb_image_write's PNG writer
// (mcu/c/agilenn_png.c, counting allocator) run under QEMU mps2-an500 like run_lzw_on_qemu
// (mcu/device_harness.h), and the flash / SRAM footprint of each compressor build read from its
// Cortex-M7 ELF.
#pragma once
#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace agilenn::mcu {

struct ImageShape {
  int height = 0, width = 0, channels = 0;
  size_t bytes() const { return size_t(height) * size_t(width) * size_t(channels); }
};

// Flash and static RAM of one compressor object (its functions, tables and variables that the
// linker kept in the ELF), from arm-none-eabi-nm symbol sizes. Library code the compressor calls
// (newlib's malloc/realloc/free/memmove/memset for PNG) is not included: see `note`.
struct CompressorFootprint {
  size_t code_bytes = 0, rodata_bytes = 0, data_bytes = 0, bss_bytes = 0;
  size_t flash_bytes() const { return code_bytes + rodata_bytes + data_bytes; }
  std::string note;
};
// `object`: the compressor's .o compiled with the ELF's flags and -ffunction-sections; a symbol
// counts when the ELF holds a symbol of the same name and size. Throws agilenn::Error naming the
// file when nm fails or no symbol of the object is in the ELF.
CompressorFootprint measure_compressor_footprint(const std::string& elf, const std::string& object,
                                                 const std::string& work_dir);

// PNG of one image on the host: stbi_write_png_to_mem with stb's defaults (compression level 8,
// adaptive filter), the bytes bench-e2e counts for edge-only PNG.
std::vector<uint8_t> host_png(std::span<const uint8_t> image, const ImageShape& shape);

struct PngCompressorRun {
  size_t images = 0;
  double instructions_per_image = 0;  // mean, empty-call overhead subtracted (0 on the host)
  double mean_payload_bytes = 0;
  size_t mismatches = 0;          // PNGs that differ from host_png's
  size_t peak_heap_bytes = 0;     // max over images of the counting allocator's peak
  size_t newlib_heap_arena = 0;   // mallinfo().arena after the run (QEMU; includes stdio buffers)
  CompressorFootprint footprint;  // QEMU only
  std::vector<std::vector<uint8_t>> payloads;
};
// Cortex-M7 under QEMU (kCortexM7Flags, -icount shift=7, timer0), every PNG compared with
// host_png. Throws agilenn::Error if a tool is missing or the driver fails.
PngCompressorRun run_png_on_qemu(std::span<const std::vector<uint8_t>> images,
                                 const ImageShape& shape, const std::string& work_dir,
                                 int timeout_seconds = 300);
// The same driver compiled for the host with `cc` (no timing, no footprint).
PngCompressorRun run_png_on_host(std::span<const std::vector<uint8_t>> images,
                                 const ImageShape& shape, const std::string& work_dir,
                                 const std::string& cc = "cc");

// The LZW build run_lzw_on_qemu leaves in `lzw_work_dir`: flash of codec/c's encoder and the
// SRAM it is given (its hash-table work area and output buffer, from the ELF's symbols).
struct LzwFootprint {
  CompressorFootprint compressor;
  size_t work_bytes = 0, out_bytes = 0;
};
LzwFootprint measure_lzw_footprint(const std::string& lzw_work_dir);

}  // namespace agilenn::mcu
