#include "codec/packet.h"

#include "codec/crc32.h"
#include "codec/lzw.h"
#include "codec/packed.h"
#include "nn/io/error.h"

namespace agilenn::codec {
namespace {

constexpr uint8_t kMagic[2] = {'A', 'G'};

uint32_t get_u16(const uint8_t* p) {
  return uint32_t(p[0]) | uint32_t(p[1]) << 8;
}
uint32_t get_u32(const uint8_t* p) {
  return uint32_t(p[0]) | uint32_t(p[1]) << 8 | uint32_t(p[2]) << 16 | uint32_t(p[3]) << 24;
}
void set_u16(uint8_t* p, uint32_t v) {
  p[0] = uint8_t(v);
  p[1] = uint8_t(v >> 8);
}
void set_u32(uint8_t* p, uint32_t v) {
  for (int i = 0; i < 4; ++i) p[i] = uint8_t(v >> (8 * i));
}

Error field_error(const char* field, const std::string& what) {
  return error_at(std::string("packet.") + field, what);
}

void check_payload_args(const StreamShape& shape, const CodecTables& tables, size_t n) {
  if (shape.channels != tables.remote_channels)
    throw field_error("R", "stream has " + std::to_string(shape.channels) +
                               " remote channels, tables expect " +
                               std::to_string(tables.remote_channels));
  if (n != shape.size())
    throw Error("codec: " + std::to_string(n) + " indices for a shape of " +
                std::to_string(shape.size()));
}

}  // namespace

const char* coder_name(CoderId id) {
  switch (id) {
    case CoderId::kPacked:
      return "packed";
    case CoderId::kLzw:
      return "lzw";
    case CoderId::kHuffman:
      return "huffman";
    case CoderId::kContext:
      return "context";
    case CoderId::kContextStatic:
      return "context-static";
    case CoderId::kContextSkip:
      return "context-skip";
  }
  return "unknown";
}

CoderId parse_coder(const std::string& name, const std::string& where) {
  for (unsigned i = 0; i < kCoderCount; ++i)
    if (name == coder_name(CoderId(i))) return CoderId(i);
  throw error_at(where, "unknown coder '" + name +
                            "' (packed, lzw, huffman, context, context-static, context-skip)");
}

std::vector<uint8_t> encode_payload(CoderId coder, std::span<const uint8_t> indices,
                                    const StreamShape& shape, const CodecTables& tables) {
  check_payload_args(shape, tables, indices.size());
  for (size_t i = 0; i < indices.size(); ++i)
    if (indices[i] >= tables.alphabet)
      throw error_at("codec", "index " + std::to_string(i) + " is " + std::to_string(indices[i]) +
                                  ", alphabet is " + std::to_string(tables.alphabet));
  switch (coder) {
    case CoderId::kPacked:
      return packed_encode(indices, tables.alphabet);
    case CoderId::kLzw:
      return lzw_encode(indices, tables.alphabet);
    case CoderId::kHuffman:
      return tables.huffman.encode(indices);
    case CoderId::kContext:
      return tables.context.encode(indices, shape);
    case CoderId::kContextStatic:
      return tables.context.encode_static(indices, shape);
    case CoderId::kContextSkip:
      return tables.context.encode_static_skip(indices, shape,
                                               ContextModel::constant_channels(indices, shape));
  }
  throw error_at("codec", "unknown coder id " + std::to_string(unsigned(coder)));
}

void decode_payload(CoderId coder, std::span<const uint8_t> payload, const StreamShape& shape,
                    const CodecTables& tables, std::span<uint8_t> out) {
  check_payload_args(shape, tables, out.size());
  switch (coder) {
    case CoderId::kPacked:
      return packed_decode(payload, tables.alphabet, out);
    case CoderId::kLzw:
      return lzw_decode(payload, tables.alphabet, out);
    case CoderId::kHuffman:
      return tables.huffman.decode(payload, out);
    case CoderId::kContext:
      return tables.context.decode(payload, shape, out);
    case CoderId::kContextStatic:
      return tables.context.decode_static(payload, shape, out);
    case CoderId::kContextSkip:
      return tables.context.decode_static_skip(payload, shape, out);
  }
  throw field_error("coder", "unknown coder id " + std::to_string(unsigned(coder)));
}

std::vector<uint8_t> encode_packet(std::span<const uint8_t> indices, const StreamShape& shape,
                                   const CodecTables& tables, CoderId coder) {
  if (shape.height < 1 || shape.height > 65535 || shape.width < 1 || shape.width > 65535)
    throw field_error("shape", "H and W must be 1..65535");
  return wrap_payload(encode_payload(coder, indices, shape, tables), shape, tables, coder);
}

std::vector<uint8_t> wrap_payload(std::span<const uint8_t> payload, const StreamShape& shape,
                                  const CodecTables& tables, CoderId coder) {
  if (shape.height < 1 || shape.height > 65535 || shape.width < 1 || shape.width > 65535)
    throw field_error("shape", "H and W must be 1..65535");
  if (unsigned(coder) >= kCoderCount)
    throw field_error("coder", "unknown coder id " + std::to_string(unsigned(coder)));
  check_payload_args(shape, tables, shape.size());
  if (payload.size() > UINT32_MAX) throw field_error("payload_length", "payload too large");
  std::vector<uint8_t> p(kPacketHeaderBytes + payload.size());
  p[0] = kMagic[0];
  p[1] = kMagic[1];
  p[2] = packet_version_of(coder);
  p[3] = uint8_t(coder);
  set_u32(&p[4], tables.fingerprint());
  set_u16(&p[8], shape.height);
  set_u16(&p[10], shape.width);
  set_u16(&p[12], shape.channels);
  p[14] = uint8_t(tables.local_channels);
  p[15] = uint8_t(tables.alphabet - 1);
  set_u32(&p[16], uint32_t(payload.size()));
  std::copy(payload.begin(), payload.end(), p.begin() + kPacketHeaderBytes);
  uint32_t crc = crc32_of(std::span(p).subspan(0, 20));
  crc = crc32_of(std::span(p).subspan(kPacketHeaderBytes), crc);
  set_u32(&p[20], crc);
  return p;
}

std::vector<uint8_t> encode_packet_auto(std::span<const uint8_t> indices, const StreamShape& shape,
                                        const CodecTables& tables, CoderId coder) {
  std::vector<uint8_t> p = encode_packet(indices, shape, tables, coder);
  const size_t packed = (shape.size() * index_bits(tables.alphabet) + 7) / 8;
  if (p.size() - kPacketHeaderBytes < packed) return p;
  return encode_packet(indices, shape, tables, CoderId::kPacked);
}

PacketHeader parse_packet_header(std::span<const uint8_t> p) {
  if (p.size() < kPacketHeaderBytes)
    throw field_error("header", "truncated: " + std::to_string(p.size()) +
                                    " bytes, the header needs " +
                                    std::to_string(kPacketHeaderBytes));
  if (p[0] != kMagic[0] || p[1] != kMagic[1]) throw field_error("magic", "not an agilenn packet");
  PacketHeader h;
  h.version = p[2];
  if (h.version < 1 || h.version > kPacketVersion)
    throw field_error("version", "got " + std::to_string(h.version) +
                                     ", this decoder reads versions 1.." +
                                     std::to_string(kPacketVersion));
  if (p[3] >= kCoderCount) throw field_error("coder", "unknown coder id " + std::to_string(p[3]));
  h.coder = CoderId(p[3]);
  if (packet_version_of(h.coder) != h.version)
    throw field_error("coder", std::string("coder ") + coder_name(h.coder) + " needs version " +
                                   std::to_string(packet_version_of(h.coder)) + ", packet has " +
                                   std::to_string(h.version));
  h.fingerprint = get_u32(&p[4]);
  h.shape = {get_u16(&p[8]), get_u16(&p[10]), get_u16(&p[12])};
  if (h.shape.height == 0) throw field_error("H", "is 0");
  if (h.shape.width == 0) throw field_error("W", "is 0");
  if (h.shape.channels == 0) throw field_error("R", "is 0");
  h.local_channels = p[14];
  h.alphabet = uint32_t(p[15]) + 1;
  if (h.alphabet < 2) throw field_error("alphabet", "must be at least 2");
  h.payload_length = get_u32(&p[16]);
  const size_t available = p.size() - kPacketHeaderBytes;
  if (h.payload_length != available)
    throw field_error("payload_length",
                      std::to_string(h.payload_length) + " bytes declared, " +
                          std::to_string(available) + " bytes follow the header" +
                          (h.payload_length > available ? " (points past the end)" : ""));
  h.crc = get_u32(&p[20]);
  uint32_t crc = crc32_of(p.subspan(0, 20));
  crc = crc32_of(p.subspan(kPacketHeaderBytes), crc);
  if (crc != h.crc) throw field_error("crc32", "checksum mismatch (corrupted packet)");
  return h;
}

DecodedPacket decode_packet(std::span<const uint8_t> packet, const CodecTables& tables,
                            const PacketLimits& limits) {
  DecodedPacket d;
  d.header = parse_packet_header(packet);
  const PacketHeader& h = d.header;
  if (h.fingerprint != tables.fingerprint())
    throw field_error("fingerprint", "packet was made for other tables/model");
  if (h.alphabet != tables.alphabet)
    throw field_error("alphabet", std::to_string(h.alphabet) + ", tables have " +
                                      std::to_string(tables.alphabet));
  if (h.shape.channels != tables.remote_channels)
    throw field_error("R", std::to_string(h.shape.channels) + ", tables have " +
                               std::to_string(tables.remote_channels));
  if (h.local_channels != tables.local_channels)
    throw field_error("k", std::to_string(h.local_channels) + ", tables have " +
                               std::to_string(tables.local_channels));
  if (h.shape.height > limits.max_height)
    throw field_error("H", std::to_string(h.shape.height) + " exceeds the limit " +
                               std::to_string(limits.max_height));
  if (h.shape.width > limits.max_width)
    throw field_error("W", std::to_string(h.shape.width) + " exceeds the limit " +
                               std::to_string(limits.max_width));
  if (h.shape.size() > limits.max_indices)
    throw field_error("shape", std::to_string(h.shape.size()) + " indices exceed the limit " +
                                   std::to_string(limits.max_indices));
  d.indices.resize(h.shape.size());
  decode_payload(h.coder, packet.subspan(kPacketHeaderBytes), h.shape, tables, d.indices);
  return d;
}

}  // namespace agilenn::codec
