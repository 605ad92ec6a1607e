// parallel_for: exact coverage, nesting, exception propagation, thread-count control.
#include <atomic>
#include <boost/test/unit_test.hpp>
#include <stdexcept>
#include <vector>

#include "autograd/parallel.h"
#include "nn/io/error.h"

using agilenn::ag::num_threads;
using agilenn::ag::parallel_for;
using agilenn::ag::set_num_threads;

namespace {
struct RestoreThreads {
  int saved = num_threads();
  ~RestoreThreads() { set_num_threads(saved); }
};
}  // namespace

BOOST_AUTO_TEST_SUITE(parallel)

BOOST_AUTO_TEST_CASE(covers_every_index_once) {
  RestoreThreads restore;
  for (int threads : {1, 2, 3}) {
    set_num_threads(threads);
    BOOST_TEST(num_threads() == threads);
    for (int64_t begin : {0, 5, -7}) {
      for (int64_t size : {0, 1, 2, 3, 7, 31, 64, 1001}) {
        for (int64_t grain : {0, 1, 2, 5, 16, 2000}) {
          std::vector<std::atomic<int>> hits(size);
          std::atomic<int> calls{0}, bad_chunks{0};
          parallel_for(begin, begin + size, grain, [&](int64_t b, int64_t e) {
            ++calls;
            if (b >= e || (grain > 0 && size >= grain && e - b < grain)) ++bad_chunks;
            for (int64_t i = b; i < e; ++i) hits[i - begin]++;
          });
          BOOST_REQUIRE(bad_chunks.load() == 0);
          for (int64_t i = 0; i < size; ++i) BOOST_REQUIRE(hits[i].load() == 1);
          BOOST_TEST(calls.load() <= threads);
          if (size == 0) BOOST_TEST(calls.load() == 0);
        }
      }
    }
  }
}

BOOST_AUTO_TEST_CASE(chunking_is_deterministic) {
  RestoreThreads restore;
  set_num_threads(2);
  auto chunks = [] {
    std::vector<std::pair<int64_t, int64_t>> seen(2, {-1, -1});
    std::atomic<int> k{0};
    parallel_for(0, 101, 3, [&](int64_t b, int64_t e) {
      seen[b == 0 ? 0 : 1] = {b, e};
      ++k;
    });
    BOOST_REQUIRE(k.load() == 2);
    return seen;
  };
  auto first = chunks();
  for (int r = 0; r < 50; ++r) BOOST_REQUIRE(chunks() == first);
  BOOST_TEST(first[0].second == first[1].first);
}

BOOST_AUTO_TEST_CASE(nested_calls_run_inline) {
  RestoreThreads restore;
  set_num_threads(2);
  std::vector<std::atomic<int>> hits(40 * 37);
  parallel_for(0, 40, 1, [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i)
      parallel_for(0, 37, 1, [&](int64_t b2, int64_t e2) {
        for (int64_t j = b2; j < e2; ++j) hits[i * 37 + j]++;
      });
  });
  for (auto& h : hits) BOOST_REQUIRE(h.load() == 1);
}

BOOST_AUTO_TEST_CASE(exceptions_propagate_to_the_caller) {
  RestoreThreads restore;
  for (int threads : {1, 2}) {
    set_num_threads(threads);
    for (int rep = 0; rep < 20; ++rep) {
      BOOST_CHECK_THROW(parallel_for(0, 100, 1,
                                     [&](int64_t b, int64_t e) {
                                       if (b <= 77 && 77 < e) throw std::runtime_error("chunk 77");
                                     }),
                        std::runtime_error);
    }
    // Every chunk throws: the caller gets the lowest chunk's exception.
    try {
      parallel_for(0, 100, 1,
                   [&](int64_t b, int64_t) { throw std::runtime_error(std::to_string(b)); });
      BOOST_FAIL("no exception");
    } catch (const std::runtime_error& e) {
      BOOST_TEST(std::string(e.what()) == "0");
    }
    // Nested throw propagates through both levels.
    BOOST_CHECK_THROW(parallel_for(0, 10, 1,
                                   [&](int64_t, int64_t) {
                                     parallel_for(0, 10, 1, [](int64_t, int64_t) {
                                       throw std::logic_error("inner");
                                     });
                                   }),
                      std::logic_error);
    // The pool still works afterwards.
    std::atomic<int64_t> sum{0};
    parallel_for(0, 1000, 1, [&](int64_t b, int64_t e) {
      for (int64_t i = b; i < e; ++i) sum += i;
    });
    BOOST_TEST(sum.load() == 999 * 1000 / 2);
  }
}

BOOST_AUTO_TEST_CASE(many_small_regions) {
  RestoreThreads restore;
  set_num_threads(2);
  std::atomic<int64_t> total{0};
  for (int r = 0; r < 20000; ++r)
    parallel_for(0, 4, 1, [&](int64_t b, int64_t e) { total += e - b; });
  BOOST_TEST(total.load() == 80000);
}

BOOST_AUTO_TEST_CASE(bad_thread_count_is_an_error) {
  RestoreThreads restore;
  BOOST_CHECK_THROW(set_num_threads(0), agilenn::Error);
  BOOST_CHECK_THROW(set_num_threads(-3), agilenn::Error);
  set_num_threads(2);
  std::atomic<int> refused{0};
  parallel_for(0, 2, 1, [&](int64_t, int64_t) {
    try {
      set_num_threads(1);
    } catch (const agilenn::Error&) {
      ++refused;
    }
  });
  BOOST_TEST(refused.load() == 2);
  BOOST_TEST(num_threads() == 2);
}

BOOST_AUTO_TEST_SUITE_END()
