#include "nn/data/idx.h"

#include <cstdio>
#include <filesystem>

#include "nn/data/gzip.h"
#include "nn/io/atomic_file.h"
#include "nn/io/error.h"

namespace agilenn::data {

namespace {
uint32_t read_be32(const uint8_t* p) {
  return uint32_t(p[0]) << 24 | uint32_t(p[1]) << 16 | uint32_t(p[2]) << 8 | uint32_t(p[3]);
}
std::string hex32(uint32_t v) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "0x%08x", v);
  return buf;
}
}  // namespace

IdxArray parse_idx(std::span<const uint8_t> bytes, uint32_t expected_magic,
                   const std::string& source) {
  if (bytes.size() < 4) throw error_at(source, "truncated IDX file: no magic number");
  const uint32_t magic = read_be32(bytes.data());
  if (magic != expected_magic)
    throw error_at(source, "wrong IDX magic " + hex32(magic) + ", expected " +
                               hex32(expected_magic) +
                               (expected_magic == kIdxImagesMagic ? " (uint8 images, 3 dims)"
                                                                  : " (uint8 labels, 1 dim)"));
  const size_t ndims = magic & 0xff;
  if (bytes.size() < 4 + 4 * ndims)
    throw error_at(source, "truncated IDX file: header needs " + std::to_string(4 + 4 * ndims) +
                               " bytes, file has " + std::to_string(bytes.size()));
  IdxArray a;
  uint64_t count = 1;
  for (size_t i = 0; i < ndims; ++i) {
    a.dims.push_back(read_be32(bytes.data() + 4 + 4 * i));
    count *= a.dims.back();
    if (count > (uint64_t(1) << 40)) throw error_at(source, "IDX dimensions are implausibly large");
  }
  const size_t header = 4 + 4 * ndims;
  const uint64_t have = bytes.size() - header;
  if (have < count)
    throw error_at(source, "truncated IDX file: dimensions need " + std::to_string(count) +
                               " data bytes, file has " + std::to_string(have));
  if (have > count)
    throw error_at(source, std::to_string(have - count) + " unexpected bytes after the IDX data");
  a.data.assign(bytes.begin() + header, bytes.end());
  return a;
}

IdxArray read_idx_file(const std::string& path, uint32_t expected_magic) {
  std::vector<uint8_t> raw = read_file_bytes(path);
  if (is_gzip(raw)) return parse_idx(gunzip(raw, path), expected_magic, path);
  if (path.ends_with(".gz")) throw error_at(path, "not a gzip file (no 1f 8b magic)");
  return parse_idx(raw, expected_magic, path);
}

Dataset load_idx_pair(const std::string& images_path, const std::string& labels_path,
                      int num_classes, const std::string& name) {
  const IdxArray images = read_idx_file(images_path, kIdxImagesMagic);
  const IdxArray labels = read_idx_file(labels_path, kIdxLabelsMagic);
  if (images.dims[0] != labels.dims[0])
    throw error_at(images_path, std::to_string(images.dims[0]) + " images but " + labels_path +
                                    " has " + std::to_string(labels.dims[0]) + " labels");
  if (images.dims[1] == 0 || images.dims[2] == 0 || images.dims[1] > 65536 ||
      images.dims[2] > 65536)
    throw error_at(images_path, "invalid image size " + std::to_string(images.dims[1]) + "x" +
                                    std::to_string(images.dims[2]));
  Dataset d;
  d.name = name;
  d.height = int(images.dims[1]);
  d.width = int(images.dims[2]);
  d.channels = 1;
  d.num_classes = num_classes;
  d.images = images.data;
  d.labels.reserve(labels.data.size());
  for (size_t i = 0; i < labels.data.size(); ++i) {
    const int label = labels.data[i];
    if (label >= num_classes)
      throw error_at(labels_path, "label " + std::to_string(label) + " of sample " +
                                      std::to_string(i) + " is out of range [0," +
                                      std::to_string(num_classes) + ")");
    d.labels.push_back(label);
  }
  d.validate(name);
  return d;
}

Dataset load_mnist_style(const std::string& dir, Split split, const std::string& name) {
  const std::string prefix = split == Split::Train ? "train" : "t10k";
  auto pick = [&](const std::string& base) {
    const std::string gz = dir + "/" + base + ".gz";
    if (std::filesystem::exists(gz)) return gz;
    const std::string raw = dir + "/" + base;
    if (std::filesystem::exists(raw)) return raw;
    throw error_at(gz,
                   "not found (nor " + base + "); point --data-dir at the " + name + " directory");
  };
  const std::string images = pick(prefix + "-images-idx3-ubyte");
  const std::string labels = pick(prefix + "-labels-idx1-ubyte");
  Dataset d = load_idx_pair(images, labels, 10, name + "/" + split_name(split));
  if (name == "fashion-mnist") d.class_names = fashion_mnist_classes();
  return d;
}

const std::vector<std::string>& fashion_mnist_classes() {
  static const std::vector<std::string> names = {"t-shirt", "trouser",   "pullover", "dress",
                                                 "coat",    "sandal",    "shirt",    "sneaker",
                                                 "bag",     "ankle-boot"};
  return names;
}

}  // namespace agilenn::data
