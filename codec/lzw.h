// Coder 1: LZW over the index alphabet (the paper's choice; kept for comparison).
// Policy: the dictionary starts with the C single indices; after every code but the last, one
// entry (previous string + first index of the next) is added until it holds 4096 entries, then
// it is frozen (no reset: one image is a few thousand indices). No clear or end code: the
// decoder stops when the image is complete. The i-th code (0-based) is written MSB first in
// bit_length(min(C + i, 4096) - 1) bits, which both sides know without signalling.
// Memory: encoder 4096 * C * 2 bytes child table on the host (an MCU port uses a 4096-entry
// hash); decoder 4096 * 4 bytes (prefix, suffix/first, length).
#pragma once
#include <cstdint>
#include <span>
#include <vector>

namespace agilenn::codec {

constexpr unsigned kLzwMaxEntries = 4096;

std::vector<uint8_t> lzw_encode(std::span<const uint8_t> indices, unsigned alphabet);
void lzw_decode(std::span<const uint8_t> payload, unsigned alphabet, std::span<uint8_t> out);

}  // namespace agilenn::codec
