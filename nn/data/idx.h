// IDX files (MNIST, Fashion-MNIST): big-endian magic 0x00000803 (uint8 images, 3 dims: N,H,W) or
// 0x00000801 (uint8 labels, 1 dim: N), big-endian uint32 dims, then the raw bytes.
// Files may be gzip-compressed (detected by content, not by name).
#pragma once
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "nn/data/dataset.h"

namespace agilenn::data {

constexpr uint32_t kIdxImagesMagic = 0x00000803;
constexpr uint32_t kIdxLabelsMagic = 0x00000801;

struct IdxArray {
  std::vector<uint32_t> dims;
  std::vector<uint8_t> data;  // product(dims) bytes
};

// Parses a decompressed IDX image; `expected_magic` selects images or labels.
IdxArray parse_idx(std::span<const uint8_t> bytes, uint32_t expected_magic,
                   const std::string& source);
// Reads a file (gzip or raw) and parses it.
IdxArray read_idx_file(const std::string& path, uint32_t expected_magic);

// Pairs an IDX image file with its label file into a 1-channel data set; labels must lie in
// [0, num_classes) and the counts must agree.
Dataset load_idx_pair(const std::string& images_path, const std::string& labels_path,
                      int num_classes, const std::string& name);

// MNIST-style directory: train-images-idx3-ubyte.gz / t10k-images-idx3-ubyte.gz and the
// matching label files (the .gz name first, then the uncompressed name). 10 classes.
Dataset load_mnist_style(const std::string& dir, Split split, const std::string& name);

// Fashion-MNIST class names, in label order.
const std::vector<std::string>& fashion_mnist_classes();

}  // namespace agilenn::data
