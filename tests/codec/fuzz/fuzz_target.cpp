#include "fuzz_target.h"

#include <cstdio>
#include <cstdlib>
#include <vector>

#include "codec/crc32.h"
#include "codec/packet.h"
#include "codec/tables.h"
#include "nn/io/atomic_file.h"
#include "nn/io/error.h"
#include "nn/io/json.h"

namespace agilenn::codec::fuzz {
namespace {

const CodecTables& tables() {
  static const CodecTables t = CodecTables::from_bytes(
      read_file_bytes(std::string(AGILENN_SOURCE_DIR) + "/tests/codec/golden/tables.bin"),
      "tables.bin");
  return t;
}

[[noreturn]] void fail(const char* what) {
  std::fprintf(stderr, "fuzz: consistency check failed: %s\n", what);
  std::abort();
}

void check_indices(const std::vector<uint8_t>& idx, const StreamShape& shape, CoderId coder) {
  for (uint8_t v : idx)
    if (v >= tables().alphabet) fail("decoded index outside the alphabet");
  // What decoded must encode and decode back to the same indices (with the coder it came with).
  std::vector<uint8_t> again(idx.size());
  decode_payload(coder, encode_payload(coder, idx, shape, tables()), shape, tables(), again);
  if (again != idx) fail("re-encoded indices differ");
}

void run(const uint8_t* data, size_t size) {
  if (size == 0) return;
  const unsigned mode = data[0] % 8;
  std::span<const uint8_t> in(data + 1, size - 1);
  switch (mode) {
    case 0:
    case 1: {
      std::vector<uint8_t> p(in.begin(), in.end());
      if (mode == 1 && p.size() >= kPacketHeaderBytes) {
        uint32_t crc = crc32_of(std::span(p).first(20));
        crc = crc32_of(std::span(p).subspan(kPacketHeaderBytes), crc);
        for (int i = 0; i < 4; ++i) p[20 + i] = uint8_t(crc >> (8 * i));
      }
      // Device-sized limits keep each run fast; the limit checks themselves are still fuzzed.
      PacketLimits limits;
      limits.max_height = limits.max_width = 256;
      limits.max_indices = size_t(1) << 16;
      const DecodedPacket d = decode_packet(p, tables(), limits);
      if (d.indices.size() != d.header.shape.size()) fail("decoded size differs from the shape");
      check_indices(d.indices, d.header.shape, d.header.coder);
      return;
    }
    case 2:
    case 3:
    case 4:
    case 5: {
      if (in.size() < 2) return;
      const StreamShape shape{1u + in[0] % 16u, 1u + in[1] % 16u, tables().remote_channels};
      std::vector<uint8_t> out(shape.size());
      const CoderId coder = CoderId(mode - 2);
      decode_payload(coder, in.subspan(2), shape, tables(), out);
      check_indices(out, shape, coder);
      return;
    }
    case 6: {
      const CodecTables t = CodecTables::from_bytes(in, "fuzz tables");
      if (CodecTables::from_bytes(t.to_bytes(), "again").to_bytes() != t.to_bytes())
        fail("tables do not survive a byte round trip");
      return;
    }
    case 7: {
      const Json j = Json::parse(std::string(in.begin(), in.end()), "fuzz json");
      const CodecTables t = CodecTables::from_json(j, "fuzz json");
      if (CodecTables::from_bytes(t.to_bytes(), "again").to_bytes() != t.to_bytes())
        fail("json tables do not survive a byte round trip");
      return;
    }
  }
}

}  // namespace

void fuzz_one(const uint8_t* data, size_t size) {
  try {
    run(data, size);
  } catch (const Error&) {
    // A clean rejection is the expected outcome for malformed input.
  }
}

}  // namespace agilenn::codec::fuzz
