// Image-folder data set: root/<class name>/<image>.{png,jpg,jpeg,bmp}, one sub-folder per class.
// Classes are the sub-folder names sorted bytewise (label i = i-th name), files sorted by name.
#pragma once
#include <string>

#include "nn/data/dataset.h"

namespace agilenn::data {

struct ImageFolderOptions {
  int channels = 3;  // 1 (grey) or 3 (RGB); every image is converted to this
  // Target size. 0 = every image must have the size of the first one (else an error naming the
  // file); > 0 = every image is bilinearly resized to height x width.
  int height = 0, width = 0;
};

// Throws agilenn::Error naming the folder or file: missing root, no class folders, a class
// folder without images, an undecodable image, an image of the wrong size.
Dataset load_image_folder(const std::string& root, const ImageFolderOptions& options);

}  // namespace agilenn::data
