// The installed Fashion-MNIST (Debian package dataset-fashion-mnist), when present.
#include <boost/test/unit_test.hpp>

#include <filesystem>

#include "nn/data/dataset.h"

namespace data = agilenn::data;

BOOST_AUTO_TEST_SUITE(fashion_mnist_installed)

BOOST_AUTO_TEST_CASE(counts_shape_and_first_labels) {
  const std::string dir = data::default_data_dir("fashion-mnist");
  if (!std::filesystem::exists(dir + "/train-labels-idx1-ubyte.gz")) {
    std::printf("SKIPPED: %s not installed (tools/setup.sh installs dataset-fashion-mnist)\n",
                dir.c_str());
    return;
  }
  const auto train = data::load_dataset("fashion-mnist", "", data::Split::Train);
  const auto test = data::load_dataset("fashion-mnist", "", data::Split::Test);
  BOOST_TEST(train.size() == 60000u);
  BOOST_TEST(test.size() == 10000u);
  BOOST_TEST(train.height == 28);
  BOOST_TEST(train.width == 28);
  BOOST_TEST(train.channels == 1);
  const std::vector<int32_t> first(train.labels.begin(), train.labels.begin() + 10);
  BOOST_TEST((first == std::vector<int32_t>{9, 0, 0, 3, 0, 2, 7, 2, 5, 5}));
  // Both splits are balanced: 6000 / 1000 images per class.
  std::vector<int> train_counts(10), test_counts(10);
  for (int32_t l : train.labels) ++train_counts[l];
  for (int32_t l : test.labels) ++test_counts[l];
  for (int c = 0; c < 10; ++c) {
    BOOST_TEST(train_counts[c] == 6000);
    BOOST_TEST(test_counts[c] == 1000);
  }
}

BOOST_AUTO_TEST_SUITE_END()
