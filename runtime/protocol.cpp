#include "runtime/protocol.h"

#include <cstring>

#include "nn/io/error.h"

namespace agilenn::runtime {
namespace {

constexpr uint8_t kRequestMagic[4] = {'A', 'G', 'R', 'Q'};
constexpr uint8_t kResponseMagic[4] = {'A', 'G', 'R', 'S'};

void put_u16(uint8_t* p, uint16_t v) {
  p[0] = uint8_t(v);
  p[1] = uint8_t(v >> 8);
}
void put_u32(uint8_t* p, uint32_t v) {
  for (int i = 0; i < 4; ++i) p[i] = uint8_t(v >> (8 * i));
}
uint16_t get_u16(const uint8_t* p) {
  return uint16_t(p[0] | (p[1] << 8));
}
uint32_t get_u32(const uint8_t* p) {
  return uint32_t(p[0]) | (uint32_t(p[1]) << 8) | (uint32_t(p[2]) << 16) | (uint32_t(p[3]) << 24);
}

}  // namespace

const char* status_name(Status s) {
  switch (s) {
    case Status::kOk:
      return "ok";
    case Status::kBadMagic:
      return "bad_magic";
    case Status::kBadVersion:
      return "bad_version";
    case Status::kTooLarge:
      return "too_large";
    case Status::kBadPacket:
      return "bad_packet";
    case Status::kOverloaded:
      return "overloaded";
    case Status::kInternal:
      return "internal";
    case Status::kShuttingDown:
      return "shutting_down";
    case Status::kTimeout:
      return "timeout";
  }
  return "unknown";
}

std::vector<uint8_t> encode_request(uint32_t device_id, uint32_t sequence,
                                    std::span<const uint8_t> packet) {
  if (packet.size() > 0xffffffffu) throw Error("encode_request: packet too large");
  std::vector<uint8_t> out(kFrameHeaderBytes + packet.size());
  std::memcpy(out.data(), kRequestMagic, 4);
  out[4] = kProtocolVersion;
  out[5] = 0;
  put_u16(&out[6], 0);
  put_u32(&out[8], device_id);
  put_u32(&out[12], sequence);
  put_u32(&out[16], uint32_t(packet.size()));
  if (!packet.empty()) std::memcpy(out.data() + kFrameHeaderBytes, packet.data(), packet.size());
  return out;
}

std::vector<uint8_t> encode_response(Status status, uint32_t device_id, uint32_t sequence,
                                     std::span<const float> logits) {
  if (logits.size() > 0xffff) throw Error("encode_response: too many logits");
  std::vector<uint8_t> out(kFrameHeaderBytes + 4 * logits.size());
  std::memcpy(out.data(), kResponseMagic, 4);
  out[4] = kProtocolVersion;
  out[5] = uint8_t(status);
  put_u16(&out[6], uint16_t(logits.size()));
  put_u32(&out[8], device_id);
  put_u32(&out[12], sequence);
  put_u32(&out[16], uint32_t(4 * logits.size()));
  for (size_t i = 0; i < logits.size(); ++i) {
    uint32_t bits;
    std::memcpy(&bits, &logits[i], 4);
    put_u32(&out[kFrameHeaderBytes + 4 * i], bits);
  }
  return out;
}

RequestParse parse_request_header(std::span<const uint8_t, kFrameHeaderBytes> b,
                                  uint32_t max_packet_bytes) {
  RequestParse r;
  r.header.device_id = get_u32(&b[8]);
  r.header.sequence = get_u32(&b[12]);
  r.header.length = get_u32(&b[16]);
  if (std::memcmp(b.data(), kRequestMagic, 4) != 0) {
    r.status = Status::kBadMagic;
    r.error = "request magic is not 'AGRQ'";
  } else if (b[4] != kProtocolVersion) {
    r.status = Status::kBadVersion;
    r.error = "request version " + std::to_string(b[4]) + " (expected 1)";
  } else if (b[5] != 0 || get_u16(&b[6]) != 0) {
    r.status = Status::kBadVersion;
    r.error = "request flags/reserved bytes are not zero";
  } else if (r.header.length == 0 || r.header.length > max_packet_bytes) {
    r.status = Status::kTooLarge;
    r.error = "request length " + std::to_string(r.header.length) + " not in [1, " +
              std::to_string(max_packet_bytes) + "]";
  }
  return r;
}

ResponseHeader parse_response_header(std::span<const uint8_t, kFrameHeaderBytes> b,
                                     uint16_t max_logits) {
  if (std::memcmp(b.data(), kResponseMagic, 4) != 0) throw Error("response: magic is not 'AGRS'");
  if (b[4] != kProtocolVersion)
    throw Error("response: version " + std::to_string(b[4]) + " (expected 1)");
  ResponseHeader h;
  if (b[5] > uint8_t(Status::kTimeout))
    throw Error("response: unknown status " + std::to_string(b[5]));
  h.status = Status(b[5]);
  h.logit_count = get_u16(&b[6]);
  h.device_id = get_u32(&b[8]);
  h.sequence = get_u32(&b[12]);
  h.length = get_u32(&b[16]);
  if (h.logit_count > max_logits)
    throw Error("response: logit count " + std::to_string(h.logit_count) + " above " +
                std::to_string(max_logits));
  if (h.length != 4u * h.logit_count)
    throw Error("response: length " + std::to_string(h.length) + " != 4 * logit count");
  return h;
}

std::vector<float> parse_logits(std::span<const uint8_t> body) {
  if (body.size() % 4) throw Error("response: logits length not a multiple of 4");
  std::vector<float> out(body.size() / 4);
  for (size_t i = 0; i < out.size(); ++i) {
    uint32_t bits = get_u32(&body[4 * i]);
    std::memcpy(&out[i], &bits, 4);
  }
  return out;
}

}  // namespace agilenn::runtime
