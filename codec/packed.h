// Coder 0: every index in ceil(log2 C) bits, MSB first. No model; the bound every other coder
// must beat, and the fallback for streams nothing compresses.
#pragma once
#include <cstdint>
#include <span>
#include <vector>

namespace agilenn::codec {

std::vector<uint8_t> packed_encode(std::span<const uint8_t> indices, unsigned alphabet);
// Fills `out` (its size is the symbol count); throws agilenn::Error on a malformed payload.
void packed_decode(std::span<const uint8_t> payload, unsigned alphabet, std::span<uint8_t> out);

}  // namespace agilenn::codec
