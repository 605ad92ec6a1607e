// Export a tiny random model, compile the generated bundle for the host and for Cortex-M7, run it
// (QEMU mps2-an500 when installed) and compare every byte with the C++ fixed-point reference.
#include <boost/test/unit_test.hpp>

#include <filesystem>
#include <iostream>
#include <random>

#include "mcu/codegen.h"
#include "mcu/device_harness.h"
#include "mcu/int8_model.h"
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

struct Tiny {
  FrozenModel model;
  Int8Model q;
  Bundle bundle;
  std::string dir;
  std::vector<std::vector<uint8_t>> test;
};

Tiny make_tiny(const std::string& name, RandomModelOptions opt, uint64_t seed) {
  Tiny t;
  t.model = random_frozen_model(opt, seed);
  size_t n_in = size_t(opt.in_h) * opt.in_w * opt.in_c;
  t.q = quantize_model(t.model, images(16, n_in, 100 + seed));
  t.bundle = generate_bundle(t.q);
  t.dir = std::string(AGILENN_BINARY_DIR) + "/test_mcu_bundle/" + name;
  std::filesystem::remove_all(t.dir);
  write_bundle(t.bundle, t.dir + "/device");
  t.test = images(12, n_in, 200 + seed);
  return t;
}

void require_matches_reference(const Tiny& t, const DeviceRun& run) {
  BOOST_REQUIRE_EQUAL(run.images.size(), t.test.size());
  for (size_t i = 0; i < t.test.size(); ++i) {
    auto ref = reference_run(t.q, t.test[i]);
    BOOST_REQUIRE_EQUAL(run.images[i].rc, 0);
    BOOST_REQUIRE(run.images[i].logits == ref.local_logits);
    BOOST_REQUIRE(run.images[i].packet == ref.packet);
  }
}

}  // namespace

BOOST_AUTO_TEST_SUITE(bundle)

namespace {
void check_tiny(const std::string& name, const RandomModelOptions& opt, uint64_t seed) {
  Tiny t = make_tiny(name, opt, seed);
  BOOST_CHECK(!live_buffers_overlap(t.bundle.buffers));
  for (const char* f : {"agilenn_model.h", "agilenn_model.c", "agilenn_kernels.h", "agilenn_weights.c", "README.md"})
    BOOST_CHECK(std::filesystem::exists(t.dir + "/device/" + f));

  DeviceRun host = run_bundle_on_host(t.dir + "/device", t.test, t.dir + "/host");
  require_matches_reference(t, host);
  // The portable path at -O0 gives the same bytes.
  DeviceRun host_o0 = run_bundle_on_host(t.dir + "/device", t.test, t.dir + "/host_o0", "cc -O0 -DAGILENN_PORTABLE");
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

// Multiples of 4 (the SMLAD/SMLABB paths on the M7), odd map 9x7, G = 2.
BOOST_AUTO_TEST_CASE(tiny_bundle_dsp_paths_bit_exact) {
  RandomModelOptions opt;
  opt.in_h = 17;
  opt.in_w = 13;
  opt.in_c = 1;
  opt.stride = 2;
  opt.mid_channels = 8;
  opt.channels = 13;
  opt.split_k = 4;
  opt.grid = 2;
  opt.num_classes = 5;
  opt.num_centroids = 8;
  check_tiny("tiny_dsp", opt, 4);
}

BOOST_AUTO_TEST_CASE(default_shapes_fit_the_budget_on_host) {
  Tiny t = make_tiny("default", RandomModelOptions{}, 9);
  DeviceRun host = run_bundle_on_host(t.dir + "/device", t.test, t.dir + "/host");
  require_matches_reference(t, host);
  BOOST_CHECK_LE(t.bundle.arena_bytes, 16u * 1024);
  BOOST_CHECK_LE(t.bundle.weight_bytes, 32u * 1024);
  BOOST_CHECK_EQUAL(t.bundle.packet_max_bytes, (14u * 14 * 19 * 3 + 7) / 8);
}

BOOST_AUTO_TEST_SUITE_END()
