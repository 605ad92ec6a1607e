// The device's packet: the codec's packet (codec/packet.h) of the remote centroid indices,
// H x W x R in NHWC order, coded with the static context coder (coder 4, version-2 packet) under
// the model's fitted tables, or packed bits (coder 0, version 1) when those are not smaller
// (codec::encode_packet_auto's rule). The generated C must give the same bytes.
#pragma once
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "codec/packet.h"
#include "codec/stream.h"
#include "codec/tables.h"
#include "mcu/int8_model.h"

namespace agilenn::mcu {

// The coder the device uses: one multi-symbol step per index from a flash table (no per-bit work,
// no RAM copy of the tables), instead of the adaptive binary coder 3.
constexpr codec::CoderId kDeviceCoder = codec::CoderId::kContextStatic;

codec::StreamShape remote_stream_shape(const Int8Model& model);
// Header + packed bits: the largest packet the device can send (the caller's buffer size).
size_t max_packet_bytes(const Int8Model& model);
// Packed payload bytes (the context coder's capacity: a larger context payload is not sent).
size_t packed_payload_bytes(const Int8Model& model);

// Fits codec tables on the device's own (int8) indices of `images` with the codec's fitting API.
codec::CodecTables fit_device_codec_tables(const Int8Model& model,
                                           std::span<const std::vector<uint8_t>> images,
                                           uint32_t model_id);
// Checks that `tables` belong to this split (alphabet, remote and local channels, table bounds
// of the C encoder) and stores them in model.codec; throws agilenn::Error naming `where`.
void attach_codec_tables(Int8Model& model, codec::CodecTables tables, const std::string& where);

// What the device sends for these indices (throws if no tables are attached).
std::vector<uint8_t> encode_device_packet(const Int8Model& model, std::span<const uint8_t> indices);

}  // namespace agilenn::mcu
