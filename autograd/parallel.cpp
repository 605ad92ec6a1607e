// The process's persistent thread pool behind parallel_for.
//
// Design (why): ops at AgileNN's sizes take tens of microseconds, so a region must cost far less
// than a thread start. Workers stay alive, spin briefly after a region (the next op usually
// follows within microseconds) and then sleep on an atomic wait. A region publishes a task and a
// packed (generation, next chunk) word; the caller and the workers claim chunks from it with a
// CAS, so a worker that wakes late cannot claim a chunk of a later region. The chunk boundaries
// depend only on the range, the grain and the thread count (never on timing), so kernels that
// keep per-chunk partial results are deterministic for a given thread count.
#include "autograd/parallel.h"

#include <cblas.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <exception>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "nn/io/error.h"

namespace agilenn::ag {
namespace {

thread_local bool t_in_region = false;

inline void cpu_relax() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#endif
}

// Spin for about this long before sleeping: long enough to bridge the gap between two ops.
constexpr auto kSpinTime = std::chrono::microseconds(100);

int default_num_threads() {
  if (const char* env = std::getenv("AGILENN_NUM_THREADS"); env && *env) {
    char* end = nullptr;
    long n = std::strtol(env, &end, 10);
    if (*end != '\0' || n < 1 || n > 1024)
      throw error_at("AGILENN_NUM_THREADS",
                     std::string("expected an integer in [1, 1024], got '") + env + "'");
    return static_cast<int>(n);
  }
  unsigned hc = std::thread::hardware_concurrency();
  return hc == 0 ? 1 : static_cast<int>(hc);
}

struct Partition {
  int64_t begin, size, chunks;
  int64_t chunk_begin(int64_t i) const { return begin + size * i / chunks; }
};

Partition make_partition(int64_t begin, int64_t end, int64_t grain, int threads) {
  int64_t size = end - begin;
  grain = std::max<int64_t>(grain, 1);
  int64_t chunks = std::max<int64_t>(1, std::min<int64_t>(threads, size / grain));
  return {begin, size, chunks};
}

class ThreadPool {
 public:
  static ThreadPool& instance() {
    static ThreadPool pool;
    return pool;
  }

  int threads() const { return threads_.load(std::memory_order_relaxed); }

  void set_threads(int n) {
    std::lock_guard<std::mutex> region(region_mutex_);
    stop_workers();
    threads_.store(n, std::memory_order_relaxed);
    start_workers(n - 1);
    openblas_set_num_threads(n);
  }

  // Runs chunks [0, p.chunks) of `fn`; returns once all are done, rethrowing the exception of
  // the lowest-numbered failing chunk.
  void run(const Partition& p, const std::function<void(int64_t, int64_t)>& fn) {
    std::unique_lock<std::mutex> region(region_mutex_, std::try_to_lock);
    if (!region.owns_lock() || workers_.empty()) {  // another thread owns the pool: run here
      run_inline(p, fn);
      return;
    }
    openblas_set_num_threads(1);  // one level of parallelism inside a region
    fn_ = &fn;
    part_ = p;
    error_ = nullptr;
    error_chunk_ = INT64_MAX;
    done_.store(0, std::memory_order_relaxed);
    chunks_mirror_.store(p.chunks, std::memory_order_relaxed);
    uint32_t gen = ++generation_;
    state_.store(uint64_t(gen) << 32, std::memory_order_release);
    wake_.fetch_add(1, std::memory_order_release);
    wake_.notify_all();

    t_in_region = true;
    work(gen);
    t_in_region = false;
    wait_done(p.chunks);
    openblas_set_num_threads(threads());
    fn_ = nullptr;
    if (error_) std::rethrow_exception(error_);
  }

  static void run_inline(const Partition& p, const std::function<void(int64_t, int64_t)>& fn) {
    bool outer = t_in_region;
    t_in_region = true;
    try {
      for (int64_t i = 0; i < p.chunks; ++i) fn(p.chunk_begin(i), p.chunk_begin(i + 1));
    } catch (...) {
      t_in_region = outer;
      throw;
    }
    t_in_region = outer;
  }

  ~ThreadPool() { stop_workers(); }

 private:
  ThreadPool() {
    int n = default_num_threads();
    threads_.store(n, std::memory_order_relaxed);
    start_workers(n - 1);
    openblas_set_num_threads(n);
  }

  void start_workers(int count) {
    stop_.store(false);
    // The worker starts from the wake value of now, so a stop issued before it first runs
    // still wakes it.
    const uint32_t seen = wake_.load();
    for (int i = 0; i < count; ++i) workers_.emplace_back([this, seen] { worker_loop(seen); });
  }

  void stop_workers() {
    if (workers_.empty()) return;
    stop_.store(true);
    wake_.fetch_add(1, std::memory_order_release);
    wake_.notify_all();
    for (auto& t : workers_) t.join();
    workers_.clear();
  }

  // Claims and runs chunks of generation `gen` until none are left.
  void work(uint32_t gen) {
    for (;;) {
      uint64_t s = state_.load(std::memory_order_acquire);
      if (uint32_t(s >> 32) != gen) return;
      int64_t i = int64_t(uint32_t(s));
      if (i >= part_chunks_relaxed()) return;
      if (!state_.compare_exchange_weak(s, s + 1, std::memory_order_acq_rel)) continue;
      // The claim succeeded, so this region is still live: fn_ and part_ are stable.
      try {
        (*fn_)(part_.chunk_begin(i), part_.chunk_begin(i + 1));
      } catch (...) {
        std::lock_guard<std::mutex> lock(error_mutex_);
        if (i < error_chunk_) {
          error_chunk_ = i;
          error_ = std::current_exception();
        }
      }
      if (done_.fetch_add(1, std::memory_order_acq_rel) + 1 == part_.chunks) done_.notify_all();
    }
  }

  // part_ is written before the generation is published; reading it for a stale generation is
  // harmless because the CAS then fails. Kept in an atomic to make that read well defined.
  int64_t part_chunks_relaxed() const { return chunks_mirror_.load(std::memory_order_relaxed); }

  void wait_done(int64_t chunks) {
    auto until = std::chrono::steady_clock::now() + kSpinTime;
    for (int spins = 0;; ++spins) {
      int64_t d = done_.load(std::memory_order_acquire);
      if (d == chunks) return;
      if ((spins & 63) == 63 && std::chrono::steady_clock::now() > until) {
        done_.wait(d, std::memory_order_acquire);
      } else {
        cpu_relax();
      }
    }
  }

  void worker_loop(uint32_t seen) {
    t_in_region = true;  // anything a worker runs is inside a region
    for (;;) {
      auto until = std::chrono::steady_clock::now() + kSpinTime;
      uint32_t now = seen;
      for (int spins = 0;; ++spins) {
        now = wake_.load(std::memory_order_acquire);
        if (now != seen) break;
        if ((spins & 63) == 63 && std::chrono::steady_clock::now() > until) {
          wake_.wait(seen, std::memory_order_acquire);
        } else {
          cpu_relax();
        }
      }
      seen = now;
      if (stop_.load()) return;
      work(uint32_t(state_.load(std::memory_order_acquire) >> 32));
    }
  }

 private:
  std::atomic<int> threads_{1};
  std::vector<std::thread> workers_;
  std::mutex region_mutex_;
  std::atomic<bool> stop_{false};
  std::atomic<uint32_t> wake_{0};
  uint32_t generation_ = 0;
  std::atomic<uint64_t> state_{0};
  std::atomic<int64_t> chunks_mirror_{0};
  std::atomic<int64_t> done_{0};
  const std::function<void(int64_t, int64_t)>* fn_ = nullptr;
  Partition part_{0, 0, 1};
  std::mutex error_mutex_;
  std::exception_ptr error_;
  int64_t error_chunk_ = INT64_MAX;
};

}  // namespace

void set_num_threads(int n) {
  if (n < 1 || n > 1024)
    throw error_at("set_num_threads",
                   "thread count must be in [1, 1024], got " + std::to_string(n));
  if (t_in_region)  // the region holds the pool: resizing it here would deadlock
    throw error_at("set_num_threads", "called inside a parallel_for region");
  if (n == ThreadPool::instance().threads()) return;  // no restart of the workers for no change
  ThreadPool::instance().set_threads(n);
}

int num_threads() {
  return ThreadPool::instance().threads();
}

void parallel_for(int64_t begin, int64_t end, int64_t grain,
                  const std::function<void(int64_t, int64_t)>& fn) {
  if (end <= begin) return;
  ThreadPool& pool = ThreadPool::instance();
  Partition p = make_partition(begin, end, grain, pool.threads());
  if (p.chunks == 1) {
    ThreadPool::run_inline(p, fn);
    return;
  }
  if (t_in_region) {  // nested: same chunks, run here in order
    ThreadPool::run_inline(p, fn);
    return;
  }
  pool.run(p, fn);
}

}  // namespace agilenn::ag
