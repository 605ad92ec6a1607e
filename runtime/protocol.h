// The device <-> edge-server framing around one codec packet (all integers little endian).
//
// Request  (20-byte header): u8[4] "AGRQ", u8 version (1), u8 flags (0), u16 reserved (0),
//                            u32 device id, u32 sequence number, u32 length, then `length` bytes
//                            of codec packet.
// Response (20-byte header): u8[4] "AGRS", u8 version (1), u8 status, u16 logit count,
//                            u32 device id, u32 sequence number, u32 length (= 4 * logit count),
//                            then the remote logits as float32.
// A frame whose header is broken (magic, version, reserved bits, length above the server's
// limit) loses the framing: the server answers once with the error status and closes. A frame
// whose packet fails to decode gets an error status and the connection stays usable.
#pragma once
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace agilenn::runtime {

constexpr size_t kFrameHeaderBytes = 20;
constexpr uint8_t kProtocolVersion = 1;

enum class Status : uint8_t {
  kOk = 0,
  kBadMagic = 1,      // header magic wrong: framing lost, connection closed
  kBadVersion = 2,    // unknown protocol version or reserved bits set: closed
  kTooLarge = 3,      // length above --max-packet-bytes (or zero): closed
  kBadPacket = 4,     // the codec packet failed its checks (CRC, fields, tables, payload)
  kOverloaded = 5,    // --max-connections reached: answered on accept, closed
  kInternal = 6,      // inference failed
  kShuttingDown = 7,  // server stopping
  kTimeout = 8,       // frame not completed within --read-timeout-ms: closed
};
const char* status_name(Status s);

struct RequestHeader {
  uint32_t device_id = 0, sequence = 0, length = 0;
};
struct ResponseHeader {
  Status status = Status::kOk;
  uint16_t logit_count = 0;
  uint32_t device_id = 0, sequence = 0, length = 0;
};

std::vector<uint8_t> encode_request(uint32_t device_id, uint32_t sequence,
                                    std::span<const uint8_t> packet);
std::vector<uint8_t> encode_response(Status status, uint32_t device_id, uint32_t sequence,
                                     std::span<const float> logits);

// Header parsing: returns the header, or the error status that ends the connection.
struct RequestParse {
  RequestHeader header;
  Status status = Status::kOk;
  std::string error;  // why, when status != kOk
};
RequestParse parse_request_header(std::span<const uint8_t, kFrameHeaderBytes> bytes,
                                  uint32_t max_packet_bytes);

// Response parsing for the client; throws agilenn::Error naming the field.
ResponseHeader parse_response_header(std::span<const uint8_t, kFrameHeaderBytes> bytes,
                                     uint16_t max_logits);
std::vector<float> parse_logits(std::span<const uint8_t> body);

}  // namespace agilenn::runtime
