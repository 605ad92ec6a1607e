#include "autograd/storage.h"

#include <cstdlib>
#include <mutex>
#include <new>
#include <unordered_map>
#include <vector>

namespace agilenn::ag {
namespace {

// Buffers are 64-byte aligned and rounded up to 64 bytes; small sizes share buckets.
size_t round_size(size_t bytes) {
  return (bytes + 63) & ~size_t(63);
}

struct Cache {
  std::mutex mu;
  std::unordered_map<size_t, std::vector<void*>> free_lists;
  int64_t live_buffers = 0, live_bytes = 0, cached_bytes = 0, system_allocs = 0;
};
Cache& cache() {
  static Cache* c = new Cache;  // never destroyed: storages may outlive static destruction order
  return *c;
}

}  // namespace

Storage::Storage(size_t bytes) : bytes_(bytes) {
  const size_t sz = round_size(bytes == 0 ? 1 : bytes);
  Cache& c = cache();
  {
    std::lock_guard<std::mutex> lock(c.mu);
    ++c.live_buffers;
    c.live_bytes += int64_t(sz);
    auto it = c.free_lists.find(sz);
    if (it != c.free_lists.end() && !it->second.empty()) {
      ptr_ = it->second.back();
      it->second.pop_back();
      c.cached_bytes -= int64_t(sz);
      return;
    }
    ++c.system_allocs;
  }
  ptr_ = std::aligned_alloc(64, sz);
  if (!ptr_) throw std::bad_alloc();
}

Storage::~Storage() {
  const size_t sz = round_size(bytes_ == 0 ? 1 : bytes_);
  Cache& c = cache();
  std::lock_guard<std::mutex> lock(c.mu);
  --c.live_buffers;
  c.live_bytes -= int64_t(sz);
  c.cached_bytes += int64_t(sz);
  c.free_lists[sz].push_back(ptr_);
}

AllocatorStats allocator_stats() {
  Cache& c = cache();
  std::lock_guard<std::mutex> lock(c.mu);
  return {c.live_buffers, c.live_bytes, c.cached_bytes, c.system_allocs};
}

void allocator_release_cache() {
  Cache& c = cache();
  std::lock_guard<std::mutex> lock(c.mu);
  for (auto& [sz, list] : c.free_lists)
    for (void* p : list) std::free(p);
  c.free_lists.clear();
  c.cached_bytes = 0;
}

}  // namespace agilenn::ag
