// Placeholder until the thread pool lands: runs every range inline (to be replaced).
#include <cblas.h>

#include "autograd/parallel.h"

namespace agilenn::ag {
namespace {
int g_threads = 1;
}
void set_num_threads(int n) {
  g_threads = n < 1 ? 1 : n;
  openblas_set_num_threads(g_threads);
}
int num_threads() { return g_threads; }
void parallel_for(int64_t begin, int64_t end, int64_t, const std::function<void(int64_t, int64_t)>& fn) {
  if (begin < end) fn(begin, end);
}
}  // namespace agilenn::ag
