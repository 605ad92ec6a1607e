#include "mcu/device_harness.h"

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "codec/lzw.h"
#include "mcu/build_shell.h"
#include "mcu/codegen.h"
#include "nn/io/atomic_file.h"
#include "nn/io/error.h"

namespace agilenn::mcu {

namespace fs = std::filesystem;

namespace {

void write_test_sources(const std::string& dir, std::span<const std::vector<uint8_t>> images) {
  if (images.empty()) throw Error("device harness: no test images");
  std::ostringstream os;
  os << "/* Test images for the bundle's test driver (generated). */\n#include "
        "\"agilenn_model.h\"\n"
     << "const int agilenn_test_count = " << images.size() << ";\n"
     << "const uint8_t agilenn_test_images[" << images.size() << "][AGILENN_INPUT_BYTES] = {\n";
  for (const auto& im : images) {
    os << "{";
    for (size_t i = 0; i < im.size(); ++i) os << int(im[i]) << (i + 1 < im.size() ? "," : "");
    os << "},\n";
  }
  os << "};\n";
  write_file_atomic(dir + "/agilenn_test_images.c", os.str());
  write_file_atomic(dir + "/agilenn_test_main.c",
                    std::string(embedded_c_source("agilenn_test_main.c")));
}

DeviceRun parse_output(const std::string& out, size_t n_images, const std::string& where) {
  DeviceRun run;
  std::istringstream in(out);
  std::string line;
  bool done = false;
  while (std::getline(in, line)) {
    std::istringstream ls(line);
    std::string tag;
    ls >> tag;
    if (tag == "R") {
      DeviceImageResult r;
      size_t idx;
      ls >> idx >> r.rc >> r.ticks;
      std::vector<std::string> rest;
      for (std::string t; ls >> t;) rest.push_back(t);
      if (rest.empty()) throw error_at(where, "malformed result line: " + line);
      // The last token is the packet (hex); a zero-length packet leaves no token.
      std::string hex = rest.back();
      bool is_hex = hex.find_first_not_of("0123456789abcdef") == std::string::npos &&
                    hex.size() % 2 == 0 && rest.size() > 1;
      if (is_hex) rest.pop_back();
      for (const auto& t : rest) r.logits.push_back(int32_t(std::stol(t)));
      if (is_hex)
        for (size_t i = 0; i < hex.size(); i += 2)
          r.packet.push_back(uint8_t(std::stoul(hex.substr(i, 2), nullptr, 16)));
      if (idx != run.images.size()) throw error_at(where, "result lines out of order: " + line);
      run.images.push_back(std::move(r));
    } else if (tag == "S") {
      size_t idx;
      ls >> idx;
      if (idx + 1 != run.images.size()) throw error_at(where, "stage line out of order: " + line);
      for (uint64_t t; ls >> t;) run.images.back().stage_ticks.push_back(t);
    } else if (tag == "O") {
      ls >> run.call_overhead_ticks;
    } else if (tag == "DONE") {
      done = true;
    }
  }
  if (!done || run.images.size() != n_images)
    throw error_at(where, "the test program printed " + std::to_string(run.images.size()) + " of " +
                              std::to_string(n_images) + " results" + (done ? "" : " and no DONE") +
                              ":\n" +
                              (out.size() <= 2000 ? out : "..." + out.substr(out.size() - 2000)));
  return run;
}

}  // namespace

std::string tool_missing_reason(const std::string& tool) {
  std::string cmd = "command -v " + tool + " > /dev/null 2>&1";
  if (std::system(cmd.c_str()) == 0) return "";
  return tool + " is not installed (not found on PATH)";
}

DeviceRun run_bundle_on_host(const std::string& bundle_dir,
                             std::span<const std::vector<uint8_t>> images,
                             const std::string& work_dir, const std::string& cc) {
  fs::create_directories(work_dir);
  write_test_sources(work_dir, images);
  std::string inc = "-I" + shell_quote(bundle_dir);
  std::string base = cc + " -std=c99 -O2 " + inc;
  std::string objs;
  for (const char* f : {"agilenn_model", "agilenn_weights"}) {
    std::string obj = shell_quote(work_dir + "/" + f + ".host.o");
    run_step("host compile of " + std::string(f) + ".c",
             base + " -Wall -Wextra -pedantic -Werror -c " +
                 shell_quote(bundle_dir + "/" + f + ".c") + " -o " + obj,
             work_dir + "/host_build.log");
    objs += obj + " ";
  }
  std::string exe = work_dir + "/agilenn_host_test";
  run_step("host link",
           base + " -Wall " + objs + shell_quote(work_dir + "/agilenn_test_main.c") + " " +
               shell_quote(work_dir + "/agilenn_test_images.c") + " -o " + shell_quote(exe),
           work_dir + "/host_build.log");
  std::string out = work_dir + "/host_output.txt";
  run_step("host run", shell_quote(exe) + " > " + shell_quote(out), work_dir + "/host_run.log");
  return parse_output(read_text_or_empty(out), images.size(), out);
}

DeviceRun run_bundle_on_qemu(const std::string& bundle_dir,
                             std::span<const std::vector<uint8_t>> images,
                             const std::string& work_dir, int timeout_seconds) {
  for (const char* tool : {"arm-none-eabi-gcc", "qemu-system-arm"}) {
    std::string why = tool_missing_reason(tool);
    if (!why.empty()) throw Error("QEMU check: " + why);
  }
  fs::create_directories(work_dir);
  write_test_sources(work_dir, images);
  write_file_atomic(work_dir + "/qemu_startup.c", std::string(embedded_c_source("qemu_startup.c")));
  write_file_atomic(work_dir + "/qemu_mps2_an500.ld",
                    std::string(embedded_c_source("qemu_mps2_an500.ld")));
  std::string gcc = std::string("arm-none-eabi-gcc ") + kCortexM7Flags +
                    " -std=c99 -ffunction-sections -fdata-sections -I" + shell_quote(bundle_dir);
  std::string log = work_dir + "/qemu_build.log";
  std::string objs;
  for (const char* f : {"agilenn_model", "agilenn_weights"}) {
    std::string obj = shell_quote(work_dir + "/" + f + ".m7.o");
    run_step("Cortex-M7 compile of " + std::string(f) + ".c",
             gcc + " -Wall -Wextra -pedantic -Werror -DAGILENN_PROFILE -c " +
                 shell_quote(bundle_dir + "/" + f + ".c") + " -o " + obj,
             log);
    objs += obj + " ";
  }
  std::string elf = work_dir + "/agilenn_m7_test.elf";
  run_step("Cortex-M7 link",
           gcc + " -Wall -DAGILENN_QEMU " + objs + shell_quote(work_dir + "/agilenn_test_main.c") +
               " " + shell_quote(work_dir + "/agilenn_test_images.c") + " " +
               shell_quote(work_dir + "/qemu_startup.c") +
               " -nostartfiles --specs=rdimon.specs -Wl,--gc-sections -T " +
               shell_quote(work_dir + "/qemu_mps2_an500.ld") + " -Wl,-Map=" +
               shell_quote(work_dir + "/agilenn_m7_test.map") + " -o " + shell_quote(elf),
           log);
  std::string out = work_dir + "/qemu_output.txt";
  run_step("QEMU run", qemu_command(elf, out, timeout_seconds), work_dir + "/qemu_run.log");
  return parse_output(read_text_or_empty(out), images.size(), out);
}

EdgeCompressorRun run_lzw_on_qemu(std::span<const std::vector<uint8_t>> images,
                                  const std::string& work_dir, int timeout_seconds) {
  for (const char* tool : {"arm-none-eabi-gcc", "qemu-system-arm"}) {
    std::string why = tool_missing_reason(tool);
    if (!why.empty()) throw Error("LZW QEMU run: " + why);
  }
  if (images.empty()) throw Error("LZW QEMU run: no images");
  for (const auto& im : images)
    if (im.size() != images[0].size() || im.empty())
      throw Error("LZW QEMU run: images must be non-empty and of one size");
  fs::create_directories(work_dir);
  std::ostringstream os;
  const size_t out_bytes = images[0].size() * 3 / 2 + 16;  // LZW: <= 12 bits per input byte
  os << "/* Images for the LZW driver (generated). */\n#include <stddef.h>\n#include <stdint.h>\n"
     << "const int agilenn_lzw_count = " << images.size() << ";\n"
     << "const int agilenn_lzw_image_bytes = " << images[0].size() << ";\n"
     << "const size_t agilenn_lzw_work_slots = 8192;\nuint32_t agilenn_lzw_work[8192];\n"
     << "const size_t agilenn_lzw_out_bytes = " << out_bytes << ";\n"
     << "uint8_t agilenn_lzw_out[" << out_bytes << "];\n"
     << "const uint8_t agilenn_lzw_images[] = {\n";
  for (const auto& im : images) {
    for (uint8_t v : im) os << int(v) << ",";
    os << "\n";
  }
  os << "};\n";
  write_file_atomic(work_dir + "/agilenn_lzw_images.c", os.str());
  for (const char* f : {"agilenn_lzw_main.c", "agilenn_lzw.c", "agilenn_lzw.h", "qemu_startup.c",
                        "qemu_mps2_an500.ld"})
    write_file_atomic(work_dir + "/" + f, std::string(embedded_c_source(f)));
  const std::string elf = work_dir + "/agilenn_lzw_m7.elf";
  std::string cmd = std::string("arm-none-eabi-gcc ") + kCortexM7Flags +
                    " -std=c99 -Wall -Wextra -pedantic -ffunction-sections -fdata-sections";
  for (const char* f :
       {"agilenn_lzw_main.c", "agilenn_lzw.c", "agilenn_lzw_images.c", "qemu_startup.c"})
    cmd += " " + shell_quote(work_dir + "/" + f);
  cmd += " -nostartfiles --specs=rdimon.specs -Wl,--gc-sections -T " +
         shell_quote(work_dir + "/qemu_mps2_an500.ld") + " -o " + shell_quote(elf);
  run_step("Cortex-M7 build of the LZW driver", cmd, work_dir + "/lzw_build.log");
  const std::string out = work_dir + "/lzw_output.txt";
  run_step("QEMU run of the LZW driver", qemu_command(elf, out, timeout_seconds),
           work_dir + "/lzw_run.log");
  std::istringstream in(read_text_or_empty(out));
  EdgeCompressorRun run;
  double ticks = 0, bytes = 0;
  uint64_t overhead = 0;
  bool done = false;
  for (std::string line; std::getline(in, line);) {
    std::istringstream ls(line);
    std::string tag;
    ls >> tag;
    if (tag == "L") {
      size_t i;
      uint64_t t;
      std::string hex;
      if (!(ls >> i >> t) || i != run.images || i >= images.size())
        throw error_at(out, "bad LZW line: " + line);
      ls >> hex;  // empty for an empty payload (never for a non-empty image)
      std::vector<uint8_t> payload;
      for (size_t k = 0; k + 1 < hex.size(); k += 2)
        payload.push_back(uint8_t(std::stoul(hex.substr(k, 2), nullptr, 16)));
      run.mismatches += payload != codec::lzw_encode(images[i], 256);
      ticks += double(t);
      bytes += double(payload.size());
      ++run.images;
    } else if (tag == "O") {
      ls >> overhead;
    } else if (tag == "DONE") {
      done = true;
    } else if (tag == "ERROR") {
      throw error_at(out, line);
    }
  }
  if (!done || run.images != images.size())
    throw error_at(out, "LZW driver output incomplete (" + std::to_string(run.images) + " of " +
                            std::to_string(images.size()) + " images)");
  run.instructions_per_image =
      (ticks / double(run.images) - double(overhead)) / kTicksPerInstruction;
  run.mean_payload_bytes = bytes / double(run.images);
  return run;
}

ArmSizes measure_arm_sizes(const std::string& bundle_dir, const std::string& work_dir) {
  std::string why = tool_missing_reason("arm-none-eabi-gcc");
  if (!why.empty()) throw Error("flash/stack measurement: " + why);
  fs::create_directories(work_dir);
  std::string gcc = std::string("arm-none-eabi-gcc ") + kCortexM7Flags +
                    " -std=c99 -ffunction-sections -fdata-sections -fstack-usage -I" +
                    shell_quote(bundle_dir);
  std::string log = work_dir + "/size_build.log";
  std::string objs;
  for (const char* f : {"agilenn_model", "agilenn_weights"}) {
    std::string obj = work_dir + "/" + f + ".size.o";
    run_step("Cortex-M7 compile of " + std::string(f) + ".c",
             "cd " + shell_quote(work_dir) + " && " + gcc + " -c " +
                 shell_quote(bundle_dir + "/" + f + ".c") + " -o " + shell_quote(obj),
             log);
    objs += shell_quote(obj) + " ";
  }
  std::string size_out = work_dir + "/size.txt";
  run_step("arm-none-eabi-size", "arm-none-eabi-size " + objs + " > " + shell_quote(size_out), log);
  ArmSizes s;
  std::istringstream in(read_text_or_empty(size_out));
  std::string line;
  std::getline(in, line);  // header: text data bss dec hex filename
  while (std::getline(in, line)) {
    std::istringstream ls(line);
    size_t t, d, b;
    if (ls >> t >> d >> b) {
      s.text += t;
      s.data += d;
      s.bss += b;
    }
  }
  // Stack: agilenn_run's frame plus the two largest other frames (the call depth is at most
  // three: agilenn_run -> kernel -> helper), a conservative bound.
  std::map<std::string, size_t> frames;
  std::istringstream su(read_text_or_empty(work_dir + "/agilenn_model.size.su"));
  while (std::getline(su, line)) {
    auto tab = line.find('\t');
    auto colon = line.rfind(':', tab);
    if (tab == std::string::npos || colon == std::string::npos) continue;
    frames[line.substr(colon + 1, tab - colon - 1)] = std::stoul(line.substr(tab + 1));
  }
  if (!frames.count("agilenn_run"))
    throw Error("flash/stack measurement: no stack usage for agilenn_run");
  std::vector<size_t> others;
  for (const auto& [name, bytes] : frames)
    if (name != "agilenn_run") others.push_back(bytes);
  std::sort(others.rbegin(), others.rend());
  s.stack_bytes = frames["agilenn_run"] + (others.size() > 0 ? others[0] : 0) +
                  (others.size() > 1 ? others[1] : 0);
  s.stack_note = "agilenn_run frame (" + std::to_string(frames["agilenn_run"]) +
                 " B) + the two largest other frames, from -fstack-usage (call depth <= 3)";
  return s;
}

}  // namespace agilenn::mcu
