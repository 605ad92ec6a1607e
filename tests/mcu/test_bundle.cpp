// Export a tiny random model, compile the generated bundle for the host and for Cortex-M7, run it
// (QEMU mps2-an500 when installed) and compare every byte with the C++ fixed-point reference.
#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <random>

#include "codec/packet.h"
#include "mcu/codegen.h"
#include "mcu/device_harness.h"
#include "mcu/int8_model.h"
#include "mcu/packet_encoder.h"
#include "mcu/reference.h"

using namespace agilenn;
using namespace agilenn::mcu;

namespace {

std::vector<std::vector<uint8_t>> images(int n, size_t size, uint32_t seed) {
  std::mt19937 rng(seed);
  std::vector<std::vector<uint8_t>> out(n, std::vector<uint8_t>(size));
  for (auto& im : out)
    for (auto& p : im) p = uint8_t(rng() & 255);
  return out;
}

std::string command_output(const std::string& cmd) {
  std::string out;
  FILE* f = popen(cmd.c_str(), "r");
  BOOST_REQUIRE(f != nullptr);
  char buf[4096];
  for (size_t n; (n = fread(buf, 1, sizeof buf, f)) > 0;) out.append(buf, n);
  BOOST_REQUIRE_EQUAL(pclose(f), 0);
  return out;
}

struct Tiny {
  FrozenModel model;
  Int8Model q;
  Bundle bundle;
  std::string dir;
  std::vector<std::vector<uint8_t>> test;
};

// fit_on_constant: fit the codec tables on all-zero index maps, so the context coder expands the
// test images' maps and the packets fall back to packed bits (coder 0).
// zero_remote > 0: coder 5 (context-skip), with the weights of every zero_remote-th remote
// channel of the last conv zeroed (the weights then fix those channels' indices).
Tiny make_tiny(const std::string& name, RandomModelOptions opt, uint64_t seed,
               bool fit_on_constant = false, int zero_remote = 0) {
  Tiny t;
  t.model = random_frozen_model(opt, seed);
  size_t n_in = size_t(opt.in_h) * opt.in_w * opt.in_c;
  auto calib = images(16, n_in, 100 + seed);
  t.q = quantize_model(t.model, calib);
  if (zero_remote > 0) {
    Int8Conv& last = t.q.extractor.back();
    for (int o = t.q.split_k; o < last.out_c; o += zero_remote)
      for (int c = 0; c < last.in_c; ++c) last.weight[size_t(c) * last.out_c + o] = 0;
    t.q.device_coder = kDeviceSkipCoder;
    int fixed = 0;
    for (int v : device_constant_indices(t.q)) fixed += v >= 0;
    BOOST_REQUIRE_GE(fixed, (last.out_c - t.q.split_k + zero_remote - 1) / zero_remote);
  }
  if (fit_on_constant) {
    // Centroids at the quantiles of the remote values: near-uniform, noisy index maps.
    std::vector<int8_t> values;
    for (const auto& im : images(8, n_in, 200 + seed)) {
      auto r = reference_run(t.q, im, false);
      for (size_t p = 0; p < size_t(t.q.feat_h) * t.q.feat_w; ++p)
        for (int ch = t.q.split_k; ch < t.q.feat_c; ++ch)
          values.push_back(r.features[p * t.q.feat_c + ch]);
    }
    std::sort(values.begin(), values.end());
    for (size_t j = 0; j < t.q.centroids.size(); ++j)
      t.q.centroids[j] = float(t.q.feature_scale *
                               (values[(2 * j + 1) * values.size() / (2 * t.q.centroids.size())] -
                                t.q.feature_zero_point));
    t.q.quantizer = make_int8_quantizer(t.q.centroids, t.q.feature_scale, t.q.feature_zero_point);
    std::vector<uint8_t> zeros(4 * t.q.remote_values(), 0);
    attach_codec_tables(
        t.q,
        codec::CodecTables::fit(zeros, 4, remote_stream_shape(t.q), unsigned(t.q.centroids.size()),
                                uint32_t(t.q.split_k), uint32_t(seed)),
        "test");
  } else {
    attach_codec_tables(t.q, fit_device_codec_tables(t.q, calib, uint32_t(seed)), "test");
  }
  t.bundle = generate_bundle(t.q);
  t.dir = std::string(AGILENN_BINARY_DIR) + "/test_mcu_bundle/" + name;
  std::filesystem::remove_all(t.dir);
  write_bundle(t.bundle, t.dir + "/device");
  t.test = images(12, n_in, 200 + seed);
  return t;
}

// Returns how many packets used the context coder (the rest: packed bits).
size_t require_matches_reference(const Tiny& t, const DeviceRun& run) {
  BOOST_REQUIRE_EQUAL(run.images.size(), t.test.size());
  size_t context = 0;
  for (size_t i = 0; i < t.test.size(); ++i) {
    auto ref = reference_run(t.q, t.test[i]);
    BOOST_REQUIRE_EQUAL(run.images[i].rc, 0);
    BOOST_REQUIRE(run.images[i].logits == ref.local_logits);
    BOOST_REQUIRE(run.images[i].packet == ref.packet);
    codec::DecodedPacket d = codec::decode_packet(run.images[i].packet, t.q.codec);
    BOOST_REQUIRE(d.indices == ref.indices);
    context += d.header.coder == t.q.device_coder;
  }
  return context;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(bundle)

namespace {
void check_tiny(const std::string& name, const RandomModelOptions& opt, uint64_t seed,
                bool fit_on_constant = false, int zero_remote = 0) {
  Tiny t = make_tiny(name, opt, seed, fit_on_constant, zero_remote);
  BOOST_CHECK(!live_buffers_overlap(t.bundle.buffers));
  for (const char* f : {"agilenn_model.h", "agilenn_model.c", "agilenn_kernels.h",
                        "agilenn_codec.h", "agilenn_weights.c", "README.md"})
    BOOST_CHECK(std::filesystem::exists(t.dir + "/device/" + f));

  DeviceRun host = run_bundle_on_host(t.dir + "/device", t.test, t.dir + "/host");
  size_t context = require_matches_reference(t, host);
  BOOST_TEST_MESSAGE(name << ": " << context << "/" << t.test.size() << " context-coded packets");
  if (fit_on_constant)
    BOOST_CHECK_EQUAL(context, 0u);  // every packet fell back to packed bits
  else
    BOOST_CHECK_GT(context, 0u);
  // The portable path at -O0 gives the same bytes.
  DeviceRun host_o0 = run_bundle_on_host(t.dir + "/device", t.test, t.dir + "/host_o0",
                                         "cc -O0 -DAGILENN_PORTABLE");
  require_matches_reference(t, host_o0);

  std::string why = tool_missing_reason("arm-none-eabi-gcc");
  if (!why.empty()) {
    std::cout << "SKIPPED Cortex-M7 build: " << why << "\n";
    return;
  }
  ArmSizes sizes = measure_arm_sizes(t.dir + "/device", t.dir + "/size");
  BOOST_CHECK_GT(sizes.text, 0u);
  BOOST_CHECK_GE(sizes.bss, t.bundle.arena_bytes);
  BOOST_CHECK_GT(sizes.stack_bytes, 0u);
  // No heap, no libc beyond memcpy/memset, and no floating point inside agilenn_run.
  std::string undefined =
      command_output("arm-none-eabi-nm -u " + t.dir + "/size/agilenn_model.size.o");
  for (const char* sym : {"malloc", "calloc", "realloc", "free", "printf"})
    BOOST_CHECK_MESSAGE(undefined.find(sym) == std::string::npos, "agilenn_model.o needs " << sym);
  std::string run_asm =
      command_output("arm-none-eabi-objdump -d --no-show-raw-insn " + t.dir +
                     "/size/agilenn_model.size.o | awk '/<agilenn_(run|stage_[0-9]+)[.>]/,/^$/'");
  BOOST_REQUIRE(run_asm.find("agilenn_run") != std::string::npos);
  for (const char* op :
       {"\tvadd", "\tvmul", "\tvcvt", "\tvdiv", "\tvmla", "__aeabi_f", "__aeabi_d"})
    BOOST_CHECK_MESSAGE(run_asm.find(op) == std::string::npos,
                        "float in agilenn_run or a stage: " << op);

  why = tool_missing_reason("qemu-system-arm");
  if (!why.empty()) {
    std::cout << "SKIPPED QEMU run (the Cortex-M7 build above still ran): " << why << "\n";
    return;
  }
  DeviceRun m7 = run_bundle_on_qemu(t.dir + "/device", t.test, t.dir + "/qemu", 300);
  require_matches_reference(t, m7);
  for (const auto& r : m7.images) {
    BOOST_CHECK_GT(r.ticks, 0u);
    BOOST_CHECK_EQUAL(r.stage_ticks.size(), t.bundle.stages.size());
  }
}
}  // namespace

// Channel counts that are not multiples of 4 (portable kernels on the M7 too), stride 3, 3 input
// channels, G = 3 on a 5x4 map.
BOOST_AUTO_TEST_CASE(tiny_bundle_host_and_cortex_m7_bit_exact) {
  RandomModelOptions opt;
  opt.in_h = 13;
  opt.in_w = 11;
  opt.in_c = 3;
  opt.stride = 3;
  opt.mid_channels = 5;
  opt.channels = 9;
  opt.split_k = 3;
  opt.grid = 3;
  opt.num_classes = 7;
  opt.num_centroids = 6;
  check_tiny("tiny", opt, 3);
}

// Multiples of 4 (on the M7: SMLAD dot products, the 4-channel SMLABB depthwise, the per-pixel
// SXTB16 fused pointwise for 4 inputs), odd map 9x7, G = 2.
BOOST_AUTO_TEST_CASE(tiny_bundle_dsp_paths_bit_exact) {
  RandomModelOptions opt;
  opt.in_h = 17;
  opt.in_w = 13;
  opt.in_c = 4;
  opt.stride = 2;
  opt.mid_channels = 4;
  opt.channels = 13;
  opt.split_k = 4;
  opt.grid = 2;
  opt.num_classes = 5;
  opt.num_centroids = 8;
  check_tiny("tiny_dsp", opt, 4);
}

// One uint8 input channel, stride 2 (on the M7: the paired SMLAD first layer), odd sizes with a
// padded left column and top row (13x11 -> 7x6), an odd count of interior outputs per row, and an
// odd number of coded rows (the generated coder loop runs two rows at a time).
BOOST_AUTO_TEST_CASE(tiny_bundle_one_channel_stride2_bit_exact) {
  RandomModelOptions opt;
  opt.in_h = 13;
  opt.in_w = 11;
  opt.in_c = 1;
  opt.stride = 2;
  opt.mid_channels = 4;
  opt.channels = 12;
  opt.split_k = 5;
  opt.grid = 3;
  opt.num_classes = 6;
  opt.num_centroids = 8;
  check_tiny("tiny_c1s2", opt, 8);
  opt.in_h = 15;
  opt.in_w = 16;  // 8x8 out: an even row count, no left padding
  check_tiny("tiny_c1s2_even", opt, 9);
}

// The packed-bits fallback of the device encoder (tables that expand the map), host and M7.
BOOST_AUTO_TEST_CASE(tiny_bundle_packed_fallback_bit_exact) {
  RandomModelOptions opt;
  opt.in_h = opt.in_w = 12;
  opt.channels = 10;
  opt.split_k = 3;
  opt.grid = 2;
  check_tiny("tiny_packed", opt, 6, /*fit_on_constant=*/true);
}

// Coder 5 (context-skip): remote channels fixed by the weights are neither computed nor coded;
// the DSP shapes and the portable ones, and its packed-bits fallback (prefix + overflow).
BOOST_AUTO_TEST_CASE(tiny_bundle_context_skip_bit_exact) {
  RandomModelOptions opt;
  opt.in_h = 17;
  opt.in_w = 13;
  opt.in_c = 4;
  opt.stride = 2;
  opt.mid_channels = 4;
  opt.channels = 13;
  opt.split_k = 4;
  opt.grid = 2;
  opt.num_classes = 5;
  opt.num_centroids = 8;
  check_tiny("tiny_skip_dsp", opt, 4, false, 3);
  opt.mid_channels = 5;
  opt.num_centroids = 6;
  check_tiny("tiny_skip", opt, 7, false, 2);
  RandomModelOptions fallback;
  fallback.in_h = fallback.in_w = 12;
  fallback.channels = 10;
  fallback.split_k = 3;
  fallback.grid = 2;
  check_tiny("tiny_skip_packed", fallback, 6, /*fit_on_constant=*/true, 4);
}

// agilenn_local_argmax / agilenn_combine_argmax through a host build of the bundle.
BOOST_AUTO_TEST_CASE(combine_and_argmax) {
  RandomModelOptions opt;
  opt.in_h = opt.in_w = 8;
  opt.channels = 8;
  opt.split_k = 2;
  opt.grid = 2;
  Tiny t = make_tiny("combine", opt, 5);
  std::string main_c = t.dir + "/combine_main.c";
  FILE* f = std::fopen(main_c.c_str(), "w");
  BOOST_REQUIRE(f);
  std::fputs(
      "#include <stdio.h>\n#include \"agilenn_model.h\"\n"
      "int main(void) {\n"
      "  int32_t l[AGILENN_NUM_CLASSES] = {0};\n  float r[AGILENN_NUM_CLASSES] = {0};\n"
      "  printf(\"%d \", agilenn_local_argmax(l));\n" /* all equal: 0 */
      "  l[2] = (int32_t)(1.0f / AGILENN_LOCAL_LOGIT_SCALE); r[4] = 3.0f;\n"
      "  printf(\"%d %d %d \", agilenn_local_argmax(l), agilenn_combine_argmax(l, r, 1.0f),\n"
      "         agilenn_combine_argmax(l, r, 0.0f));\n"              /* 2 2 4 */
      "  printf(\"%d %d\\n\", agilenn_combine_argmax(l, r, 0.8f),\n" /* 0.8 vs 0.6: 2 */
      "         agilenn_combine_argmax(l, r, 0.7f));\n"              /* 0.7 vs 0.9: 4 */
      "  return 0;\n}\n",
      f);
  std::fclose(f);
  std::string exe = t.dir + "/combine_test";
  BOOST_REQUIRE_EQUAL(std::system(("cc -std=c99 -Wall -Wextra -pedantic -Werror -I" + t.dir +
                                   "/device " + t.dir + "/device/agilenn_model.c " + t.dir +
                                   "/device/agilenn_weights.c " + main_c + " -o " + exe)
                                      .c_str()),
                      0);
  BOOST_CHECK_EQUAL(command_output(exe), "0 2 2 4 2 4\n");
}

BOOST_AUTO_TEST_CASE(default_shapes_fit_the_budget_on_host) {
  Tiny t = make_tiny("default", RandomModelOptions{}, 9);
  DeviceRun host = run_bundle_on_host(t.dir + "/device", t.test, t.dir + "/host");
  require_matches_reference(t, host);
  BOOST_CHECK_LE(t.bundle.arena_bytes, 16u * 1024);
  BOOST_CHECK_LE(t.bundle.weight_bytes, 32u * 1024);
  BOOST_CHECK_EQUAL(t.bundle.packet_max_bytes, 24 + (14u * 14 * 19 * 3 + 7) / 8);
}

BOOST_AUTO_TEST_SUITE_END()
