// The project's one seeded generator (weight init, data order, augmentation): xoshiro256**
// seeded through splitmix64.
// Same seed -> same stream on every platform; the 256-bit state can be saved and restored
// (state() / set_state(), or as text for JSON) so an interrupted run can resume exactly.
#pragma once
#include <array>
#include <cstdint>
#include <initializer_list>
#include <string>
#include <utility>
#include <vector>

namespace agilenn {

uint64_t splitmix64(uint64_t& state);

class Rng {
 public:
  explicit Rng(uint64_t seed = 0);
  // An independent stream for (seed, key1, key2, ...), e.g. (seed, epoch) or (seed, epoch, index):
  // every derived stream depends only on its keys, not on how much other streams were used.
  static Rng derive(uint64_t seed, std::initializer_list<uint64_t> keys);

  uint64_t next_u64();
  uint64_t below(uint64_t n);  // uniform integer in [0, n), n > 0 (unbiased)
  double uniform();            // uniform in [0, 1), 53 bits
  double normal();             // standard normal (Box-Muller, no cached pair: state is just s_)
  bool coin() { return next_u64() >> 63; }

  std::array<uint64_t, 4> state() const { return s_; }
  void set_state(const std::array<uint64_t, 4>& s);  // throws on the all-zero state
  std::string state_string() const;                  // 64 hex digits
  // Throws agilenn::Error "<what>: ..." on malformed text.
  static Rng from_state_string(const std::string& text, const std::string& what = "rng state");

  bool operator==(const Rng& o) const { return s_ == o.s_; }

 private:
  std::array<uint64_t, 4> s_{};
};

// Fisher-Yates shuffle.
template <typename T>
void shuffle(std::vector<T>& v, Rng& rng) {
  for (size_t i = v.size(); i > 1; --i) std::swap(v[i - 1], v[rng.below(i)]);
}

}  // namespace agilenn
