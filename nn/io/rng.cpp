#include "nn/io/rng.h"

#include <cmath>
#include <cstdio>

#include "nn/io/error.h"

namespace agilenn {

uint64_t splitmix64(uint64_t& state) {
  uint64_t z = (state += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

Rng::Rng(uint64_t seed) {
  uint64_t sm = seed;
  for (auto& w : s_) w = splitmix64(sm);
}

Rng Rng::derive(uint64_t seed, std::initializer_list<uint64_t> keys) {
  uint64_t h = seed;
  uint64_t mixed = splitmix64(h);
  for (uint64_t k : keys) {
    uint64_t st = mixed ^ (k * 0xd1b54a32d192ed03ull);
    mixed = splitmix64(st) ^ (k + 0x632be59bd9b4e019ull);
  }
  return Rng(mixed);
}

static inline uint64_t rotl(uint64_t x, int k) {
  return (x << k) | (x >> (64 - k));
}

uint64_t Rng::next_u64() {
  const uint64_t result = rotl(s_[1] * 5, 7) * 9;
  const uint64_t t = s_[1] << 17;
  s_[2] ^= s_[0];
  s_[3] ^= s_[1];
  s_[1] ^= s_[2];
  s_[0] ^= s_[3];
  s_[2] ^= t;
  s_[3] = rotl(s_[3], 45);
  return result;
}

uint64_t Rng::below(uint64_t n) {
  // Lemire's multiply-shift with rejection of the biased low range.
  unsigned __int128 m = (unsigned __int128)next_u64() * n;
  uint64_t low = uint64_t(m);
  if (low < n) {
    const uint64_t threshold = (0 - n) % n;
    while (low < threshold) {
      m = (unsigned __int128)next_u64() * n;
      low = uint64_t(m);
    }
  }
  return uint64_t(m >> 64);
}

double Rng::normal() {
  double u1 = uniform(), u2 = uniform();
  if (u1 < 1e-300) u1 = 1e-300;
  return std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * M_PI * u2);
}

double Rng::uniform() {
  return double(next_u64() >> 11) * 0x1.0p-53;
}

void Rng::set_state(const std::array<uint64_t, 4>& s) {
  if (s[0] == 0 && s[1] == 0 && s[2] == 0 && s[3] == 0)
    throw Error("rng state: all-zero state is invalid for xoshiro256**");
  s_ = s;
}

std::string Rng::state_string() const {
  char buf[65];
  for (int i = 0; i < 4; ++i) std::snprintf(buf + 16 * i, 17, "%016llx", (unsigned long long)s_[i]);
  return std::string(buf, 64);
}

Rng Rng::from_state_string(const std::string& text, const std::string& what) {
  if (text.size() != 64)
    throw error_at(what,
                   "expected 64 hex digits, got " + std::to_string(text.size()) + " characters");
  std::array<uint64_t, 4> s{};
  for (int i = 0; i < 64; ++i) {
    const char c = text[i];
    int v;
    if (c >= '0' && c <= '9')
      v = c - '0';
    else if (c >= 'a' && c <= 'f')
      v = c - 'a' + 10;
    else if (c >= 'A' && c <= 'F')
      v = c - 'A' + 10;
    else
      throw error_at(what, std::string("invalid hex digit '") + c + "'");
    s[i / 16] = (s[i / 16] << 4) | uint64_t(v);
  }
  Rng r;
  try {
    r.set_state(s);
  } catch (const Error&) {
    throw error_at(what, "all-zero state is invalid");
  }
  return r;
}

}  // namespace agilenn
