#include "mcu/packet_encoder.h"

#include <string>

#include "nn/io/error.h"

namespace agilenn::mcu {

size_t max_packet_bytes(size_t n_indices, int bits) {
  return (n_indices * size_t(bits) + 7) / 8;
}

std::vector<uint8_t> encode_packet(std::span<const uint8_t> indices, int bits) {
  if (bits < 1 || bits > 8) throw Error("encode_packet: bits must be in [1, 8]");
  std::vector<uint8_t> out(max_packet_bytes(indices.size(), bits), 0);
  size_t bit = 0;
  for (uint8_t idx : indices) {
    if (idx >> bits)
      throw Error("encode_packet: index " + std::to_string(idx) + " needs more than " +
                  std::to_string(bits) + " bits");
    for (int b = 0; b < bits; ++b, ++bit)
      if ((idx >> b) & 1) out[bit / 8] |= uint8_t(1u << (bit % 8));
  }
  return out;
}

std::vector<uint8_t> decode_packet(std::span<const uint8_t> packet, size_t n, int bits) {
  if (bits < 1 || bits > 8) throw Error("decode_packet: bits must be in [1, 8]");
  if (packet.size() < max_packet_bytes(n, bits))
    throw Error("decode_packet: packet has " + std::to_string(packet.size()) + " bytes, " +
                std::to_string(n) + " indices need " + std::to_string(max_packet_bytes(n, bits)));
  std::vector<uint8_t> idx(n, 0);
  size_t bit = 0;
  for (size_t i = 0; i < n; ++i)
    for (int b = 0; b < bits; ++b, ++bit)
      idx[i] |= uint8_t(((packet[bit / 8] >> (bit % 8)) & 1) << b);
  return idx;
}

}  // namespace agilenn::mcu
