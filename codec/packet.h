// The packet that crosses the radio: one image's remote indices, self-describing and checked.
//
// Layout (24-byte header, little endian), versions 1 and 2 (2 adds coder 4):
//   0  u8[2] magic "AG"          12 u16 R  remote channels
//   2  u8    version (1 or 2)    14 u8  k  local channels
//   3  u8    coder id            15 u8  alphabet C - 1
//   4  u32   model fingerprint   16 u32 payload length
//   8  u16   H                   20 u32 CRC-32 (zlib) of bytes 0..19 followed by the payload
//   10 u16   W                   24 ... payload
// The decoder checks every field against the tables and the limits before it allocates or
// decodes anything, and the coders check every bound while decoding: a malformed packet gives an
// agilenn::Error naming the field, never a crash, an unbounded allocation or an endless loop.
#pragma once
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "codec/stream.h"
#include "codec/tables.h"

namespace agilenn::codec {

// Coders 0-3 travel in version-1 packets (unchanged since version 1); coder 4, the static
// context coder (see ContextModel::encode_static), in version-2 packets; coder 5, the static
// context coder that skips constant channels (ContextModel::encode_static_skip), in version-3
// packets. A decoder rejects any other version, and a coder in another version than its own.
enum class CoderId : uint8_t {
  kPacked = 0,
  kLzw = 1,
  kHuffman = 2,
  kContext = 3,
  kContextStatic = 4,
  kContextSkip = 5
};
constexpr CoderId kDefaultCoder = CoderId::kContext;
constexpr unsigned kCoderCount = 6;
constexpr uint8_t kPacketVersion = 3;  // the newest version this code reads and writes
// The version a packet of `coder` carries: 2 for kContextStatic, 3 for kContextSkip (coder 4
// without the image's constant channels, ContextModel::encode_static_skip), 1 otherwise.
constexpr uint8_t packet_version_of(CoderId coder) {
  return coder == CoderId::kContextStatic ? 2 : coder == CoderId::kContextSkip ? 3 : 1;
}
constexpr size_t kPacketHeaderBytes = 24;

const char* coder_name(CoderId id);
// "packed", "lzw", "huffman", "context"; throws naming `where` otherwise.
CoderId parse_coder(const std::string& name, const std::string& where);

struct PacketLimits {
  uint32_t max_height = 1024;
  uint32_t max_width = 1024;
  size_t max_indices = size_t(1) << 22;  // bounds the decoder's allocation (4 MiB)
};

struct PacketHeader {
  uint8_t version = 0;
  CoderId coder = CoderId::kPacked;
  uint32_t fingerprint = 0;
  StreamShape shape;
  uint32_t local_channels = 0;
  uint32_t alphabet = 0;
  uint32_t payload_length = 0;
  uint32_t crc = 0;
};

// Payload coders on their own (what the packet wraps; the fuzzer also drives these directly).
// kContextSkip skips every channel that is constant in the image.
std::vector<uint8_t> encode_payload(CoderId coder, std::span<const uint8_t> indices,
                                    const StreamShape& shape, const CodecTables& tables);
void decode_payload(CoderId coder, std::span<const uint8_t> payload, const StreamShape& shape,
                    const CodecTables& tables, std::span<uint8_t> out);

std::vector<uint8_t> encode_packet(std::span<const uint8_t> indices, const StreamShape& shape,
                                   const CodecTables& tables, CoderId coder = kDefaultCoder);
// The header around an already encoded payload of `coder` (encode_packet's bytes for the same
// payload; checks the shape against the tables, not the payload).
std::vector<uint8_t> wrap_payload(std::span<const uint8_t> payload, const StreamShape& shape,
                                  const CodecTables& tables, CoderId coder);

// What the device sends: `coder` (the default context coder; the generated MCU code uses
// kContextStatic), or the packed bits if those are not larger (a near-maximal-entropy map the
// fitted context tables expand). The header's coder id tells the server which. On the MCU the
// check costs nothing: the packed size is ceil(H*W*R*bits/8), known before encoding.
std::vector<uint8_t> encode_packet_auto(std::span<const uint8_t> indices, const StreamShape& shape,
                                        const CodecTables& tables, CoderId coder = kDefaultCoder);

// Header checks that need no tables: size, magic, version, coder id, reserved values, nonzero
// shape, payload length == bytes after the header, CRC.
PacketHeader parse_packet_header(std::span<const uint8_t> packet);

struct DecodedPacket {
  PacketHeader header;
  std::vector<uint8_t> indices;  // H * W * R, NHWC
};
// Full decode: header checks, then fingerprint/alphabet/channels against `tables`, shape against
// `limits`, then the payload.
DecodedPacket decode_packet(std::span<const uint8_t> packet, const CodecTables& tables,
                            const PacketLimits& limits = {});

}  // namespace agilenn::codec
