// The edge-only baseline's PNG compressor driver (mcu/c/agilenn_png.c + agilenn_png_main.c, what
// mcu-check cross-compiles for the Cortex-M7): built for the host, its PNG bytes must equal the
// host's stbi_write_png_to_mem; under QEMU (when the tools are present) too, with a footprint.
#include <boost/test/unit_test.hpp>

#include <random>

#include "mcu/device_harness.h"
#include "mcu/edge_compressor.h"
#include "nn/io/error.h"

using namespace agilenn::mcu;

namespace {

// Fashion-MNIST-like images: dark background, a bright blob, noise; one all-zero, one random.
std::vector<std::vector<uint8_t>> test_images(const ImageShape& s, size_t n, uint32_t seed) {
  std::mt19937 g(seed);
  std::vector<std::vector<uint8_t>> images;
  for (size_t i = 0; i < n; ++i) {
    std::vector<uint8_t> im(s.bytes(), 0);
    for (int y = 0; y < s.height; ++y)
      for (int x = 0; x < s.width; ++x)
        for (int c = 0; c < s.channels; ++c) {
          const size_t at = (size_t(y) * s.width + x) * s.channels + c;
          if (i == 1)
            im[at] = uint8_t(g());  // incompressible
          else if (i > 1 && std::abs(y - s.height / 2) + std::abs(x - s.width / 2) < s.width / 3)
            im[at] = uint8_t(150 + g() % 100);
        }
    images.push_back(std::move(im));
  }
  return images;
}

std::string work_dir(const std::string& name) {
  return std::string(AGILENN_BINARY_DIR) + "/test_work/edge_compressor/" + name;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(edge_compressor)

BOOST_AUTO_TEST_CASE(host_png_is_a_png_of_the_image) {
  const ImageShape s{28, 28, 1};
  auto images = test_images(s, 3, 1);
  auto png = host_png(images[2], s);
  BOOST_REQUIRE_GT(png.size(), 8u);
  const uint8_t signature[8] = {137, 80, 78, 71, 13, 10, 26, 10};
  BOOST_TEST(std::equal(signature, signature + 8, png.begin()));
  BOOST_TEST(host_png(images[0], s).size() < host_png(images[1], s).size());
  BOOST_CHECK_THROW(host_png(std::vector<uint8_t>(10), s), agilenn::Error);
}

BOOST_AUTO_TEST_CASE(host_build_of_the_driver_matches_stb_on_the_host) {
  for (const ImageShape s : {ImageShape{28, 28, 1}, ImageShape{9, 13, 3}}) {
    auto images = test_images(s, 4, 7);
    PngCompressorRun run = run_png_on_host(images, s, work_dir("host"));
    BOOST_TEST(run.images == images.size());
    BOOST_TEST(run.mismatches == 0u);
    BOOST_REQUIRE_EQUAL(run.payloads.size(), images.size());
    for (size_t i = 0; i < images.size(); ++i)
      BOOST_TEST(run.payloads[i] == host_png(images[i], s));
    // stb's zlib hash table alone is 16384 pointers.
    BOOST_TEST(run.peak_heap_bytes >= 16384 * sizeof(void*));
  }
}

BOOST_AUTO_TEST_CASE(driver_rejects_images_of_the_wrong_size) {
  std::vector<std::vector<uint8_t>> images{std::vector<uint8_t>(784), std::vector<uint8_t>(10)};
  BOOST_CHECK_THROW(run_png_on_host(images, ImageShape{28, 28, 1}, work_dir("bad")),
                    agilenn::Error);
  BOOST_CHECK_THROW(run_png_on_host({}, ImageShape{28, 28, 1}, work_dir("bad")), agilenn::Error);
}

BOOST_AUTO_TEST_CASE(cortex_m7_png_matches_the_host_and_has_a_footprint) {
  for (const char* tool : {"arm-none-eabi-gcc", "qemu-system-arm"})
    if (!tool_missing_reason(tool).empty()) {
      BOOST_TEST_MESSAGE("skipped: " << tool_missing_reason(tool));
      return;
    }
  const ImageShape s{28, 28, 1};
  auto images = test_images(s, 3, 3);
  PngCompressorRun run = run_png_on_qemu(images, s, work_dir("qemu"));
  BOOST_TEST(run.mismatches == 0u);
  BOOST_TEST(run.instructions_per_image > 1000.0);
  // 32-bit pointers on the device: the hash table is 64 KB.
  BOOST_TEST(run.peak_heap_bytes >= 16384u * 4u);
  BOOST_TEST(run.footprint.code_bytes > 1000u);
  BOOST_TEST(run.footprint.rodata_bytes >= 1024u);  // the CRC table
  BOOST_TEST(run.newlib_heap_arena >= run.peak_heap_bytes);
}

BOOST_AUTO_TEST_CASE(lzw_footprint_needs_a_build) {
  BOOST_CHECK_THROW(measure_lzw_footprint(work_dir("no-such-build")), agilenn::Error);
}

BOOST_AUTO_TEST_SUITE_END()
