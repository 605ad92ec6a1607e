// zlib's CRC-32 (the packet and table checksum; the MCU uses the same polynomial).
#pragma once
#include <zlib.h>

#include <cstdint>
#include <span>

namespace agilenn::codec {

inline uint32_t crc32_of(std::span<const uint8_t> bytes, uint32_t crc = 0) {
  // zlib takes a uInt length: feed large spans in pieces.
  while (!bytes.empty()) {
    const size_t n = bytes.size() < (1u << 30) ? bytes.size() : (1u << 30);
    crc = uint32_t(::crc32(crc, bytes.data(), uInt(n)));
    bytes = bytes.subspan(n);
  }
  return crc;
}

}  // namespace agilenn::codec
