#include "codec/features_file.h"

#include <cmath>
#include <cstring>

#include "codec/quantize.h"
#include "nn/io/atomic_file.h"
#include "nn/io/error.h"
#include "nn/io/json.h"

namespace agilenn::codec {

FeaturesFile read_features_file(const std::string& path) {
  const std::string side = path + ".json";
  const Json j = Json::parse(read_file_text(side), side);
  FeaturesFile f;
  const auto& shape = j.at("shape").as_array(side + ".shape");
  if (shape.size() != 4) throw error_at(side + ".shape", "needs [N, H, W, C]");
  uint64_t dims[4];
  for (int i = 0; i < 4; ++i) {
    const int64_t v = shape[i].as_int(side + ".shape[" + std::to_string(i) + "]");
    if (v < 1 || v > 65535)
      throw error_at(side + ".shape[" + std::to_string(i) + "]", "must be 1..65535");
    dims[i] = uint64_t(v);
  }
  f.shape = {uint32_t(dims[0]), uint32_t(dims[1]), uint32_t(dims[2]), uint32_t(dims[3])};
  const int64_t k = j.at("k").as_int(side + ".k");
  if (k < 1 || k >= int64_t(f.shape.channels))
    throw error_at(side + ".k", "must be 1..C-1 = " + std::to_string(f.shape.channels - 1));
  f.k = uint32_t(k);
  for (const Json& c : j.at("centroids").as_array(side + ".centroids"))
    f.centroids.push_back(float(c.as_number(side + ".centroids")));
  Quantizer check(f.centroids);  // throws naming the centroid
  if (const Json* ib = j.find("image_bytes")) {
    const int64_t v = ib->as_int(side + ".image_bytes");
    if (v < 0) throw error_at(side + ".image_bytes", "must be >= 0");
    f.image_bytes = uint64_t(v);
  }
  if (f.shape.size() > (size_t(1) << 32)) throw error_at(side + ".shape", "too large");
  const size_t expect = f.shape.size() * 4;
  const std::vector<uint8_t> raw = read_file_bytes(path);
  if (raw.size() != expect)
    throw error_at(path, "holds " + std::to_string(raw.size()) + " bytes, shape " +
                             "needs N*H*W*C*4 = " + std::to_string(expect));
  f.values.resize(f.shape.size());
  for (size_t i = 0; i < f.values.size(); ++i) {
    const uint32_t u = uint32_t(raw[4 * i]) | uint32_t(raw[4 * i + 1]) << 8 |
                       uint32_t(raw[4 * i + 2]) << 16 | uint32_t(raw[4 * i + 3]) << 24;
    std::memcpy(&f.values[i], &u, 4);
    if (!std::isfinite(f.values[i]))
      throw error_at(path, "value " + std::to_string(i) + " is not finite");
  }
  return f;
}

void write_features_file(const std::string& path, const FeaturesFile& f) {
  if (f.values.size() != f.shape.size()) throw error_at(path, "values do not match the shape");
  std::vector<uint8_t> raw(f.values.size() * 4);
  for (size_t i = 0; i < f.values.size(); ++i) {
    uint32_t u;
    std::memcpy(&u, &f.values[i], 4);
    for (int b = 0; b < 4; ++b) raw[4 * i + b] = uint8_t(u >> (8 * b));
  }
  Json j = Json::object();
  j["shape"] = Json(Json::Array{Json(f.shape.n), Json(f.shape.height), Json(f.shape.width),
                                Json(f.shape.channels)});
  j["k"] = f.k;
  Json c = Json::array();
  for (float v : f.centroids) c.push_back(Json(double(v)));
  j["centroids"] = std::move(c);
  if (f.image_bytes) j["image_bytes"] = (unsigned long long)f.image_bytes;
  write_file_atomic(path, std::span<const uint8_t>(raw));
  write_file_atomic(path + ".json", j.dump(1) + "\n");
}

}  // namespace agilenn::codec
