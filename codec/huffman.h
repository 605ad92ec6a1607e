// Coder 2: static canonical Huffman over the index alphabet, with one table fitted on
// training-set indices and stored with the model. Codes are length-limited to kHuffmanMaxBits
// and canonical (sorted by length, then index), so the table is just C code lengths.
// Decoding walks at most kHuffmanMaxBits bits per index (count-per-length canonical decode):
// no tree in memory, tables of 2 * (kHuffmanMaxBits + 1) + C entries.
#pragma once
#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace agilenn::codec {

constexpr unsigned kHuffmanMaxBits = 15;

class HuffmanTable {
 public:
  HuffmanTable() = default;
  // Fits lengths to symbol counts (every symbol gets a code: counts are smoothed by +1).
  // Deterministic: ties are broken by index.
  static HuffmanTable fit(std::span<const uint64_t> counts, unsigned max_bits = kHuffmanMaxBits);
  // From stored lengths; checks 1 <= length <= kHuffmanMaxBits and a complete prefix code
  // (Kraft sum exactly 1), naming `where` in the error.
  static HuffmanTable from_lengths(std::vector<uint8_t> lengths, const std::string& where);

  unsigned alphabet() const { return unsigned(lengths_.size()); }
  const std::vector<uint8_t>& lengths() const { return lengths_; }

  std::vector<uint8_t> encode(std::span<const uint8_t> indices) const;
  void decode(std::span<const uint8_t> payload, std::span<uint8_t> out) const;

 private:
  void build_codes();
  std::vector<uint8_t> lengths_;
  std::vector<uint16_t> codes_;
  // Canonical decode tables: count of codes per length, first code per length, symbols sorted.
  uint16_t count_[kHuffmanMaxBits + 1] = {};
  uint16_t first_code_[kHuffmanMaxBits + 1] = {};
  uint16_t first_index_[kHuffmanMaxBits + 1] = {};
  std::vector<uint8_t> sorted_;
};

}  // namespace agilenn::codec
