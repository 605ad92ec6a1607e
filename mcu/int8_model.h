// The quantized device graph: what the C generator emits and the fixed-point reference runs.
//   extractor: int8 conv ops (BN and ReLU6 folded), the first one reading raw uint8 pixels;
//   split: first k channels of the last op's output are the local map, the rest are quantized
//   to centroid indices in the int8 domain and packed into the packet;
//   local head: grid average pooling (TFLite Micro rounding) -> dense -> int32 logits.
#pragma once
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "codec/packet.h"
#include "codec/tables.h"
#include "nn/io/frozen_model.h"

namespace agilenn::mcu {

enum class ConvKind { Depthwise, Pointwise };

struct Int8Conv {
  ConvKind kind = ConvKind::Pointwise;
  int in_h = 0, in_w = 0, in_c = 0, out_h = 0, out_w = 0, out_c = 0;
  int kh = 1, kw = 1, stride = 1, pad_top = 0, pad_left = 0, mult = 1;
  std::vector<int8_t> weight;         // depthwise (KH, KW, C*mult); pointwise (Cin, Cout)
  std::vector<int32_t> bias;          // (out_c), scale in_scale * w_scale[o]
  std::vector<int32_t> multiplier;    // (out_c) Q31
  std::vector<int32_t> shift;         // (out_c)
  std::vector<int32_t> input_offset;  // (in_c): -input zero point (first op: -round(255*mean_c))
  int32_t output_offset = 0;          // output zero point
  int32_t act_min = -128, act_max = 127;
  double in_scale = 1, out_scale = 1;
  std::vector<double> w_scale;  // (out_c)
  int64_t macs() const;
};

struct Int8Dense {
  int in = 0, out = 0;
  std::vector<int8_t> weight;  // (in, out), symmetric per tensor so all logits share one scale
  std::vector<int32_t> bias;   // (out), scale = logit_scale
  int32_t input_offset = 0;    // -input zero point
  double w_scale = 1, logit_scale = 1;
};

// Nearest-centroid quantizer on int8 values: pos = #{j : q >= thresholds[j]} is the position
// of the nearest centroid in ascending (value, index) order, index_of_pos[pos] its index.
struct Int8Quantizer {
  std::vector<int16_t> thresholds;    // (C-1) ascending, in [-128, 128] (128: never reached)
  std::vector<uint8_t> index_of_pos;  // (C)
  int bits = 3;                       // ceil(log2 C) bits per index in the raw packet
  uint8_t index_of(int8_t q) const {
    size_t pos = 0;
    for (int16_t t : thresholds) pos += q >= t ? 1 : 0;
    return index_of_pos[pos];
  }
  // index_of for every int8 value, at [v + 128] (the generated C's lookup table).
  std::vector<uint8_t> value_table() const {
    std::vector<uint8_t> t(256);
    for (int v = -128; v <= 127; ++v) t[v + 128] = index_of(int8_t(v));
    return t;
  }
};

struct Int8Model {
  int in_h = 0, in_w = 0, in_c = 0;
  std::vector<Int8Conv> extractor;
  int feat_h = 0, feat_w = 0, feat_c = 0, split_k = 0;
  double feature_scale = 1;
  int32_t feature_zero_point = 0;
  int grid = 1;
  Int8Dense dense;
  Int8Quantizer quantizer;
  std::vector<float> centroids;
  int num_classes = 0;
  // The entropy coder's fitted tables (mcu/packet_encoder.h: attach_codec_tables); alphabet 0
  // until attached.
  codec::CodecTables codec;
  // The coder of the device's packets (mcu/packet_encoder.h): context-static (coder 4) or
  // context-skip (coder 5, the channels the weights make constant are neither computed nor coded).
  codec::CoderId device_coder = codec::CoderId::kContextStatic;
  // Number of remote values per image (H * W * (C - k)) and the raw packet size in bytes.
  size_t remote_values() const { return size_t(feat_h) * feat_w * (feat_c - split_k); }
  int64_t head_macs() const { return int64_t(dense.in) * dense.out; }
};

struct CalibrationOptions {
  bool relu6_fixed_range = true;  // ReLU6 outputs use [0, 6] instead of the calibrated range
};

// Post-training quantization of `model` with activation ranges calibrated (min/max) on `images`
// (each in_h*in_w*in_c uint8 pixels). Throws agilenn::Error if the graph is not supported.
Int8Model quantize_model(const FrozenModel& model, std::span<const std::vector<uint8_t>> images,
                         const CalibrationOptions& options = {});

// Thresholds for `centroids` on int8 values with real value scale * (q - zero_point), chosen so
// that index_of(q) == nearest_centroid(centroids, scale * (q - zero_point)) for all 256 q.
Int8Quantizer make_int8_quantizer(std::span<const float> centroids, double scale,
                                  int32_t zero_point);

}  // namespace agilenn::mcu
