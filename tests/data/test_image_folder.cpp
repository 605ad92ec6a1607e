// Image-folder loader on PNG/BMP/JPEG files written with stb_image_write.
#include <boost/test/unit_test.hpp>

#include <filesystem>

#include "nn/data/dataset.h"
#include "nn/data/image_folder.h"
#include "test_util.h"

#define STB_IMAGE_WRITE_STATIC
#define STB_IMAGE_WRITE_IMPLEMENTATION
#include <stb/stb_image_write.h>

namespace data = agilenn::data;
using test_util::expect_error;

namespace {
// (h, w, c) image whose pixel (y, x, k) = base + 10*y + 3*x + 50*k.
std::vector<uint8_t> pattern(int h, int w, int c, int base) {
  std::vector<uint8_t> v;
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x)
      for (int k = 0; k < c; ++k) v.push_back(uint8_t(base + 10 * y + 3 * x + 50 * k));
  return v;
}
void write_png(const std::string& path, int h, int w, int c, int base) {
  std::filesystem::create_directories(std::filesystem::path(path).parent_path());
  const auto px = pattern(h, w, c, base);
  BOOST_REQUIRE(stbi_write_png(path.c_str(), w, h, c, px.data(), w * c));
}
void write_bmp(const std::string& path, int h, int w, int base) {
  std::filesystem::create_directories(std::filesystem::path(path).parent_path());
  const auto px = pattern(h, w, 3, base);
  BOOST_REQUIRE(stbi_write_bmp(path.c_str(), w, h, 3, px.data()));
}
void write_uniform_jpg(const std::string& path, int h, int w, uint8_t value) {
  std::filesystem::create_directories(std::filesystem::path(path).parent_path());
  const std::vector<uint8_t> px(size_t(h) * w * 3, value);
  BOOST_REQUIRE(stbi_write_jpg(path.c_str(), w, h, 3, px.data(), 95));
}
}  // namespace

BOOST_AUTO_TEST_SUITE(image_folder)

BOOST_AUTO_TEST_CASE(sorted_classes_and_exact_pixels) {
  const std::string root = test_util::scratch_dir("imgfolder_good");
  write_png(root + "/train/cat/b.png", 4, 5, 3, 1);
  write_png(root + "/train/cat/a.png", 4, 5, 3, 2);
  write_bmp(root + "/train/ant/z.BMP", 4, 5, 3);
  write_uniform_jpg(root + "/train/bee/x.jpg", 4, 5, 200);
  write_png(root + "/train/bee/notes.txt", 1, 1, 3, 0);  // not an image extension: ignored

  const auto d = data::load_dataset("image-folder", root, data::Split::Train);
  BOOST_TEST((d.class_names == std::vector<std::string>{"ant", "bee", "cat"}));
  BOOST_TEST(d.num_classes == 3);
  BOOST_TEST(d.height == 4);
  BOOST_TEST(d.width == 5);
  BOOST_TEST(d.channels == 3);
  BOOST_TEST((d.labels == std::vector<int32_t>{0, 1, 2, 2}));
  const auto bmp = d.image(0);
  BOOST_TEST((std::vector<uint8_t>(bmp.begin(), bmp.end()) == pattern(4, 5, 3, 3)));
  const auto jpg = d.image(1);
  for (uint8_t v : jpg) BOOST_TEST(std::abs(int(v) - 200) <= 2);
  const auto a = d.image(2);  // files sorted: a.png before b.png
  BOOST_TEST((std::vector<uint8_t>(a.begin(), a.end()) == pattern(4, 5, 3, 2)));
}

BOOST_AUTO_TEST_CASE(grey_conversion_and_resize) {
  const std::string root = test_util::scratch_dir("imgfolder_resize");
  write_png(root + "/0/a.png", 4, 4, 1, 0);
  write_png(root + "/1/b.png", 2, 6, 3, 0);
  data::ImageFolderOptions opt;
  opt.channels = 1;
  opt.height = 8;
  opt.width = 8;
  const auto d = data::load_image_folder(root, opt);
  BOOST_TEST(d.channels == 1);
  BOOST_TEST(d.height == 8);
  BOOST_TEST(d.images.size() == 2u * 64u);
  // 4 -> 8 upsampling with half-pixel centres: output 0 and 1 both map to source row/col 0
  // (clamped / at -0.25 -> 0, 0.25), so pixel (0,0) equals the source (0,0) = 0 and pixel
  // (1,1) = 0.25*0.25 blend: 0 + 0.25*3 + 0.25*10 = 3.25 -> 3.
  BOOST_TEST(d.image(0)[0] == 0);
  BOOST_TEST(d.image(0)[9] == 3);
  // The same through load_dataset (root/train/<class>).
  write_png(root + "/train/x/a.png", 4, 4, 3, 0);
  write_png(root + "/train/y/a.png", 5, 5, 3, 0);
  const auto via = data::load_dataset(
      "image-folder", root, data::Split::Train,
      data::LoadOptions{.image_channels = 3, .image_height = 6, .image_width = 7});
  BOOST_TEST(via.size() == 2u);
  BOOST_TEST(via.height == 6);
  BOOST_TEST(via.width == 7);
  BOOST_TEST(via.channels == 3);
}

BOOST_AUTO_TEST_CASE(bad_folders_are_named) {
  const std::string root = test_util::scratch_dir("imgfolder_bad");
  data::ImageFolderOptions opt;
  expect_error([&] { data::load_image_folder(root + "/missing", opt); }, {"missing", "not found"});
  expect_error([&] { data::load_image_folder(root, opt); }, {root, "no class sub-folders"});

  write_png(root + "/a/1.png", 4, 4, 3, 0);
  std::filesystem::create_directories(root + "/b");
  expect_error([&] { data::load_image_folder(root, opt); }, {root + "/b", "no PNG/JPEG/BMP"});

  write_png(root + "/b/1.png", 4, 6, 3, 0);
  expect_error([&] { data::load_image_folder(root, opt); },
               {root + "/b/1.png", "image is 6x4 but the folder's images are 4x4"});

  test_util::write(root + "/b/1.png", std::vector<uint8_t>{0x89, 'P', 'N', 'G', 1, 2, 3});
  expect_error([&] { data::load_image_folder(root, opt); }, {root + "/b/1.png", "cannot decode"});

  opt.channels = 4;
  expect_error([&] { data::load_image_folder(root, opt); }, {"channels must be 1 or 3"});
}

BOOST_AUTO_TEST_SUITE_END()
