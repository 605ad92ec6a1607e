#include <boost/test/unit_test.hpp>

#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "nn/io/atomic_file.h"
#include "nn/io/error.h"
#include "nn/io/safetensors.h"

using agilenn::DType;
using agilenn::Error;
using agilenn::SafeTensors;

namespace {

// The same tensors as EXPECTED in tests/io/fixtures/safetensors_reference.py.
SafeTensors reference_set(const std::string& source) {
  SafeTensors st(source);
  st.add<float>("weight", {2, 3},
                std::vector<float>{0.5f, -1.25f, 3.0f, 0.0009765625f, -0.0f, 65504.0f});
  st.add<double>("bias", {3}, std::vector<double>{1.0 / 3.0, -2.5, 1e100});
  st.add<int64_t>("ids", {2}, std::vector<int64_t>{-(int64_t(1) << 40), 7});
  st.add<int32_t>("counts", {2, 2}, std::vector<int32_t>{1, -2, 3, 2147483647});
  st.add<uint8_t>("mask", {4}, std::vector<uint8_t>{0, 1, 255, 128});
  st.add<int8_t>("delta", {3}, std::vector<int8_t>{-128, 0, 127});
  st.add<float>("scalar", {}, std::vector<float>{42.0f});
  st.add<float>("empty", {0, 3}, std::vector<float>{});
  st.metadata()["format"] = "pt";
  st.metadata()["config"] = R"({"width": 24})";
  return st;
}

void check_reference_set(const SafeTensors& st) {
  BOOST_TEST(st.size() == 8u);
  BOOST_TEST((st.get<float>("weight", {2, 3}) ==
              std::vector<float>{0.5f, -1.25f, 3.0f, 0.0009765625f, -0.0f, 65504.0f}));
  BOOST_TEST(std::signbit(st.get<float>("weight")[4]));
  BOOST_TEST((st.get<double>("bias", {3}) == std::vector<double>{1.0 / 3.0, -2.5, 1e100}));
  BOOST_TEST((st.get<int64_t>("ids") == std::vector<int64_t>{-(int64_t(1) << 40), 7}));
  BOOST_TEST((st.get<int32_t>("counts", {2, 2}) == std::vector<int32_t>{1, -2, 3, 2147483647}));
  BOOST_TEST((st.get<uint8_t>("mask") == std::vector<uint8_t>{0, 1, 255, 128}));
  BOOST_TEST((st.get<int8_t>("delta") == std::vector<int8_t>{-128, 0, 127}));
  BOOST_TEST((st.get<float>("scalar", {}) == std::vector<float>{42.0f}));
  BOOST_TEST(st.at("scalar").shape.empty());
  BOOST_TEST(st.get<float>("empty", {0, 3}).empty());
  BOOST_TEST(st.metadata_at("format") == "pt");
  BOOST_TEST(st.metadata_at("config") == R"({"width": 24})");
}

std::vector<uint8_t> make_file(const std::string& header, std::vector<uint8_t> data,
                               int64_t len_override = -1) {
  std::vector<uint8_t> f;
  const uint64_t n = len_override >= 0 ? uint64_t(len_override) : header.size();
  for (int i = 0; i < 8; ++i) f.push_back(uint8_t(n >> (8 * i)));
  f.insert(f.end(), header.begin(), header.end());
  f.insert(f.end(), data.begin(), data.end());
  return f;
}

// Parses `file` as "model.safetensors" and checks the error contains every fragment.
void expect_error(const std::vector<uint8_t>& file, std::vector<std::string> fragments) {
  try {
    SafeTensors::parse(file, "model.safetensors");
    BOOST_ERROR("accepted a malformed file; expected: " + fragments.back());
  } catch (const Error& e) {
    const std::string msg = e.what();
    BOOST_TEST_MESSAGE(msg);
    BOOST_TEST(msg.rfind("model.safetensors", 0) == 0, msg);
    for (const auto& f : fragments) BOOST_TEST(msg.find(f) != std::string::npos, msg << " / " << f);
  }
}

std::string tmp_path(const std::string& name) {
  auto dir = std::filesystem::path(AGILENN_BINARY_DIR) / "tests" / "io" / "tmp";
  std::filesystem::create_directories(dir);
  return (dir / name).string();
}

}  // namespace

BOOST_AUTO_TEST_SUITE(safetensors)

BOOST_AUTO_TEST_CASE(round_trip_through_a_file) {
  const std::string path = tmp_path("round_trip.safetensors");
  reference_set("mem").write(path);
  BOOST_TEST(!std::filesystem::exists(path + ".tmp." + std::to_string(::getpid())));
  SafeTensors back = SafeTensors::load(path);
  BOOST_TEST(back.source() == path);
  check_reference_set(back);
}

BOOST_AUTO_TEST_CASE(layout_is_aligned_and_header_padded) {
  const auto bytes = reference_set("mem").serialize();
  uint64_t n = 0;
  for (int i = 0; i < 8; ++i) n |= uint64_t(bytes[i]) << (8 * i);
  BOOST_TEST((8 + n) % 8 == 0u);
  BOOST_TEST(bytes[8] == '{');
  // Loaded tensors are listed in file order; each begins at a multiple of its element size.
  SafeTensors st = SafeTensors::parse(bytes, "mem");
  size_t offset = 0;
  for (const auto& t : st.tensors()) {
    BOOST_TEST(offset % agilenn::dtype_size(t.dtype) == 0u, t.name);
    offset += t.data.size();
  }
  BOOST_TEST(offset == bytes.size() - 8 - n);
  BOOST_TEST(st.tensors().front().name == "bias");  // F64 sorts before I64 by name
}

BOOST_AUTO_TEST_CASE(reads_the_golden_file_from_the_python_reference_writer) {
  const std::string path =
      std::string(AGILENN_SOURCE_DIR) + "/tests/io/fixtures/reference.safetensors";
  check_reference_set(SafeTensors::load(path));
}

BOOST_AUTO_TEST_CASE(python_reference_reader_accepts_our_file) {
#ifdef AGILENN_PYTHON3
  const std::string path = tmp_path("for_python.safetensors");
  reference_set("mem").write(path);
  const std::string cmd = std::string(AGILENN_PYTHON3) + " " + AGILENN_SOURCE_DIR +
                          "/tests/io/fixtures/safetensors_reference.py check " + path;
  BOOST_TEST(std::system(cmd.c_str()) == 0, cmd);
#else
  BOOST_TEST_MESSAGE("python3 not found at configure time: interop check skipped");
#endif
}

BOOST_AUTO_TEST_CASE(typed_getters_check_shape_and_dtype) {
  SafeTensors st("model.safetensors");
  st.add<float>("extractor.conv1.w", {3, 3, 4}, std::vector<float>(36, 1.0f));
  try {
    st.get<float>("extractor.conv1.w", {3, 3, 1, 4});
    BOOST_FAIL("wrong shape accepted");
  } catch (const Error& e) {
    BOOST_TEST(std::string(e.what()) ==
               "model.safetensors: tensor 'extractor.conv1.w': expected shape [3,3,1,4], got "
               "[3,3,4]");
  }
  try {
    st.get<double>("extractor.conv1.w");
    BOOST_FAIL("wrong dtype accepted");
  } catch (const Error& e) {
    BOOST_TEST(std::string(e.what()).find("expected dtype F64, got F32") != std::string::npos);
  }
  BOOST_CHECK_THROW(st.at("missing"), Error);
  BOOST_CHECK_THROW(st.metadata_at("missing"), Error);
  BOOST_TEST(st.get<float>("extractor.conv1.w", {3, 3, 4}).size() == 36u);
}

BOOST_AUTO_TEST_CASE(add_rejects_bad_tensors) {
  SafeTensors st("x.safetensors");
  st.add<float>("a", {2}, std::vector<float>{1, 2});
  BOOST_CHECK_THROW(st.add<float>("a", {2}, std::vector<float>{1, 2}), Error);
  BOOST_CHECK_THROW(st.add<float>("b", {3}, std::vector<float>{1, 2}), Error);
  BOOST_CHECK_THROW(st.add<float>("c", {-2}, std::vector<float>{1, 2}), Error);
  BOOST_CHECK_THROW(st.add<float>("__metadata__", {2}, std::vector<float>{1, 2}), Error);
  BOOST_CHECK_THROW(st.add<float>("", {2}, std::vector<float>{1, 2}), Error);
  BOOST_TEST(st.size() == 1u);
}

BOOST_AUTO_TEST_CASE(malformed_files_are_rejected_with_the_file_and_tensor_named) {
  const std::vector<uint8_t> eight(8, 0);
  const std::string ok = R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})";
  SafeTensors::parse(make_file(ok, eight), "model.safetensors");  // the baseline is valid

  expect_error({1, 2, 3}, {"too short"});
  expect_error(make_file(ok, eight, 1000), {"header length 1000", "beyond the end"});
  expect_error(make_file(ok, eight, int64_t(1) << 40), {"exceeds the limit"});
  expect_error(make_file("[1,2]", {}), {"JSON object"});
  expect_error(make_file("{\"a\": ", {}), {"header", "line 1"});
  expect_error(make_file(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},)"
                         R"("a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})",
                         eight),
               {"duplicate key 'a'"});
  expect_error(make_file(R"({"a":{"dtype":"Q7","shape":[2],"data_offsets":[0,8]}})", eight),
               {"tensor 'a'", "unknown dtype 'Q7'"});
  expect_error(make_file(R"({"a":{"dtype":"F32","shape":[-2],"data_offsets":[0,8]}})", eight),
               {"tensor 'a'", "negative dimension"});
  expect_error(make_file(R"({"a":{"dtype":"F32","shape":[2.5],"data_offsets":[0,8]}})", eight),
               {"tensor 'a'", "shape"});
  expect_error(make_file(R"({"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}})", eight),
               {"tensor 'a'", "needs 12 bytes"});
  expect_error(make_file(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,16]}})", eight),
               {"tensor 'a'", "beyond the data section"});
  expect_error(make_file(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[8,0]}})", eight),
               {"tensor 'a'", "invalid data_offsets"});
  expect_error(make_file(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0]}})", eight),
               {"tensor 'a'", "data_offsets must be"});
  expect_error(make_file(R"({"a":{"dtype":"F32","shape":[2]}})", eight),
               {"tensor 'a'", "missing field 'data_offsets'"});
  expect_error(make_file(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8],"x":1}})", eight),
               {"tensor 'a'", "unknown field 'x'"});
  expect_error(make_file(R"({"a":[1]})", eight), {"tensor 'a'", "expected object"});
  expect_error(make_file(R"({"__metadata__":{"k":1}})", {}), {"__metadata__", "k"});
  // Two tensors sharing bytes, a hole between them, and bytes that belong to no tensor.
  expect_error(make_file(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},)"
                         R"("b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}})",
                         eight),
               {"tensor 'b'", "overlap tensor 'a'"});
  expect_error(make_file(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},)"
                         R"("b":{"dtype":"U8","shape":[2],"data_offsets":[6,8]}})",
                         eight),
               {"tensor 'b'", "gap"});
  expect_error(make_file(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}})", eight),
               {"8 bytes but the tensors cover only 4"});
  // A written file cut short anywhere is rejected, never read out of bounds.
  const auto good = reference_set("mem").serialize();
  for (size_t cut : {size_t(0), size_t(4), size_t(9), size_t(100), good.size() - 1}) {
    std::vector<uint8_t> cut_file(good.begin(), good.begin() + cut);
    BOOST_CHECK_THROW(SafeTensors::parse(cut_file, "model.safetensors"), Error);
  }
}

BOOST_AUTO_TEST_CASE(missing_file_names_the_path) {
  try {
    SafeTensors::load("/nonexistent/dir/model.safetensors");
    BOOST_FAIL("missing file accepted");
  } catch (const Error& e) {
    BOOST_TEST(std::string(e.what()).find("/nonexistent/dir/model.safetensors") == 0u);
  }
}

BOOST_AUTO_TEST_SUITE_END()
