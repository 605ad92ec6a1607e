#include "codec/packed.h"

#include <string>

#include "codec/bit_io.h"
#include "codec/stream.h"

namespace agilenn::codec {

std::vector<uint8_t> packed_encode(std::span<const uint8_t> indices, unsigned alphabet) {
  const unsigned bits = index_bits(alphabet);
  std::vector<uint8_t> out;
  out.reserve((indices.size() * bits + 7) / 8);
  BitWriter w(out);
  for (uint8_t s : indices) w.put(s, bits);
  w.flush();
  return out;
}

void packed_decode(std::span<const uint8_t> payload, unsigned alphabet, std::span<uint8_t> out) {
  const unsigned bits = index_bits(alphabet);
  if (payload.size() != (out.size() * bits + 7) / 8)
    throw Error("payload: packed coder needs " + std::to_string((out.size() * bits + 7) / 8) +
                " bytes, got " + std::to_string(payload.size()));
  BitReader r(payload);
  for (auto& s : out) {
    const uint32_t v = r.get(bits);
    if (v >= alphabet)
      throw Error("payload: index " + std::to_string(v) + " >= alphabet " +
                  std::to_string(alphabet));
    s = uint8_t(v);
  }
  r.expect_end();
}

}  // namespace agilenn::codec
