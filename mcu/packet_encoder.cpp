#include "mcu/packet_encoder.h"

#include "codec/packed.h"
#include "codec/packet.h"
#include "mcu/c_layout.h"
#include "mcu/reference.h"
#include "nn/io/error.h"

namespace agilenn::mcu {

codec::StreamShape remote_stream_shape(const Int8Model& m) {
  return {uint32_t(m.feat_h), uint32_t(m.feat_w), uint32_t(m.feat_c - m.split_k)};
}

size_t packed_payload_bytes(const Int8Model& m) {
  return (m.remote_values() * size_t(codec::index_bits(uint32_t(m.centroids.size()))) + 7) / 8;
}

size_t max_packet_bytes(const Int8Model& m) {
  return codec::kPacketHeaderBytes + packed_payload_bytes(m);
}

codec::CodecTables fit_device_codec_tables(const Int8Model& m,
                                           std::span<const std::vector<uint8_t>> images,
                                           uint32_t model_id) {
  if (images.empty()) throw Error("fit_device_codec_tables: no images");
  std::vector<uint8_t> all;
  all.reserve(images.size() * m.remote_values());
  for (const auto& im : images) {
    ReferenceResult r = reference_run(m, im, /*with_packet=*/false);
    all.insert(all.end(), r.indices.begin(), r.indices.end());
  }
  return codec::CodecTables::fit(all, images.size(), remote_stream_shape(m),
                                 unsigned(m.centroids.size()), uint32_t(m.split_k), model_id);
}

void attach_codec_tables(Int8Model& m, codec::CodecTables t, const std::string& where) {
  auto need = [&](bool ok, const std::string& what) {
    if (!ok) throw error_at(where, what);
  };
  need(t.alphabet == m.centroids.size(), "codec tables are for " + std::to_string(t.alphabet) +
                                             " centroids, the model has " +
                                             std::to_string(m.centroids.size()));
  need(t.remote_channels == uint32_t(m.feat_c - m.split_k),
       "codec tables are for " + std::to_string(t.remote_channels) +
           " remote channels, the model has " + std::to_string(m.feat_c - m.split_k));
  need(t.local_channels == uint32_t(m.split_k),
       "codec tables are for k = " + std::to_string(t.local_channels) +
           ", the model has k = " + std::to_string(m.split_k));
  need(t.context.alphabet() == t.alphabet && t.context.channels() == t.remote_channels,
       "context model does not match the tables' alphabet/channels");
  m.codec = std::move(t);
}

codec::CoderId parse_device_coder(const std::string& name, const Int8Model& model,
                                  const std::string& where) {
  if (name == "context-static") return kDeviceCoder;
  if (name == "context-skip") return kDeviceSkipCoder;
  if (name == "auto") {
    for (int v : device_constant_indices(model))
      if (v >= 0) return kDeviceSkipCoder;
    return kDeviceCoder;
  }
  throw error_at(where, "expected auto, context-static or context-skip, got '" + name + "'");
}

std::vector<int> device_constant_indices(const Int8Model& m) {
  // The input ranges the layers before can produce (uint8 pixels first) narrow the last conv's
  // accumulators beyond "any int8 input".
  std::vector<CValueRange> range(size_t(m.in_c), CValueRange{0, 255});
  for (size_t i = 0; i + 1 < m.extractor.size(); ++i)
    range = c_output_ranges(m.extractor[i], range);
  const Int8Conv& op = m.extractor.back();
  return c_constant_remote_indices(op, c_pointwise_layout(op), m.split_k, m.quantizer, range);
}

std::vector<uint8_t> device_skip_channels(const Int8Model& m) {
  std::vector<uint8_t> skip(size_t(m.feat_c - m.split_k), 0);
  if (m.device_coder != kDeviceSkipCoder) return skip;
  const std::vector<int> constant = device_constant_indices(m);
  for (size_t r = 0; r < skip.size(); ++r) skip[r] = constant[r] >= 0;
  return skip;
}

std::vector<uint8_t> device_skip_prefix(const Int8Model& m) {
  if (m.device_coder != kDeviceSkipCoder) return {};
  const std::vector<int> constant = device_constant_indices(m);
  std::vector<uint8_t> prefix((constant.size() + 7) / 8, 0), values;
  for (size_t r = 0; r < constant.size(); ++r)
    if (constant[r] >= 0) {
      prefix[r / 8] |= uint8_t(1u << (r % 8));
      values.push_back(uint8_t(constant[r]));
    }
  const auto packed = codec::packed_encode(values, m.codec.alphabet);
  prefix.insert(prefix.end(), packed.begin(), packed.end());
  return prefix;
}

std::vector<uint8_t> encode_device_packet(const Int8Model& m, std::span<const uint8_t> indices) {
  if (m.codec.alphabet == 0)
    throw Error("encode_device_packet: no codec tables attached to the int8 model");
  if (indices.size() != m.remote_values())
    throw Error("encode_device_packet: " + std::to_string(indices.size()) + " indices, expected " +
                std::to_string(m.remote_values()));
  const codec::StreamShape shape = remote_stream_shape(m);
  if (m.device_coder == kDeviceCoder)
    return codec::encode_packet_auto(indices, shape, m.codec, kDeviceCoder);
  if (m.device_coder != kDeviceSkipCoder)
    throw Error(std::string("encode_device_packet: the device has no coder ") +
                codec::coder_name(m.device_coder));
  const std::vector<uint8_t> payload =
      m.codec.context.encode_static_skip(indices, shape, device_skip_channels(m));
  if (payload.size() < packed_payload_bytes(m))
    return codec::wrap_payload(payload, shape, m.codec, kDeviceSkipCoder);
  return codec::encode_packet(indices, shape, m.codec, codec::CoderId::kPacked);
}

}  // namespace agilenn::mcu
