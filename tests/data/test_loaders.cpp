// IDX (Fashion-MNIST style, gzip) and CIFAR-10/100 binary loaders on generated files.
#include <boost/test/unit_test.hpp>

#include "nn/data/cifar.h"
#include "nn/data/dataset.h"
#include "nn/data/gzip.h"
#include "nn/data/idx.h"
#include "test_util.h"

namespace data = agilenn::data;
using test_util::expect_error;
using test_util::gzip_bytes;
using test_util::idx_images;
using test_util::idx_labels;
using test_util::write;

BOOST_AUTO_TEST_SUITE(idx)

BOOST_AUTO_TEST_CASE(loads_gzip_and_raw_idx_pairs) {
  const std::string dir = test_util::scratch_dir("idx_good");
  const auto images = idx_images(5, 4, 3);
  write(dir + "/train-images-idx3-ubyte.gz", gzip_bytes(images));
  write(dir + "/train-labels-idx1-ubyte.gz", gzip_bytes(idx_labels({9, 0, 0, 3, 0})));
  write(dir + "/t10k-images-idx3-ubyte", idx_images(2, 4, 3));  // uncompressed is accepted too
  write(dir + "/t10k-labels-idx1-ubyte", idx_labels({1, 2}));

  const data::Dataset train = data::load_dataset("fashion-mnist", dir, data::Split::Train);
  BOOST_TEST(train.name == "fashion-mnist/train");
  BOOST_TEST(train.size() == 5u);
  BOOST_TEST(train.height == 4);
  BOOST_TEST(train.width == 3);
  BOOST_TEST(train.channels == 1);
  BOOST_TEST(train.num_classes == 10);
  BOOST_TEST(train.class_names.size() == 10u);
  BOOST_TEST((train.labels == std::vector<int32_t>{9, 0, 0, 3, 0}));
  BOOST_TEST((train.images == std::vector<uint8_t>(images.begin() + 16, images.end())));
  BOOST_TEST(train.image(2)[0] == images[16 + 2 * 12]);

  const data::Dataset test = data::load_dataset("mnist", dir, data::Split::Test);
  BOOST_TEST(test.size() == 2u);
  BOOST_TEST(test.class_names.empty());
  BOOST_TEST((test.labels == std::vector<int32_t>{1, 2}));
}

BOOST_AUTO_TEST_CASE(bad_idx_files_are_named_in_the_error) {
  const std::string dir = test_util::scratch_dir("idx_bad");
  const std::string img = dir + "/train-images-idx3-ubyte.gz";
  const std::string lab = dir + "/train-labels-idx1-ubyte.gz";
  auto load = [&] { data::load_mnist_style(dir, data::Split::Train, "fashion-mnist"); };

  expect_error(load, {"train-images-idx3-ubyte.gz", "not found"});

  write(lab, gzip_bytes(idx_labels({1, 2, 3})));
  write(img, gzip_bytes(idx_images(3, 2, 2, 0x00000801)));
  expect_error(load, {img, "wrong IDX magic 0x00000801, expected 0x00000803"});

  auto truncated = idx_images(3, 2, 2);
  truncated.pop_back();
  write(img, gzip_bytes(truncated));
  expect_error(load, {img, "truncated IDX file", "need 12 data bytes, file has 11"});

  auto longer = idx_images(3, 2, 2);
  longer.push_back(0);
  write(img, gzip_bytes(longer));
  expect_error(load, {img, "1 unexpected bytes"});

  write(img, std::vector<uint8_t>{0x00, 0x01, 0x02});
  expect_error(load, {img, "not a gzip file"});

  auto gz = gzip_bytes(idx_images(30, 8, 8));
  write(img, std::vector<uint8_t>(gz.begin(), gz.begin() + gz.size() / 2));
  expect_error(load, {img, "truncated gzip"});

  for (size_t i = 12; i < gz.size() - 8; i += 7) gz[i] ^= 0x5a;
  write(img, gz);
  expect_error(load, {img, "gzip"});

  write(img, gzip_bytes(idx_images(4, 2, 2)));
  expect_error(load, {img, "4 images but", lab, "has 3 labels"});

  write(img, gzip_bytes(idx_images(3, 2, 2)));
  write(lab, gzip_bytes(idx_labels({1, 10, 3})));
  expect_error(load, {lab, "label 10 of sample 1 is out of range [0,10)"});

  write(lab, gzip_bytes(idx_images(3, 2, 2)));
  expect_error(load, {lab, "wrong IDX magic 0x00000803, expected 0x00000801"});

  write(lab, gzip_bytes(idx_labels({1, 2, 3})));
  BOOST_TEST(data::load_mnist_style(dir, data::Split::Train, "fashion-mnist").size() == 3u);
}

BOOST_AUTO_TEST_CASE(gunzip_handles_multiple_members_and_rejects_garbage) {
  const std::vector<uint8_t> a = {1, 2, 3}, b = {4, 5};
  auto both = gzip_bytes(a);
  const auto gb = gzip_bytes(b);
  both.insert(both.end(), gb.begin(), gb.end());
  BOOST_TEST((data::gunzip(both, "x.gz") == std::vector<uint8_t>{1, 2, 3, 4, 5}));
  both.push_back('!');
  expect_error([&] { data::gunzip(both, "x.gz"); }, {"x.gz", "trailing garbage"});
  expect_error([&] { data::gunzip(gzip_bytes(std::vector<uint8_t>(5000, 7)), "y.gz", 100); },
               {"y.gz", "more than 100 bytes"});
}

BOOST_AUTO_TEST_CASE(unknown_data_set_and_missing_dir) {
  expect_error([] { data::load_dataset("imagenet", "/tmp", data::Split::Train); },
               {"unknown data set 'imagenet'", "fashion-mnist"});
  expect_error([] { data::load_dataset("cifar10", "", data::Split::Train); }, {"--data-dir"});
  BOOST_TEST(data::default_data_dir("fashion-mnist") == "/usr/share/datasets/fashion-mnist");
}

BOOST_AUTO_TEST_SUITE_END()

namespace {
// One CIFAR record: label bytes then planar RGB with a value that encodes (record, channel, pixel).
void append_record(std::vector<uint8_t>& file, std::vector<uint8_t> label_bytes, int rec) {
  file.insert(file.end(), label_bytes.begin(), label_bytes.end());
  for (int c = 0; c < 3; ++c)
    for (int p = 0; p < 1024; ++p) file.push_back(uint8_t(p + 50 * c + 3 * rec));
}
void check_pixels(const data::Dataset& d, size_t i, int rec) {
  const auto img = d.image(i);
  bool ok = true;
  for (int p = 0; p < 1024; ++p)
    for (int c = 0; c < 3; ++c) ok = ok && img[p * 3 + c] == uint8_t(p + 50 * c + 3 * rec);
  BOOST_TEST(ok, "image " << i << " is not the HWC form of record " << rec);
}
}  // namespace

BOOST_AUTO_TEST_SUITE(cifar)

BOOST_AUTO_TEST_CASE(cifar10_batches_in_archive_subfolder) {
  const std::string root = test_util::scratch_dir("cifar10");
  const std::string dir = root + "/cifar-10-batches-bin";
  int rec = 0;
  for (int b = 1; b <= 5; ++b) {
    std::vector<uint8_t> f;
    for (int r = 0; r < 2; ++r, ++rec) append_record(f, {uint8_t(rec % 10)}, rec);
    write(dir + "/data_batch_" + std::to_string(b) + ".bin", f);
  }
  std::vector<uint8_t> t;
  for (int r = 0; r < 3; ++r) append_record(t, {uint8_t(9 - r)}, 100 + r);
  write(dir + "/test_batch.bin", t);

  const auto train = data::load_dataset("cifar10", root, data::Split::Train);
  BOOST_TEST(train.size() == 10u);
  BOOST_TEST(train.height == 32);
  BOOST_TEST(train.channels == 3);
  BOOST_TEST(train.num_classes == 10);
  for (int i = 0; i < 10; ++i) BOOST_TEST(train.labels[i] == i % 10);
  check_pixels(train, 0, 0);
  check_pixels(train, 7, 7);
  const auto test = data::load_cifar10(dir, data::Split::Test);  // the folder itself works too
  BOOST_TEST((test.labels == std::vector<int32_t>{9, 8, 7}));
  check_pixels(test, 2, 102);
}

BOOST_AUTO_TEST_CASE(cifar100_fine_and_coarse_labels) {
  const std::string dir = test_util::scratch_dir("cifar100");
  std::vector<uint8_t> f;
  append_record(f, {19, 99}, 0);
  append_record(f, {3, 42}, 1);
  write(dir + "/train.bin", f);
  const auto fine = data::load_dataset("cifar100", dir, data::Split::Train);
  BOOST_TEST(fine.num_classes == 100);
  BOOST_TEST((fine.labels == std::vector<int32_t>{99, 42}));
  check_pixels(fine, 1, 1);
  const auto coarse = data::load_dataset("cifar100", dir, data::Split::Train,
                                         data::LoadOptions{.cifar100_coarse = true});
  BOOST_TEST(coarse.num_classes == 20);
  BOOST_TEST((coarse.labels == std::vector<int32_t>{19, 3}));
}

BOOST_AUTO_TEST_CASE(bad_cifar_files) {
  const std::string dir = test_util::scratch_dir("cifar_bad");
  expect_error([&] { data::load_cifar10(dir, data::Split::Test); },
               {"test_batch.bin", "not found"});
  std::vector<uint8_t> f;
  append_record(f, {3}, 0);
  append_record(f, {10}, 1);
  write(dir + "/test_batch.bin", f);
  expect_error([&] { data::load_cifar10(dir, data::Split::Test); },
               {dir + "/test_batch.bin", "record 1: label 10 is out of range [0,10)"});
  f.resize(f.size() - 1);
  write(dir + "/test_batch.bin", f);
  expect_error([&] { data::load_cifar10(dir, data::Split::Test); },
               {"test_batch.bin", "not a multiple of the 3073-byte record"});
  write(dir + "/test_batch.bin", std::vector<uint8_t>{});
  expect_error([&] { data::load_cifar10(dir, data::Split::Test); }, {"test_batch.bin", "empty"});
  std::vector<uint8_t> g;
  append_record(g, {20, 5}, 0);
  write(dir + "/test.bin", g);
  expect_error([&] { data::load_cifar100(dir, data::Split::Test, data::CifarLabels::Coarse); },
               {"test.bin", "label 20 is out of range [0,20)"});
}

BOOST_AUTO_TEST_SUITE_END()
