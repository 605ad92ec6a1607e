// MSB-first bit writer/reader shared by the packed, Huffman and LZW coders. The reader never reads
// past its span: running out of bits is a clear error naming the payload.
#pragma once
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "nn/io/error.h"

namespace agilenn::codec {

class BitWriter {
 public:
  explicit BitWriter(std::vector<uint8_t>& out) : out_(out) {}
  // Writes the low `nbits` (<= 24) bits of `value`, most significant first.
  void put(uint32_t value, unsigned nbits) {
    acc_ = (acc_ << nbits) | (value & ((1u << nbits) - 1u));
    fill_ += nbits;
    while (fill_ >= 8) {
      fill_ -= 8;
      out_.push_back(uint8_t(acc_ >> fill_));
    }
    acc_ &= (1u << fill_) - 1u;
  }
  // Pads the last byte with zero bits.
  void flush() {
    if (fill_ > 0) out_.push_back(uint8_t(acc_ << (8 - fill_)));
    fill_ = 0;
    acc_ = 0;
  }

 private:
  std::vector<uint8_t>& out_;
  uint32_t acc_ = 0;
  unsigned fill_ = 0;
};

class BitReader {
 public:
  explicit BitReader(std::span<const uint8_t> in) : in_(in) {}
  uint32_t get_bit() {
    if (pos_ >= in_.size() * 8) throw Error("payload: truncated (ran out of bits)");
    const uint32_t bit = (in_[pos_ >> 3] >> (7 - (pos_ & 7))) & 1u;
    ++pos_;
    return bit;
  }
  // Reads `nbits` (<= 24) bits, most significant first.
  uint32_t get(unsigned nbits) {
    if (pos_ + nbits > in_.size() * 8) throw Error("payload: truncated (ran out of bits)");
    uint32_t v = 0;
    for (unsigned i = 0; i < nbits; ++i) {
      v = (v << 1) | ((in_[pos_ >> 3] >> (7 - (pos_ & 7))) & 1u);
      ++pos_;
    }
    return v;
  }
  // A well-formed payload ends inside its last byte with zero padding; anything else is an error.
  void expect_end() const {
    const size_t used_bytes = (pos_ + 7) / 8;
    if (used_bytes != in_.size())
      throw Error("payload: " + std::to_string(in_.size() - used_bytes) +
                  " trailing byte(s) after the last index");
    if ((pos_ & 7) != 0 && (in_[pos_ >> 3] & ((1u << (8 - (pos_ & 7))) - 1u)) != 0)
      throw Error("payload: nonzero padding bits after the last index");
  }

 private:
  std::span<const uint8_t> in_;
  size_t pos_ = 0;
};

}  // namespace agilenn::codec
