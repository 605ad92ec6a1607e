#include "nn/data/dataset.h"

#include "nn/data/cifar.h"
#include "nn/data/idx.h"
#include "nn/data/image_folder.h"
#include "nn/io/error.h"

namespace agilenn::data {

const char* split_name(Split split) {
  return split == Split::Train ? "train" : "test";
}

void Dataset::validate(const std::string& where) const {
  if (height <= 0 || width <= 0 || channels <= 0)
    throw error_at(where, "invalid image shape " + std::to_string(height) + "x" +
                              std::to_string(width) + "x" + std::to_string(channels));
  if (num_classes <= 0) throw error_at(where, "no classes");
  if (!class_names.empty() && class_names.size() != size_t(num_classes))
    throw error_at(where, std::to_string(class_names.size()) + " class names for " +
                              std::to_string(num_classes) + " classes");
  if (images.size() != labels.size() * image_size())
    throw error_at(where, std::to_string(labels.size()) + " labels but " +
                              std::to_string(images.size()) + " image bytes (" +
                              std::to_string(image_size()) + " per image)");
  for (size_t i = 0; i < labels.size(); ++i)
    if (labels[i] < 0 || labels[i] >= num_classes)
      throw error_at(where, "label " + std::to_string(labels[i]) + " of sample " +
                                std::to_string(i) + " is out of range [0," +
                                std::to_string(num_classes) + ")");
}

const std::vector<std::string>& dataset_names() {
  static const std::vector<std::string> names = {"fashion-mnist", "mnist", "cifar10", "cifar100",
                                                 "image-folder"};
  return names;
}

std::string default_data_dir(const std::string& name) {
  if (name == "fashion-mnist") return "/usr/share/datasets/fashion-mnist";
  return "";
}

Dataset load_dataset(const std::string& name, const std::string& data_dir, Split split,
                     const LoadOptions& options) {
  std::string dir = data_dir.empty() ? default_data_dir(name) : data_dir;
  if (dir.empty()) throw Error("data set '" + name + "' has no default location: pass --data-dir");
  Dataset d;
  if (name == "fashion-mnist" || name == "mnist") {
    d = load_mnist_style(dir, split, name);
  } else if (name == "cifar10") {
    d = load_cifar10(dir, split);
  } else if (name == "cifar100") {
    d = load_cifar100(dir, split,
                      options.cifar100_coarse ? CifarLabels::Coarse : CifarLabels::Fine);
  } else if (name == "image-folder") {
    d = load_image_folder(dir + "/" + split_name(split),
                          ImageFolderOptions{.channels = options.image_channels,
                                             .height = options.image_height,
                                             .width = options.image_width});
  } else {
    std::string known;
    for (const auto& n : dataset_names()) known += (known.empty() ? "" : ", ") + n;
    throw Error("unknown data set '" + name + "' (known: " + known + ")");
  }
  return d;
}

}  // namespace agilenn::data
