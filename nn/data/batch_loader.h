// Epoch-wise mini-batches of a Dataset as float NHWC tensors, prepared on a background thread
// while the caller trains on the previous batch.
//
//   data::Augmenter aug(opts, ds.height, ds.width, ds.channels);
//   data::BatchLoader loader(ds, aug, {.batch_size = 128, .seed = 1});
//   for (epoch ...) {
//     loader.start_epoch(epoch);
//     data::Batch b;
//     while (loader.next(b)) train_step(b.images, b.labels);  // (B,H,W,C) floats, B labels
//   }
//
// Reproducible: the sample order of an epoch depends only on (seed, epoch) and a sample's
// augmentation only on (seed, epoch, sample index), so resuming at (epoch, batch) gives exactly
// the batches an uninterrupted run would have seen.
#pragma once
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <exception>
#include <mutex>
#include <thread>
#include <vector>

#include "nn/data/augment.h"
#include "nn/data/dataset.h"

namespace agilenn::data {

struct LoaderOptions {
  size_t batch_size = 128;
  bool shuffle = true;     // seeded shuffle per epoch; false = data set order
  bool drop_last = false;  // drop the last partial batch (true) or deliver it smaller (false)
  bool train = true;       // random crop/flip (true) or only resize + normalise (false)
  uint64_t seed = 0;
  size_t prefetch = 2;  // batches prepared ahead of the consumer (>= 1)
};

struct Batch {
  size_t index = 0;  // batch number within the epoch
  size_t size = 0;   // B
  int height = 0, width = 0, channels = 0;
  std::vector<float> images;             // (B, H, W, C)
  std::vector<int32_t> labels;           // (B)
  std::vector<uint32_t> sample_indices;  // (B) data set index of each sample
};

class BatchLoader {
 public:
  // `data` and `augmenter` must outlive the loader. Throws agilenn::Error on an empty data set,
  // batch size 0, or an augmenter built for another image shape.
  BatchLoader(const Dataset& data, const Augmenter& augmenter, LoaderOptions options);
  ~BatchLoader();  // stops and joins the worker
  BatchLoader(const BatchLoader&) = delete;
  BatchLoader& operator=(const BatchLoader&) = delete;

  size_t batches_per_epoch() const;
  const LoaderOptions& options() const { return opt_; }

  // Starts producing epoch `epoch` from batch `first_batch` (to resume mid-epoch), abandoning
  // any epoch in progress.
  void start_epoch(uint64_t epoch, size_t first_batch = 0);
  // Moves the next batch into `out`; false when the epoch is finished. An exception raised while
  // preparing a batch is rethrown here, after the batches before it were delivered.
  bool next(Batch& out);
  // Stops the worker (idempotent); next() then returns false. start_epoch() and next() belong to
  // one consumer thread; stop() may also come from another thread (it wakes a waiting next()).
  void stop();

  // The sample order of an epoch (what the worker uses).
  std::vector<uint32_t> epoch_order(uint64_t epoch) const;

 private:
  void produce(uint64_t epoch, size_t first_batch);
  void make_batch(const std::vector<uint32_t>& order, uint64_t epoch, size_t b, Batch& out) const;

  const Dataset& data_;
  const Augmenter& aug_;
  LoaderOptions opt_;

  std::thread worker_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Batch> queue_;
  bool started_ = false, done_ = true, stop_ = false;
  std::exception_ptr error_;
};

}  // namespace agilenn::data
