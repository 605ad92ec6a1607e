#include "nn/data/image_folder.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <filesystem>
#include <memory>

#include "nn/data/augment.h"
#include "nn/io/atomic_file.h"
#include "nn/io/error.h"

// stb_image, private to this file (static functions) so other targets may embed their own copy.
#define STB_IMAGE_STATIC
#define STB_IMAGE_IMPLEMENTATION
#define STBI_ONLY_PNG
#define STBI_ONLY_JPEG
#define STBI_ONLY_BMP
#define STBI_NO_STDIO
#include <stb/stb_image.h>

namespace agilenn::data {

namespace fs = std::filesystem;

namespace {
bool is_image_file(const fs::path& p) {
  std::string ext = p.extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(),
                 [](unsigned char c) { return std::tolower(c); });
  return ext == ".png" || ext == ".jpg" || ext == ".jpeg" || ext == ".bmp";
}
}  // namespace

Dataset load_image_folder(const std::string& root, const ImageFolderOptions& options) {
  if (options.channels != 1 && options.channels != 3)
    throw error_at(root,
                   "image folder channels must be 1 or 3, got " + std::to_string(options.channels));
  if ((options.height > 0) != (options.width > 0) || options.height < 0 || options.width < 0)
    throw error_at(root, "image folder size must be both positive or both 0");
  std::error_code ec;
  if (!fs::is_directory(root, ec)) throw error_at(root, "image folder not found");

  std::vector<std::string> classes;
  for (const auto& entry : fs::directory_iterator(root))
    if (entry.is_directory()) classes.push_back(entry.path().filename().string());
  std::sort(classes.begin(), classes.end());
  if (classes.empty()) throw error_at(root, "no class sub-folders (expected root/<class>/<image>)");

  Dataset d;
  d.name = "image-folder:" + root;
  d.channels = options.channels;
  d.height = options.height;
  d.width = options.width;
  d.num_classes = int(classes.size());
  d.class_names = classes;
  for (size_t label = 0; label < classes.size(); ++label) {
    const fs::path dir = fs::path(root) / classes[label];
    std::vector<fs::path> files;
    for (const auto& entry : fs::directory_iterator(dir))
      if (entry.is_regular_file() && is_image_file(entry.path())) files.push_back(entry.path());
    std::sort(files.begin(), files.end());
    if (files.empty()) throw error_at(dir.string(), "class folder has no PNG/JPEG/BMP images");
    for (const fs::path& file : files) {
      const std::string path = file.string();
      const std::vector<uint8_t> bytes = read_file_bytes(path);
      int w = 0, h = 0, c = 0;
      std::unique_ptr<stbi_uc, void (*)(void*)> pixels(
          stbi_load_from_memory(bytes.data(), int(bytes.size()), &w, &h, &c, options.channels),
          stbi_image_free);
      if (!pixels)
        throw error_at(path, std::string("cannot decode image: ") + stbi_failure_reason());
      if (d.height == 0) {  // the first image fixes the size
        d.height = h;
        d.width = w;
      }
      const size_t n = size_t(d.height) * d.width * d.channels;
      const size_t base = d.images.size();
      d.images.resize(base + n);
      if (h == d.height && w == d.width) {
        std::copy(pixels.get(), pixels.get() + n, d.images.begin() + base);
      } else if (options.height > 0) {
        std::vector<float> src(pixels.get(), pixels.get() + size_t(h) * w * d.channels);
        std::vector<float> dst(n);
        resize_bilinear(src.data(), h, w, d.channels, dst.data(), d.height, d.width);
        for (size_t i = 0; i < n; ++i)
          d.images[base + i] = uint8_t(std::clamp(std::lround(dst[i]), 0l, 255l));
      } else {
        throw error_at(path, "image is " + std::to_string(w) + "x" + std::to_string(h) +
                                 " but the folder's images are " + std::to_string(d.width) + "x" +
                                 std::to_string(d.height) + " (give a size to resize them)");
      }
      d.labels.push_back(int32_t(label));
    }
  }
  d.validate(root);
  return d;
}

}  // namespace agilenn::data
