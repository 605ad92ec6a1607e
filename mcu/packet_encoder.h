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

// The device's coders: one multi-symbol step per index from a flash table (no per-bit work, no
// RAM copy of the tables), instead of the adaptive binary coder 3. Int8Model::device_coder picks
// one: kDeviceCoder (coder 4) or kDeviceSkipCoder (coder 5: the same steps, without the remote
// channels the weights make constant, device_skip_channels).
constexpr codec::CoderId kDeviceCoder = codec::CoderId::kContextStatic;
constexpr codec::CoderId kDeviceSkipCoder = codec::CoderId::kContextSkip;
// Parses --coder of export-mcu / mcu-check: "context-static", "context-skip", or "auto":
// context-skip if the model's weights fix at least one remote channel (device_constant_indices),
// else context-static (a skip mask with nothing to skip only costs bytes).
codec::CoderId parse_device_coder(const std::string& name, const Int8Model& model,
                                  const std::string& where);

// Per remote channel the index the weights fix (c_constant_remote_indices), or -1.
std::vector<int> device_constant_indices(const Int8Model& model);
// The skip flags of coder 5 on the device: device_constant_indices >= 0 (all zero for coder 4).
std::vector<uint8_t> device_skip_channels(const Int8Model& model);
// Coder 5's payload prefix the device writes before its range stream: the skip mask and the
// skipped channels' values (ContextModel::encode_static_skip); empty for coder 4.
std::vector<uint8_t> device_skip_prefix(const Int8Model& model);

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

// What the device sends for these indices (throws if no tables are attached): model.device_coder
// or packed bits when those are not larger (codec::encode_packet_auto's rule).
std::vector<uint8_t> encode_device_packet(const Int8Model& model, std::span<const uint8_t> indices);

}  // namespace agilenn::mcu
