// The device's packet encoder seam. Today: the raw centroid indices, `bits` bits each, packed
// LSB-first in the order they are produced (pixel-major, remote channel minor), no header.
// The codec's entropy coder replaces this function and the generated C's agilenn_encoder_*
// functions (mcu/c/agilenn_kernels.h) together; nothing else in mcu/ depends on the format.
#pragma once
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

namespace agilenn::mcu {

std::vector<uint8_t> encode_packet(std::span<const uint8_t> indices, int bits);
// Upper bound on the packet size for n indices (the caller's buffer size).
size_t max_packet_bytes(size_t n_indices, int bits);
// Inverse of encode_packet (for the server side and tests).
std::vector<uint8_t> decode_packet(std::span<const uint8_t> packet, size_t n_indices, int bits);

}  // namespace agilenn::mcu
