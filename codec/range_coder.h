// Adaptive binary range coder (the LZMA construction: 32-bit range, carry propagation through a
// cached byte), integer-only and division-free, so the MCU port is bit-identical.
// Probabilities are 12-bit estimates of P(bit = 0) in [1, 4095], adapted after every bit by a
// shift: p += (4096 - p) >> shift or p -= p >> shift.
// Per bit: one shift, one 32x32 multiply, one compare, one add/sub, the update; every 8 bits of
// output one byte-normalisation step. The always-zero first byte of LZMA is not written.
#pragma once
#include <cstdint>
#include <span>
#include <vector>

#include "nn/io/error.h"

namespace agilenn::codec {

constexpr unsigned kProbBits = 12;
constexpr uint32_t kProbOne = 1u << kProbBits;
constexpr uint32_t kRangeTop = 1u << 24;
// Static (non-adaptive) multi-symbol coding: frequencies sum to 2^kStaticTotalBits, so the coder
// shifts instead of dividing (the decoder divides once per symbol; the encoder never).
constexpr unsigned kStaticTotalBits = 12;

class RangeEncoder {
 public:
  explicit RangeEncoder(std::vector<uint8_t>& out) : out_(out) {}
  void encode(uint16_t& p, unsigned bit, unsigned shift) {
    const uint32_t bound = (range_ >> kProbBits) * p;
    if (bit == 0) {
      range_ = bound;
      p = uint16_t(p + ((kProbOne - p) >> shift));
    } else {
      low_ += bound;
      range_ -= bound;
      p = uint16_t(p - (p >> shift));
    }
    while (range_ < kRangeTop) {
      range_ <<= 8;
      shift_low();
    }
  }
  // Multi-symbol step with a static distribution of total 2^kStaticTotalBits: the symbol's
  // interval [cum, cum + freq) (freq >= 1). Same carry and byte output as the binary step.
  void encode_interval(uint32_t cum, uint32_t freq) {
    const uint32_t r = range_ >> kStaticTotalBits;
    low_ += uint64_t(r) * cum;
    range_ = r * freq;
    while (range_ < kRangeTop) {
      range_ <<= 8;
      shift_low();
    }
  }
  void finish() {
    for (int i = 0; i < 5; ++i) shift_low();
  }

 private:
  void shift_low() {
    if (uint32_t(low_) < 0xFF000000u || (low_ >> 32) != 0) {
      const uint8_t carry = uint8_t(low_ >> 32);
      uint8_t byte = cache_;
      do {
        if (started_) out_.push_back(uint8_t(byte + carry));
        started_ = true;
        byte = 0xFF;
      } while (--cache_size_ != 0);
      cache_ = uint8_t(low_ >> 24);
    }
    ++cache_size_;
    low_ = (low_ & 0x00FFFFFFu) << 8;
  }
  std::vector<uint8_t>& out_;
  uint64_t low_ = 0;
  uint32_t range_ = 0xFFFFFFFFu;
  uint8_t cache_ = 0;
  uint64_t cache_size_ = 1;
  bool started_ = false;  // the first byte is always 0 and is not written
};

class RangeDecoder {
 public:
  explicit RangeDecoder(std::span<const uint8_t> in) : in_(in) {
    for (int i = 0; i < 4; ++i) code_ = (code_ << 8) | next_byte();
  }
  unsigned decode(uint16_t& p, unsigned shift) {
    const uint32_t bound = (range_ >> kProbBits) * p;
    unsigned bit;
    if (code_ < bound) {
      range_ = bound;
      p = uint16_t(p + ((kProbOne - p) >> shift));
      bit = 0;
    } else {
      code_ -= bound;
      range_ -= bound;
      p = uint16_t(p - (p >> shift));
      bit = 1;
    }
    while (range_ < kRangeTop) {
      range_ <<= 8;
      code_ = (code_ << 8) | next_byte();
    }
    return bit;
  }
  // Multi-symbol step: the symbol whose interval of `cum` (n + 1 ascending entries, cum[0] = 0,
  // cum[n] = 2^kStaticTotalBits) holds the code. A corrupt stream can point past the last
  // interval: an error, never an out-of-range symbol.
  unsigned decode_interval(const uint16_t* cum, unsigned n) {
    // The symbol is the first s with code < r * cum[s + 1], i.e. floor(code / r) < cum[s + 1]:
    // multiplies instead of the division, which was the server decoder's critical path. The
    // products stay below range_ (cum <= 2^kStaticTotalBits), so nothing overflows.
    const uint32_t r = range_ >> kStaticTotalBits;
    unsigned s = 0;
    uint32_t hi = r * cum[1];
    while (hi <= code_) {
      if (++s == n) throw Error("payload: corrupt (code past the last symbol)");
      hi = r * cum[s + 1];
    }
    const uint32_t lo = r * cum[s];
    code_ -= lo;
    range_ = hi - lo;
    while (range_ < kRangeTop) {
      range_ <<= 8;
      code_ = (code_ << 8) | next_byte();
    }
    return s;
  }
  // The encoder's flush makes a well-formed stream end exactly at its last byte.
  void expect_end() const {
    if (pos_ != in_.size())
      throw Error("payload: " + std::to_string(in_.size() - pos_) +
                  " trailing byte(s) after the last index");
  }

 private:
  uint8_t next_byte() {
    if (pos_ >= in_.size()) throw Error("payload: truncated (range decoder ran out of bytes)");
    return in_[pos_++];
  }
  std::span<const uint8_t> in_;
  size_t pos_ = 0;
  uint32_t code_ = 0;
  uint32_t range_ = 0xFFFFFFFFu;
};

}  // namespace agilenn::codec
