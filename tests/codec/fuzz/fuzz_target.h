// One fuzz input through the codec's decoders (shared by the libFuzzer target and the replay
// executable). Returns normally when the input was accepted or rejected with agilenn::Error;
// anything else (another exception, a sanitizer report, a failed consistency check) aborts.
#pragma once
#include <cstddef>
#include <cstdint>

namespace agilenn::codec::fuzz {

// Byte 0 picks the target (mod 8), the rest is its input:
//   0 decode_packet as is (tables: tests/codec/golden/tables.bin; limits 256x256, 65536 indices)
//   1 decode_packet after recomputing the CRC field (reaches every check behind it)
//   2..5 decode_payload with coder (mode - 2), shape H = 1 + b1 % 16, W = 1 + b2 % 16, R = 19,
//        payload from byte 3 (no header or CRC in the way)
//   6 CodecTables::from_bytes      7 CodecTables::from_json (JSON text)
// Accepted packets/payloads are re-encoded and decoded again: the indices must survive.
void fuzz_one(const uint8_t* data, size_t size);

}  // namespace agilenn::codec::fuzz
