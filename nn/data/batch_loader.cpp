#include "nn/data/batch_loader.h"

#include <algorithm>

#include "nn/io/error.h"

namespace agilenn::data {

namespace {
constexpr uint64_t kShuffleKey = 0x53485546464c45ull;  // "SHUFFLE": keeps the order stream apart
}

BatchLoader::BatchLoader(const Dataset& data, const Augmenter& augmenter, LoaderOptions options)
    : data_(data), aug_(augmenter), opt_(options) {
  if (data_.size() == 0) throw error_at(data_.name, "data set is empty");
  if (opt_.batch_size == 0) throw Error("batch loader: batch size must be > 0");
  if (opt_.prefetch == 0) opt_.prefetch = 1;
  if (data_.size() > UINT32_MAX) throw error_at(data_.name, "too many samples");
  if (aug_.in_height() != data_.height || aug_.in_width() != data_.width ||
      aug_.channels() != data_.channels)
    throw error_at(data_.name,
                   "augmenter built for " + std::to_string(aug_.in_height()) + "x" +
                       std::to_string(aug_.in_width()) + "x" + std::to_string(aug_.channels()) +
                       " images, the data set has " + std::to_string(data_.height) + "x" +
                       std::to_string(data_.width) + "x" + std::to_string(data_.channels));
}

BatchLoader::~BatchLoader() {
  stop();
}

size_t BatchLoader::batches_per_epoch() const {
  const size_t n = data_.size(), b = opt_.batch_size;
  return opt_.drop_last ? n / b : (n + b - 1) / b;
}

std::vector<uint32_t> BatchLoader::epoch_order(uint64_t epoch) const {
  std::vector<uint32_t> order(data_.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = uint32_t(i);
  if (opt_.shuffle) {
    Rng rng = Rng::derive(opt_.seed, {kShuffleKey, epoch});
    shuffle(order, rng);
  }
  return order;
}

void BatchLoader::stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (worker_.joinable()) worker_.join();
  {
    std::lock_guard<std::mutex> lock(mu_);
    queue_.clear();
    done_ = true;
  }
  cv_.notify_all();  // a consumer waiting in next() on another thread sees the end
}

void BatchLoader::start_epoch(uint64_t epoch, size_t first_batch) {
  stop();
  std::lock_guard<std::mutex> lock(mu_);
  stop_ = false;
  done_ = false;
  started_ = true;
  error_ = nullptr;
  worker_ = std::thread(&BatchLoader::produce, this, epoch, first_batch);
}

bool BatchLoader::next(Batch& out) {
  std::unique_lock<std::mutex> lock(mu_);
  if (!started_) throw Error("batch loader: next() called before start_epoch()");
  cv_.wait(lock, [&] { return !queue_.empty() || done_ || error_; });
  if (!queue_.empty()) {
    out = std::move(queue_.front());
    queue_.pop_front();
    cv_.notify_all();
    return true;
  }
  if (error_) {
    std::exception_ptr e = error_;
    error_ = nullptr;
    done_ = true;
    std::rethrow_exception(e);
  }
  return false;
}

void BatchLoader::make_batch(const std::vector<uint32_t>& order, uint64_t epoch, size_t b,
                             Batch& out) const {
  const size_t begin = b * opt_.batch_size;
  const size_t end = std::min(order.size(), begin + opt_.batch_size);
  const size_t per = aug_.out_size();
  out.index = b;
  out.size = end - begin;
  out.height = aug_.out_height();
  out.width = aug_.out_width();
  out.channels = aug_.channels();
  out.images.resize(out.size * per);
  out.labels.resize(out.size);
  out.sample_indices.resize(out.size);
  for (size_t i = 0; i < out.size; ++i) {
    const uint32_t s = order[begin + i];
    // Dataset is a plain struct; catch one edited into an inconsistent state here.
    if (size_t(s + 1) * data_.image_size() > data_.images.size() || s >= data_.labels.size())
      throw error_at(data_.name, "sample " + std::to_string(s) + " has no image data (" +
                                     std::to_string(data_.images.size()) + " image bytes)");
    if (data_.labels[s] < 0 || data_.labels[s] >= data_.num_classes)
      throw error_at(data_.name, "label " + std::to_string(data_.labels[s]) + " of sample " +
                                     std::to_string(s) + " is out of range");
    Rng rng = Rng::derive(opt_.seed, {epoch, s});
    aug_.apply(data_.image(s).data(), opt_.train, rng, out.images.data() + i * per);
    out.labels[i] = data_.labels[s];
    out.sample_indices[i] = s;
  }
}

void BatchLoader::produce(uint64_t epoch, size_t first_batch) {
  try {
    const std::vector<uint32_t> order = epoch_order(epoch);
    const size_t count = batches_per_epoch();
    for (size_t b = first_batch; b < count; ++b) {
      Batch batch;
      make_batch(order, epoch, b, batch);
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait(lock, [&] { return stop_ || queue_.size() < opt_.prefetch; });
      if (stop_) return;
      queue_.push_back(std::move(batch));
      cv_.notify_all();
    }
  } catch (...) {
    std::lock_guard<std::mutex> lock(mu_);
    error_ = std::current_exception();
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    done_ = true;
  }
  cv_.notify_all();
}

}  // namespace agilenn::data
