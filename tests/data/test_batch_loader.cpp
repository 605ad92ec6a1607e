// The prefetching batch loader: coverage per epoch, reproducibility, resume, shutdown, errors.
#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <future>
#include <thread>

#include "nn/data/batch_loader.h"
#include "test_util.h"

namespace data = agilenn::data;
using test_util::expect_error;

namespace {
// n samples of 2x2x1; every pixel of sample i is i, label i % 3.
data::Dataset numbered(size_t n) {
  data::Dataset d;
  d.name = "numbered";
  d.height = d.width = 2;
  d.channels = 1;
  d.num_classes = 3;
  for (size_t i = 0; i < n; ++i) {
    d.images.insert(d.images.end(), 4, uint8_t(i));
    d.labels.push_back(int32_t(i % 3));
  }
  return d;
}

std::vector<data::Batch> drain(data::BatchLoader& loader) {
  std::vector<data::Batch> out;
  data::Batch b;
  while (loader.next(b)) out.push_back(std::move(b));
  return out;
}

data::AugmentOptions no_aug() {
  data::AugmentOptions o;
  o.pad = 0;
  o.horizontal_flip = false;
  return o;
}
}  // namespace

BOOST_AUTO_TEST_SUITE(batch_loader)

BOOST_AUTO_TEST_CASE(every_sample_exactly_once_with_matching_labels) {
  const auto ds = numbered(10);
  const data::Augmenter aug(no_aug(), 2, 2, 1);
  data::BatchLoader loader(ds, aug, {.batch_size = 3, .seed = 5});
  BOOST_TEST(loader.batches_per_epoch() == 4u);
  loader.start_epoch(0);
  const auto batches = drain(loader);
  BOOST_REQUIRE(batches.size() == 4u);
  std::vector<uint32_t> seen;
  for (size_t k = 0; k < batches.size(); ++k) {
    const auto& b = batches[k];
    BOOST_TEST(b.index == k);
    BOOST_TEST(b.size == (k < 3 ? 3u : 1u));  // last partial batch kept
    BOOST_TEST(b.images.size() == b.size * 4);
    for (size_t i = 0; i < b.size; ++i) {
      const uint32_t s = b.sample_indices[i];
      seen.push_back(s);
      BOOST_TEST(b.labels[i] == int32_t(s % 3));
      BOOST_TEST(std::lround(b.images[i * 4 + 3] * 255.0f) == long(s));  // the right image
    }
  }
  std::vector<uint32_t> sorted = seen;
  std::sort(sorted.begin(), sorted.end());
  for (uint32_t i = 0; i < 10; ++i) BOOST_TEST(sorted[i] == i);
  BOOST_TEST(!std::is_sorted(seen.begin(), seen.end()));  // shuffled
  data::Batch extra;
  BOOST_TEST(!loader.next(extra));  // stays finished
}

BOOST_AUTO_TEST_CASE(drop_last_and_no_shuffle) {
  const auto ds = numbered(10);
  const data::Augmenter aug(no_aug(), 2, 2, 1);
  data::BatchLoader loader(ds, aug, {.batch_size = 3, .shuffle = false, .drop_last = true});
  BOOST_TEST(loader.batches_per_epoch() == 3u);
  loader.start_epoch(4);
  const auto batches = drain(loader);
  BOOST_REQUIRE(batches.size() == 3u);
  for (size_t k = 0; k < 3; ++k)
    for (size_t i = 0; i < 3; ++i) BOOST_TEST(batches[k].sample_indices[i] == k * 3 + i);
}

BOOST_AUTO_TEST_CASE(reproducible_across_loaders_and_resumable_mid_epoch) {
  const auto ds = numbered(37);
  data::AugmentOptions opt;  // random pad-crop + flip + resize
  opt.pad = 1;
  opt.out_height = 3;
  opt.out_width = 3;
  const data::Augmenter aug(opt, 2, 2, 1);
  const data::LoaderOptions lo{.batch_size = 8, .seed = 11, .prefetch = 3};
  data::BatchLoader a(ds, aug, lo), b(ds, aug, lo);
  a.start_epoch(2);
  b.start_epoch(2);
  const auto ea = drain(a), eb = drain(b);
  BOOST_REQUIRE(ea.size() == 5u);
  BOOST_REQUIRE(eb.size() == 5u);
  for (size_t k = 0; k < 5; ++k) {
    BOOST_TEST(ea[k].sample_indices == eb[k].sample_indices);
    BOOST_TEST(ea[k].images == eb[k].images);
    BOOST_TEST(ea[k].height == 3);
  }
  // Another epoch: another order.
  a.start_epoch(3);
  const auto e3 = drain(a);
  BOOST_TEST(e3[0].sample_indices != ea[0].sample_indices);
  // Resume epoch 2 at batch 3 (after an interruption): the same batches 3 and 4.
  a.start_epoch(2, 3);
  const auto resumed = drain(a);
  BOOST_REQUIRE(resumed.size() == 2u);
  BOOST_TEST(resumed[0].index == 3u);
  BOOST_TEST(resumed[0].images == ea[3].images);
  BOOST_TEST(resumed[1].sample_indices == ea[4].sample_indices);
  // Evaluation mode: no randomness, so the same sample gives the same image in every epoch.
  data::LoaderOptions eval = lo;
  eval.train = false;
  eval.shuffle = false;
  data::BatchLoader e(ds, aug, eval);
  e.start_epoch(0);
  const auto e0 = drain(e);
  e.start_epoch(1);
  const auto e1 = drain(e);
  BOOST_TEST(e0[2].images == e1[2].images);
}

BOOST_AUTO_TEST_CASE(abandoning_an_epoch_and_destroying_the_loader_is_clean) {
  const auto ds = numbered(100);
  const data::Augmenter aug(no_aug(), 2, 2, 1);
  for (int round = 0; round < 20; ++round) {
    data::BatchLoader loader(ds, aug, {.batch_size = 4, .seed = uint64_t(round), .prefetch = 1});
    loader.start_epoch(0);
    data::Batch b;
    BOOST_REQUIRE(loader.next(b));
    loader.start_epoch(1);  // abandons epoch 0 while the worker waits on a full queue
    BOOST_REQUIRE(loader.next(b));
    BOOST_TEST(b.index == 0u);
  }  // destructor joins a worker blocked on the full queue
  data::BatchLoader loader(ds, aug, {.batch_size = 4});
  loader.start_epoch(0);
  loader.stop();
  data::Batch b;
  BOOST_TEST(!loader.next(b));
}

BOOST_AUTO_TEST_CASE(stop_from_another_thread_wakes_a_waiting_consumer) {
  const auto ds = numbered(20000);
  data::AugmentOptions big = no_aug();
  big.out_height = big.out_width = 128;  // slow enough that the consumer usually waits
  const data::Augmenter aug(big, 2, 2, 1);
  data::BatchLoader loader(ds, aug, {.batch_size = 16, .prefetch = 1});
  loader.start_epoch(0);
  auto consumer = std::async(std::launch::async, [&] {
    size_t n = 0;
    data::Batch b;
    while (loader.next(b)) ++n;
    return n;
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  loader.stop();
  BOOST_REQUIRE(consumer.wait_for(std::chrono::seconds(20)) == std::future_status::ready);
  BOOST_TEST(consumer.get() < loader.batches_per_epoch());  // ended early, not drained
}

BOOST_AUTO_TEST_CASE(worker_errors_reach_the_consumer_after_the_good_batches) {
  auto ds = numbered(10);
  ds.images.resize(5 * 4);  // samples 5..9 lose their pixels
  const data::Augmenter aug(no_aug(), 2, 2, 1);
  data::BatchLoader loader(ds, aug, {.batch_size = 2, .shuffle = false});
  loader.start_epoch(0);
  data::Batch b;
  BOOST_TEST(loader.next(b));
  BOOST_TEST(loader.next(b));  // batch 1 = samples 2, 3; batch 2 = samples 4, 5 fails on 5
  expect_error(
      [&] {
        data::Batch c;
        loader.next(c);
      },
      {"numbered", "sample 5 has no image data"});
  BOOST_TEST(b.index == 1u);
}

BOOST_AUTO_TEST_CASE(misuse_is_reported) {
  const auto ds = numbered(4);
  const data::Augmenter aug(no_aug(), 2, 2, 1);
  data::BatchLoader loader(ds, aug, {.batch_size = 2});
  expect_error(
      [&] {
        data::Batch b;
        loader.next(b);
      },
      {"before start_epoch"});
  const data::Augmenter wrong(no_aug(), 3, 2, 1);
  expect_error([&] { data::BatchLoader l(ds, wrong, {}); }, {"augmenter built for 3x2x1"});
  expect_error([&] { data::BatchLoader l(ds, aug, {.batch_size = 0}); }, {"batch size"});
  const data::Dataset empty = numbered(0);
  expect_error([&] { data::BatchLoader l(empty, aug, {}); }, {"empty"});
}

BOOST_AUTO_TEST_SUITE_END()
