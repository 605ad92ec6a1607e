// One in-memory image classification data set, whatever the file format it came from.
//
// Images are uint8 HWC (row-major, channels last), stored back to back: image i occupies
// images[i * H*W*C, (i+1) * H*W*C). Labels are class indices in [0, num_classes).
#pragma once
#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace agilenn::data {

enum class Split { Train, Test };
const char* split_name(Split split);  // "train" / "test"

struct Dataset {
  std::string name;  // e.g. "fashion-mnist/train"
  int height = 0, width = 0, channels = 0;
  int num_classes = 0;
  std::vector<std::string> class_names;  // empty, or num_classes entries
  std::vector<uint8_t> images;           // N*H*W*C
  std::vector<int32_t> labels;           // N

  size_t size() const { return labels.size(); }
  size_t image_size() const { return size_t(height) * width * channels; }
  std::span<const uint8_t> image(size_t i) const {
    return {images.data() + i * image_size(), image_size()};
  }
  // Throws agilenn::Error prefixed with `where` when the counts, shape or labels are inconsistent.
  void validate(const std::string& where) const;
};

// The data sets `load_dataset` knows, by name: "fashion-mnist", "mnist", "cifar10", "cifar100",
// "image-folder".
const std::vector<std::string>& dataset_names();
// Default root directory for a data set name ("/usr/share/datasets/fashion-mnist" for
// fashion-mnist); empty when there is no installed default.
std::string default_data_dir(const std::string& name);

// Per-format choices for load_dataset (the defaults suit the presets).
struct LoadOptions {
  // image-folder: 1 or 3 channels; a size of 0 means every image must match the first one's size,
  // otherwise every image is bilinearly resized to image_height x image_width.
  int image_channels = 3, image_height = 0, image_width = 0;
  bool cifar100_coarse = false;  // cifar100: 20 coarse classes instead of 100 fine ones
};

// Loads the split of the named data set from `data_dir` (empty: default_data_dir(name)).
//   fashion-mnist, mnist: {train,t10k}-{images-idx3,labels-idx1}-ubyte[.gz]
//   cifar10:  data_batch_{1..5}.bin / test_batch.bin (also inside cifar-10-batches-bin/)
//   cifar100: train.bin / test.bin with fine labels (also inside cifar-100-binary/)
//   image-folder: data_dir/train/<class>/*.png|jpg|bmp and data_dir/test/<class>/...
// Throws agilenn::Error naming the file for any missing or malformed input.
Dataset load_dataset(const std::string& name, const std::string& data_dir, Split split,
                     const LoadOptions& options = {});

}  // namespace agilenn::data
