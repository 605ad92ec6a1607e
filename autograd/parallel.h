// The process's one thread pool (persistent workers: no thread start-up per call).
// One level of parallelism per region: inside parallel_for, BLAS runs single-threaded.
#pragma once
#include <cstdint>
#include <functional>

namespace agilenn::ag {

void set_num_threads(int n);  // also the OpenBLAS thread count outside parallel regions
int num_threads();
// Splits [begin, end) into contiguous chunks of at least `grain` items, one call per chunk;
// runs inline when the range is small, when one thread is set, or when already inside a region.
void parallel_for(int64_t begin, int64_t end, int64_t grain,
                  const std::function<void(int64_t, int64_t)>& fn);

}  // namespace agilenn::ag
