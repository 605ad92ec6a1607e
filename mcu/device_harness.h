// Builds a generated bundle with a test driver (mcu/c/agilenn_test_main.c) and runs it on the host
// or on a Cortex-M7 under QEMU mps2-an500, returning what the device computed for each image.
#pragma once
#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace agilenn::mcu {

struct DeviceImageResult {
  int rc = 0;
  uint64_t ticks = 0;  // CMSDK timer0 ticks around agilenn_run (0 on the host)
  std::vector<int32_t> logits;
  std::vector<uint8_t> packet;
  std::vector<uint64_t> stage_ticks;
};

struct DeviceRun {
  std::vector<DeviceImageResult> images;
  uint64_t call_overhead_ticks = 0;  // ticks around an empty noipa call
};

// Cortex-M7 flags of the verification build (hard float ABI).
inline constexpr const char* kCortexM7Flags =
    "-O2 -mcpu=cortex-m7 -mthumb -mfloat-abi=hard -mfpu=fpv5-d16";
// QEMU's instruction clock: with -icount shift=7 each instruction takes 128 ns of virtual time and
// timer0 runs at 25 MHz, so instructions = ticks / 3.2.
inline constexpr double kTicksPerInstruction = 3.2;

// "" if `tool` is on PATH, else a sentence saying it is missing.
std::string tool_missing_reason(const std::string& tool);

// Host: compiles the bundle with `cc` (-std=c99 -Wall -Wextra -pedantic -Werror on the bundle's
// files) and runs it. Throws agilenn::Error with the compiler/run log on failure.
DeviceRun run_bundle_on_host(const std::string& bundle_dir,
                             std::span<const std::vector<uint8_t>> images,
                             const std::string& work_dir, const std::string& cc = "cc");
// Cortex-M7: arm-none-eabi-gcc with kCortexM7Flags, own startup + linker script, images
// embedded, run under qemu-system-arm -M mps2-an500 -icount shift=7 with semihosting.
DeviceRun run_bundle_on_qemu(const std::string& bundle_dir,
                             std::span<const std::vector<uint8_t>> images,
                             const std::string& work_dir, int timeout_seconds = 600);

// The edge-only baseline's compressor on the device: codec/c's LZW encoder on the raw image bytes
// (alphabet 256), built like run_bundle_on_qemu (mcu/c/agilenn_lzw_main.c driver) and timed the
// same way; every payload is compared with codec::lzw_encode.
struct EdgeCompressorRun {
  size_t images = 0;
  double instructions_per_image = 0;  // mean, empty-call overhead subtracted
  double mean_payload_bytes = 0;
  size_t mismatches = 0;  // payloads that differ from codec::lzw_encode's
};
EdgeCompressorRun run_lzw_on_qemu(std::span<const std::vector<uint8_t>> images,
                                  const std::string& work_dir, int timeout_seconds = 300);

struct ArmSizes {
  size_t text = 0, data = 0, bss = 0;  // of agilenn_model.o + agilenn_weights.o
  size_t stack_bytes = 0;              // estimate from -fstack-usage, see stack_note
  std::string stack_note;
  size_t flash_bytes() const { return text + data; }
  size_t static_ram_bytes() const { return data + bss; }
};
// Compiles the bundle for Cortex-M7 (no profiling) and measures it with arm-none-eabi-size.
ArmSizes measure_arm_sizes(const std::string& bundle_dir, const std::string& work_dir);

}  // namespace agilenn::mcu
