// Tensor storage from a caching allocator: freed buffers go back to a per-size free list, so a
// training step in steady state makes no calls to malloc for tensor data.
#pragma once
#include <cstddef>
#include <cstdint>
#include <memory>

namespace agilenn::ag {

class Storage {
 public:
  explicit Storage(size_t bytes);
  ~Storage();
  Storage(const Storage&) = delete;
  Storage& operator=(const Storage&) = delete;
  void* data() const { return ptr_; }
  size_t bytes() const { return bytes_; }

 private:
  void* ptr_;
  size_t bytes_;
};

struct AllocatorStats {
  int64_t live_buffers;  // storages alive now
  int64_t live_bytes;
  int64_t cached_bytes;   // held in free lists
  int64_t system_allocs;  // calls that missed the cache
};
AllocatorStats allocator_stats();
void allocator_release_cache();  // hand every cached buffer back to the system

}  // namespace agilenn::ag
