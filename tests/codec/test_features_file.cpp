#include <boost/test/unit_test.hpp>
#include <filesystem>

#include "codec/features_file.h"
#include "nn/io/atomic_file.h"
#include "nn/io/error.h"

using namespace agilenn;
using namespace agilenn::codec;

BOOST_AUTO_TEST_SUITE(features_file)

BOOST_AUTO_TEST_CASE(write_read_round_trip_and_bad_files) {
  const std::string dir = std::string(AGILENN_BINARY_DIR) + "/tests/codec/tmp_features";
  std::filesystem::create_directories(dir);
  FeaturesFile f;
  f.shape = {2, 3, 2, 4};
  f.k = 1;
  f.centroids = {0.0f, 0.5f, 2.25f};
  f.image_bytes = 784;
  for (size_t i = 0; i < f.shape.size(); ++i) f.values.push_back(float(i) * 0.1f);
  write_features_file(dir + "/f.bin", f);
  const FeaturesFile g = read_features_file(dir + "/f.bin");
  BOOST_TEST(g.values == f.values);
  BOOST_TEST(g.centroids == f.centroids);
  BOOST_TEST(g.k == 1u);
  BOOST_TEST(g.image_bytes == 784u);
  BOOST_TEST(g.shape.channels == 4u);
  // Raw file one value short: the error names the file.
  auto raw = read_file_bytes(dir + "/f.bin");
  raw.resize(raw.size() - 4);
  write_file_atomic(dir + "/f.bin", std::span<const uint8_t>(raw));
  try {
    read_features_file(dir + "/f.bin");
    BOOST_FAIL("accepted a short file");
  } catch (const Error& e) {
    BOOST_TEST(std::string(e.what()).find("f.bin") != std::string::npos);
  }
  write_file_atomic(dir + "/g.bin.json",
                    std::string(R"({"shape":[1,1,1,4],"k":4,"centroids":[0,1]})"));
  write_file_atomic(dir + "/g.bin", std::span<const uint8_t>(std::vector<uint8_t>(16, 0)));
  BOOST_CHECK_THROW(read_features_file(dir + "/g.bin"), Error);  // k must be < C
  write_file_atomic(dir + "/g.bin.json",
                    std::string(R"({"shape":[1,1,1,4],"k":1,"centroids":[1,0]})"));
  BOOST_CHECK_THROW(read_features_file(dir + "/g.bin"), Error);  // centroids not increasing
}

BOOST_AUTO_TEST_SUITE_END()
