#include "codec/lzw.h"

#include <algorithm>
#include <string>

#include "codec/bit_io.h"

namespace agilenn::codec {
namespace {
unsigned bit_length(unsigned v) {
  unsigned n = 0;
  while (v >> n) ++n;
  return std::max(n, 1u);
}
unsigned code_width(unsigned alphabet, size_t code_number) {
  const size_t entries = std::min<size_t>(alphabet + code_number, kLzwMaxEntries);
  return bit_length(unsigned(entries - 1));
}
}  // namespace

std::vector<uint8_t> lzw_encode(std::span<const uint8_t> indices, unsigned alphabet) {
  std::vector<uint8_t> out;
  if (indices.empty()) return out;
  BitWriter w(out);
  // child[code * C + s] = code of (string(code) + s), 0 = none (code 0 is never a child).
  std::vector<uint16_t> child(size_t(kLzwMaxEntries) * alphabet, 0);
  unsigned next = alphabet;
  size_t emitted = 0;
  unsigned cur = indices[0];
  for (size_t i = 1; i < indices.size(); ++i) {
    const unsigned s = indices[i];
    const uint16_t c = child[size_t(cur) * alphabet + s];
    if (c != 0) {
      cur = c;
      continue;
    }
    w.put(cur, code_width(alphabet, emitted++));
    if (next < kLzwMaxEntries) child[size_t(cur) * alphabet + s] = uint16_t(next++);
    cur = s;
  }
  w.put(cur, code_width(alphabet, emitted++));
  w.flush();
  return out;
}

void lzw_decode(std::span<const uint8_t> payload, unsigned alphabet, std::span<uint8_t> out) {
  BitReader r(payload);
  std::vector<uint16_t> prefix(kLzwMaxEntries), length(kLzwMaxEntries);
  std::vector<uint8_t> suffix(kLzwMaxEntries), first(kLzwMaxEntries);
  for (unsigned s = 0; s < alphabet; ++s) {
    prefix[s] = 0;
    length[s] = 1;
    suffix[s] = uint8_t(s);
    first[s] = uint8_t(s);
  }
  unsigned size = alphabet;  // entries the decoder holds
  size_t produced = 0, code_number = 0;
  unsigned prev = 0;
  // Writes string(code) at out[produced..]; bounded by the entry's length (<= 4096).
  auto emit = [&](unsigned code) {
    const size_t len = length[code];
    if (len > out.size() - produced)
      throw Error("payload: LZW code " + std::to_string(code) + " expands past the " +
                  std::to_string(out.size()) + " indices of the shape");
    for (size_t i = len; i-- > 0;) {
      out[produced + i] = suffix[code];
      code = prefix[code];
    }
    produced += len;
  };
  while (produced < out.size()) {
    const unsigned code = r.get(code_width(alphabet, code_number));
    if (code_number == 0) {
      if (code >= alphabet)
        throw Error("payload: first LZW code " + std::to_string(code) + " >= alphabet " +
                    std::to_string(alphabet));
      emit(code);
    } else if (code < size) {
      emit(code);
      if (size < kLzwMaxEntries) {
        prefix[size] = uint16_t(prev);
        suffix[size] = first[code];
        first[size] = first[prev];
        length[size] = uint16_t(length[prev] + 1);
        ++size;
      }
    } else if (code == size && size < kLzwMaxEntries) {
      // The entry the encoder added just before sending it: prev + first(prev).
      prefix[size] = uint16_t(prev);
      suffix[size] = first[prev];
      first[size] = first[prev];
      length[size] = uint16_t(length[prev] + 1);
      ++size;
      emit(code);
    } else {
      throw Error("payload: LZW code " + std::to_string(code) + " not in the dictionary (" +
                  std::to_string(size) + " entries)");
    }
    prev = code;
    ++code_number;
  }
  r.expect_end();
}

}  // namespace agilenn::codec
