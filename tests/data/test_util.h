// Helpers for the data tests: scratch directories and file writers (gzip via zlib, IDX, CIFAR).
#pragma once
#include <zlib.h>

#include <cstdint>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <vector>

#include "nn/io/atomic_file.h"

namespace test_util {

// A fresh, empty directory under the build tree.
inline std::string scratch_dir(const std::string& name) {
  auto dir = std::filesystem::path(AGILENN_BINARY_DIR) / "tests" / "data" / "tmp" / name;
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir.string();
}

inline std::vector<uint8_t> gzip_bytes(const std::vector<uint8_t>& raw) {
  z_stream zs{};
  if (deflateInit2(&zs, 6, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY) != Z_OK)
    throw std::runtime_error("deflateInit2");
  std::vector<uint8_t> out(deflateBound(&zs, uLong(raw.size())) + 64);
  zs.next_in = const_cast<Bytef*>(raw.data());
  zs.avail_in = uInt(raw.size());
  zs.next_out = out.data();
  zs.avail_out = uInt(out.size());
  if (deflate(&zs, Z_FINISH) != Z_STREAM_END) throw std::runtime_error("deflate");
  out.resize(zs.total_out);
  deflateEnd(&zs);
  return out;
}

inline void put_be32(std::vector<uint8_t>& v, uint32_t x) {
  for (int s = 24; s >= 0; s -= 8) v.push_back(uint8_t(x >> s));
}

inline std::vector<uint8_t> idx_images(uint32_t n, uint32_t h, uint32_t w,
                                       uint32_t magic = 0x00000803) {
  std::vector<uint8_t> v;
  put_be32(v, magic);
  put_be32(v, n);
  put_be32(v, h);
  put_be32(v, w);
  for (uint32_t i = 0; i < n * h * w; ++i) v.push_back(uint8_t(i * 7 + i / (h * w)));
  return v;
}

inline std::vector<uint8_t> idx_labels(const std::vector<uint8_t>& labels,
                                       uint32_t magic = 0x00000801) {
  std::vector<uint8_t> v;
  put_be32(v, magic);
  put_be32(v, uint32_t(labels.size()));
  v.insert(v.end(), labels.begin(), labels.end());
  return v;
}

inline void write(const std::string& path, const std::vector<uint8_t>& bytes) {
  agilenn::write_file_atomic(path, bytes);
}

// Runs `fn`, which must throw agilenn::Error whose message contains every fragment.
template <typename Fn>
std::string expect_error(Fn fn, const std::vector<std::string>& fragments);

}  // namespace test_util

#include <boost/test/unit_test.hpp>

#include "nn/io/error.h"

template <typename Fn>
std::string test_util::expect_error(Fn fn, const std::vector<std::string>& fragments) {
  try {
    fn();
  } catch (const agilenn::Error& e) {
    const std::string msg = e.what();
    BOOST_TEST_MESSAGE(msg);
    for (const auto& f : fragments)
      BOOST_TEST(msg.find(f) != std::string::npos, "'" << msg << "' lacks '" << f << "'");
    return msg;
  }
  BOOST_ERROR("no agilenn::Error thrown; expected one mentioning '" + fragments.front() + "'");
  return "";
}
