#include "mcu/packet_encoder.h"

#include "codec/packet.h"
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

std::vector<uint8_t> encode_device_packet(const Int8Model& m, std::span<const uint8_t> indices) {
  if (m.codec.alphabet == 0)
    throw Error("encode_device_packet: no codec tables attached to the int8 model");
  if (indices.size() != m.remote_values())
    throw Error("encode_device_packet: " + std::to_string(indices.size()) + " indices, expected " +
                std::to_string(m.remote_values()));
  return codec::encode_packet_auto(indices, remote_stream_shape(m), m.codec, kDeviceCoder);
}

}  // namespace agilenn::mcu
