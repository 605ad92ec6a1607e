#include "nn/data/cifar.h"

#include <filesystem>

#include "nn/io/atomic_file.h"
#include "nn/io/error.h"

namespace agilenn::data {

namespace {
constexpr int kSide = 32, kPlane = kSide * kSide, kPixels = 3 * kPlane;

// The directory that holds `probe`: `dir` itself or its archive sub-folder.
std::string resolve_dir(const std::string& dir, const std::string& sub, const std::string& probe) {
  if (std::filesystem::exists(dir + "/" + probe)) return dir;
  if (std::filesystem::exists(dir + "/" + sub + "/" + probe)) return dir + "/" + sub;
  throw error_at(dir + "/" + probe, "not found (nor in " + sub +
                                        "/); point --data-dir at the "
                                        "folder holding the binary CIFAR files");
}

Dataset empty_cifar(const std::string& name, int num_classes) {
  Dataset d;
  d.name = name;
  d.height = d.width = kSide;
  d.channels = 3;
  d.num_classes = num_classes;
  return d;
}
}  // namespace

void append_cifar_file(const std::string& path, int label_bytes, int label_index, int num_classes,
                       Dataset& out) {
  const std::vector<uint8_t> raw = read_file_bytes(path);
  const size_t record = size_t(label_bytes) + kPixels;
  if (raw.empty()) throw error_at(path, "empty CIFAR file");
  if (raw.size() % record != 0)
    throw error_at(path, "size " + std::to_string(raw.size()) + " is not a multiple of the " +
                             std::to_string(record) + "-byte record (truncated or not CIFAR " +
                             (label_bytes == 1 ? "10" : "100") + ")");
  const size_t n = raw.size() / record;
  const size_t base = out.images.size();
  out.images.resize(base + n * kPixels);
  out.labels.reserve(out.labels.size() + n);
  for (size_t i = 0; i < n; ++i) {
    const uint8_t* rec = raw.data() + i * record;
    const int label = rec[label_index];
    if (label >= num_classes)
      throw error_at(path, "record " + std::to_string(i) + ": label " + std::to_string(label) +
                               " is out of range [0," + std::to_string(num_classes) + ")");
    out.labels.push_back(label);
    // planar CHW (3,32,32) -> HWC (32,32,3)
    const uint8_t* px = rec + label_bytes;
    uint8_t* dst = out.images.data() + base + i * kPixels;
    for (int p = 0; p < kPlane; ++p)
      for (int c = 0; c < 3; ++c) dst[p * 3 + c] = px[c * kPlane + p];
  }
}

Dataset load_cifar10(const std::string& dir, Split split) {
  const std::string sub = "cifar-10-batches-bin";
  Dataset d = empty_cifar(std::string("cifar10/") + split_name(split), 10);
  d.class_names = {"airplane", "automobile", "bird",  "cat",  "deer",
                   "dog",      "frog",       "horse", "ship", "truck"};
  if (split == Split::Train) {
    const std::string root = resolve_dir(dir, sub, "data_batch_1.bin");
    for (int b = 1; b <= 5; ++b)
      append_cifar_file(root + "/data_batch_" + std::to_string(b) + ".bin", 1, 0, 10, d);
  } else {
    append_cifar_file(resolve_dir(dir, sub, "test_batch.bin") + "/test_batch.bin", 1, 0, 10, d);
  }
  d.validate(d.name);
  return d;
}

Dataset load_cifar100(const std::string& dir, Split split, CifarLabels labels) {
  const bool fine = labels == CifarLabels::Fine;
  Dataset d = empty_cifar(std::string("cifar100/") + split_name(split), fine ? 100 : 20);
  const std::string file = split == Split::Train ? "train.bin" : "test.bin";
  append_cifar_file(resolve_dir(dir, "cifar-100-binary", file) + "/" + file, 2, fine ? 1 : 0,
                    d.num_classes, d);
  d.validate(d.name);
  return d;
}

}  // namespace agilenn::data
