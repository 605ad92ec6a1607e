// Bit-identical output against the committed golden files in tests/codec/golden/, so any change
// of a coder, the tables or the packet format is noticed (and the MCU port has fixtures).
// Regenerate on purpose only:  AGILENN_REGENERATE_GOLDEN=1 build/test_codec -t golden
#include <boost/test/unit_test.hpp>
#include <cstdlib>
#include <filesystem>

#include "nn/io/atomic_file.h"
#include "test_util.h"

using namespace agilenn;
using namespace agilenn::codec;

namespace {
const std::string kDir = std::string(AGILENN_SOURCE_DIR) + "/tests/codec/golden/";
const StreamShape kShape{14, 14, 19};
constexpr size_t kImages = 16, kTrain = 12;

bool regenerate() {
  const char* v = std::getenv("AGILENN_REGENERATE_GOLDEN");
  return v && std::string(v) == "1";
}
}  // namespace

BOOST_AUTO_TEST_SUITE(golden)

BOOST_AUTO_TEST_CASE(coders_and_tables_match_the_golden_files) {
  if (regenerate()) {
    const auto idx = test::synthetic_indices(kImages, 14, 14, 5, 8, 20261125);
    write_file_atomic(kDir + "indices.bin", std::span<const uint8_t>(idx));
    BOOST_TEST_MESSAGE("regenerated " << kDir << "indices.bin");
  }
  const std::vector<uint8_t> idx = read_file_bytes(kDir + "indices.bin");
  BOOST_REQUIRE(idx.size() == kImages * kShape.size());
  // Fitting is integer-only on stored indices: the tables must come out bit-identical.
  const CodecTables tables =
      CodecTables::fit(std::span(idx).first(kTrain * kShape.size()), kTrain, kShape, 8, 5);
  if (regenerate()) {
    write_file_atomic(kDir + "tables.bin", std::span<const uint8_t>(tables.to_bytes()));
    write_file_atomic(kDir + "tables.json", tables.to_json().dump(1) + "\n");
  }
  BOOST_TEST(read_file_bytes(kDir + "tables.bin") == tables.to_bytes());
  const CodecTables stored =
      CodecTables::from_bytes(read_file_bytes(kDir + "tables.bin"), "tables.bin");
  for (size_t image = kTrain; image < kImages; ++image) {
    const auto one = std::span(idx).subspan(image * kShape.size(), kShape.size());
    for (unsigned c = 0; c < kCoderCount; ++c) {
      const std::string path =
          kDir + "image" + std::to_string(image) + "_" + coder_name(CoderId(c)) + ".pkt";
      const auto pkt = encode_packet(one, kShape, stored, CoderId(c));
      if (regenerate()) write_file_atomic(path, std::span<const uint8_t>(pkt));
      BOOST_TEST_CONTEXT(path) {
        const auto golden = read_file_bytes(path);
        BOOST_TEST(pkt == golden);
        const auto d = decode_packet(golden, stored);
        BOOST_TEST(std::equal(one.begin(), one.end(), d.indices.begin(), d.indices.end()));
      }
    }
  }
}

BOOST_AUTO_TEST_SUITE_END()
