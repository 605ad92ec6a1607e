#include "mcu/codegen.h"

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <sstream>

#include "mcu/c_layout.h"
#include "mcu/packet_encoder.h"
#include "nn/io/atomic_file.h"
#include "nn/io/error.h"

namespace agilenn::mcu {

int64_t Bundle::macs_per_image() const {
  int64_t s = 0;
  for (const auto& st : stages) s += st.macs;
  return s;
}

namespace {

// Extern declarations of the arrays in agilenn_weights.c, for agilenn_model.c.
thread_local std::ostringstream* g_array_decls = nullptr;

template <typename T>
std::string c_array(const std::string& type, const std::string& name, const std::vector<T>& v) {
  if (g_array_decls)
    *g_array_decls << "extern const " << type << " " << name << "[" << std::max<size_t>(v.size(), 1)
                   << "];\n";
  std::ostringstream os;
  os << "const " << type << " " << name << "[" << std::max<size_t>(v.size(), 1) << "] = {";
  if (v.empty()) os << "0";
  for (size_t i = 0; i < v.size(); ++i) {
    if (i % 16 == 0) os << "\n  ";
    os << int64_t(v[i]) << (i + 1 < v.size() ? ", " : "");
  }
  os << "\n};\n";
  return os.str();
}

// A small parameter array as `static const` in agilenn_model.c itself, next to agilenn_run: where
// a kernel's channel loop is unrolled the compiler folds the values into the code (a
// requantization with a constant shift needs no branch and no loads).
template <typename T>
std::string c_static_array(const std::string& type, const std::string& name,
                           const std::vector<T>& v) {
  std::ostringstream os;
  os << "static const " << type << " " << name << "[" << std::max<size_t>(v.size(), 1) << "] = {";
  if (v.empty()) os << "0";
  for (size_t i = 0; i < v.size(); ++i) {
    if (i % 16 == 0) os << "\n  ";
    os << int64_t(v[i]) << (i + 1 < v.size() ? ", " : "");
  }
  os << "\n};\n";
  return os.str();
}

std::string shape3(int h, int w, int c) {
  return std::to_string(h) + "x" + std::to_string(w) + "x" + std::to_string(c);
}

std::string c_float(double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.9ef", v);
  return buf;
}

}  // namespace

Bundle generate_bundle(const Int8Model& m) {
  if (m.extractor.size() < 2)
    throw Error("generate_bundle: the extractor needs at least two convs");
  Bundle b;
  b.num_classes = m.num_classes;
  b.logit_scale = m.dense.logit_scale;
  b.input_bytes = size_t(m.in_h) * m.in_w * m.in_c;
  if (m.codec.alphabet == 0)
    throw Error("generate_bundle: the int8 model has no codec tables (attach_codec_tables)");
  b.packet_max_bytes = max_packet_bytes(m);
  const size_t n_ext = m.extractor.size();
  const codec::ContextModel& cm = m.codec.context;
  const size_t remote_c = size_t(m.feat_c - m.split_k);

  // Buffers: extractor outputs 0..n-2, the local map (written by the fused last conv), the pooled
  // map, and for the fused last conv two rows of remote indices (the row being coded and the one
  // above it; the static coder's table stays in flash). Op i is extractor op i;
  // op n_ext is the pooling, op n_ext+1 the dense layer.
  // A depthwise conv (mult 1) fed by a pointwise conv reads a padded copy of its input: the
  // producer writes its rows into the interior of a (hp, wp) buffer whose border holds the input
  // zero point (x + offset = 0, what padding contributes), so every window is interior.
  // A 3x3 stride-1 depthwise conv reads its padded input as planes, one per channel
  // (agilenn_dwconv_s8_planar_impl: two output pixels per word of one channel's inputs).
  struct InputPad {
    bool on = false, planar = false;
    int hp = 0, wp = 0, top = 0, left = 0;
  };
  std::vector<InputPad> pad(n_ext);
  for (size_t i = 1; i < n_ext; ++i) {
    const Int8Conv& op = m.extractor[i];
    if (op.kind != ConvKind::Depthwise || op.mult != 1 ||
        m.extractor[i - 1].kind != ConvKind::Pointwise)
      continue;
    pad[i].on = true;
    pad[i].top = op.pad_top;
    pad[i].left = op.pad_left;
    pad[i].hp = std::max(op.pad_top + op.in_h, (op.out_h - 1) * op.stride + op.kh);
    pad[i].wp = std::max(op.pad_left + op.in_w, (op.out_w - 1) * op.stride + op.kw);
    pad[i].planar = op.kh == 3 && op.kw == 3 && op.stride == 1;
  }
  for (size_t i = 0; i + 1 < n_ext; ++i) {
    const Int8Conv& op = m.extractor[i];
    const size_t bytes = pad[i + 1].on ? size_t(pad[i + 1].hp) * pad[i + 1].wp * op.out_c
                                       : size_t(op.out_h) * op.out_w * op.out_c;
    b.buffers.push_back(
        {"extractor" + std::to_string(i) + "_out" +
             (pad[i + 1].on ? std::string(pad[i + 1].planar ? " (padded, planar)" : " (padded)")
                            : std::string()),
         bytes, int(i), int(i) + 1, 0});
  }
  b.buffers.push_back(
      {"local_map", size_t(m.feat_h) * m.feat_w * m.split_k, int(n_ext) - 1, int(n_ext), 0});
  b.buffers.push_back(
      {"pooled", size_t(m.grid) * m.grid * m.split_k, int(n_ext), int(n_ext) + 1, 0});
  const size_t row_bytes = size_t(m.feat_w) * remote_c;
  const size_t index_buf = b.buffers.size();
  // Two slots of R + W*R uint16 context offsets (the packed fallback reuses it as one byte row).
  b.buffers.push_back(
      {"remote_offset_rows", 4 * (row_bytes + remote_c), int(n_ext) - 1, int(n_ext) - 1, 0});
  b.arena_bytes = plan_arena(b.buffers);
  if (live_buffers_overlap(b.buffers))
    throw Error("generate_bundle: planner produced overlapping buffers");

  std::ostringstream W;  // agilenn_weights.c
  W << "/* Generated by agilenn export-mcu: int8 weights and layer parameters (const: flash). */\n"
       "#include \"agilenn_kernels.h\"\n#include \"agilenn_codec.h\"\n\n";
  std::ostringstream R;     // body of agilenn_run
  std::ostringstream decl;  // parameter structs (static const: constant-folded into agilenn_run)
  std::ostringstream array_decls;  // extern declarations of the weight arrays
  g_array_decls = &array_decls;
  auto buf = [&](size_t i) {
    return "(int8_t *)(agilenn_arena.bytes + " + std::to_string(b.buffers[i].offset) + ")";
  };
  size_t wbytes = 0;
  for (size_t i = 0; i < n_ext; ++i) {
    const Int8Conv& op = m.extractor[i];
    std::string p = "agilenn_l" + std::to_string(i);
    StageInfo st;
    st.macs = op.macs();
    st.out_shape = shape3(op.out_h, op.out_w, op.out_c);
    // A 1->C pointwise conv (not the last) is a 256-row table: no parameters of its own.
    const bool lut = op.kind == ConvKind::Pointwise && i + 1 < n_ext && op.in_c == 1;
    if (!lut) {
      decl << c_static_array("int32_t", p + "_multiplier", op.multiplier)
           << c_static_array("int32_t", p + "_shift", op.shift);
      wbytes += 8 * op.out_c;
    }
    if (op.kind == ConvKind::Depthwise) {
      auto offs = c_depthwise_offsets(op);
      const auto bias_in = c_depthwise_interior_bias(op);
      const auto pairs = pad[i].planar ? std::vector<int32_t>()
                                       : c_depthwise_weight_pairs(op, c_acc_fits_small(op, i == 0));
      W << c_array("int8_t", p + "_weight", op.weight);
      decl << c_static_array("int32_t", p + "_bias", op.bias)
           << c_static_array("int32_t", p + "_bias_interior", bias_in)
           << c_static_array("int16_t", p + "_input_offset", offs);
      if (!pairs.empty()) W << c_array("int32_t", p + "_weight_pairs", pairs);
      // A padded input (pad[i]): the kernel sees the padded shape and no padding.
      const int in_h = pad[i].on ? pad[i].hp : op.in_h, in_w = pad[i].on ? pad[i].wp : op.in_w;
      const int pad_top = pad[i].on ? 0 : op.pad_top, pad_left = pad[i].on ? 0 : op.pad_left;
      decl << "static const agilenn_dw_params " << p << " = {" << in_h << ", " << in_w << ", "
           << op.in_c << ", " << op.mult << ", " << op.out_h << ", " << op.out_w << ", " << op.kh
           << ", " << op.kw << ", " << op.stride << ", " << pad_top << ", " << pad_left << ",\n  "
           << p << "_input_offset, " << p << "_weight, " << p << "_bias, " << p << "_multiplier, "
           << p << "_shift, " << op.output_offset << ", " << op.act_min << ", " << op.act_max
           << ",\n  " << p << "_bias_interior, " << (pairs.empty() ? "NULL" : p + "_weight_pairs")
           << ", " << (c_acc_fits_small(op, i == 0) ? 1 : 0) << "};\n\n";
      wbytes += op.weight.size() + 8 * op.bias.size() + 2 * offs.size() + 4 * pairs.size() + 72;
      st.kind = "depthwise";
      st.name = "extractor." + std::to_string(i) + " depthwise " + std::to_string(op.kh) + "x" +
                std::to_string(op.kw) + " s" + std::to_string(op.stride);
      std::string in = i == 0 ? "image" : buf(i - 1);
      R << "  AGILENN_MARK(" << i << ");\n  agilenn_dwconv_"
        << (i == 0          ? "u8"
            : pad[i].planar ? "s8_planar"
                            : "s8")
        << "_impl(&" << p << ", " << in << ", " << buf(i) << ");\n";
    } else {
      if (i == 0) throw Error("generate_bundle: the first op must be depthwise");
      auto l = c_pointwise_layout(op);
      if (lut) {
        const auto table = c_pointwise_lut(op);
        W << c_array("int8_t", p + "_table", table);
        wbytes += table.size();
      } else {
        // The fused last conv (in_c 4) uses pairs with its local channels doubled when the layer
        // is small; a 3-input conv feeding the extractor (agilenn_pwconv_strided_impl) all
        // doubled when small.
        const bool fused = i + 1 == n_ext, small = c_acc_fits_small(op, false);
        const auto pairs =
            fused ? c_pointwise_weight_pairs(l, op.in_c == 4 ? 4 : 0, small ? m.split_k : 0)
                  : c_pointwise_weight_pairs(l, op.in_c == 3 ? 3 : 0, small ? op.out_c : 0);
        W << c_array("int8_t", p + "_weight", l.weight);
        if (!pairs.empty()) W << c_array("int32_t", p + "_weight_pairs", pairs);
        decl << c_static_array("int32_t", p + "_bias", l.bias);
        // The fused last conv runs one row of pixels at a time (the coder codes each row at once).
        decl << "static const agilenn_pw_params " << p << " = {"
             << (i + 1 < n_ext && !pad[i + 1].on ? op.in_h * op.in_w : op.in_w) << ", " << op.in_c
             << ", " << op.out_c << ", " << p << "_weight, " << p << "_bias, " << p
             << "_multiplier, " << p << "_shift, " << op.output_offset << ", " << op.act_min << ", "
             << op.act_max << ", " << (c_acc_fits_small(op, false) ? 1 : 0) << ", "
             << (pairs.empty() ? "NULL" : p + "_weight_pairs") << "};\n\n";
        wbytes += l.weight.size() + 4 * l.bias.size() + 4 * pairs.size() + 56;
      }
      st.name = "extractor." + std::to_string(i) + " pointwise " + std::to_string(op.in_c) + "->" +
                std::to_string(op.out_c);
      R << "  AGILENN_MARK(" << i << ");\n";
      if (i + 1 < n_ext && pad[i + 1].on) {
        // Rows into the padded buffer's interior, the border filled with the zero point.
        st.kind = "pointwise";
        const InputPad& pd = pad[i + 1];
        std::vector<int8_t> zp;
        for (int32_t off : m.extractor[i + 1].input_offset) zp.push_back(int8_t(-off));
        decl << c_static_array("int8_t", p + "_pad_pixel", zp);
        // Planar: c planes of (hp, wp), a pixel's channels one plane apart.
        const int px_bytes = pd.planar ? 1 : op.out_c;
        const std::string plane = std::to_string(pd.hp * pd.wp);
        R << "  agilenn_fill_border" << (pd.planar ? "_planar" : "") << "_impl(" << buf(i) << ", "
          << pd.hp << ", " << pd.wp << ", " << op.out_c << ", " << pd.top << ", " << pd.left << ", "
          << op.out_h << ", " << op.out_w << ", " << p
          << "_pad_pixel);\n  {\n    int32_t y;\n    for (y = 0; y < " << op.in_h
          << "; ++y)\n      ";
        const std::string in_row = buf(i - 1) + " + y * " + std::to_string(op.in_w * op.in_c);
        const std::string out_row = buf(i) + " + (y + " + std::to_string(pd.top) + ") * " +
                                    std::to_string(pd.wp * px_bytes) + " + " +
                                    std::to_string(pd.left * px_bytes);
        if (lut && pd.planar)
          R << "agilenn_pw1_lut_planar_impl(" << op.in_w << ", " << op.out_c << ", " << p
            << "_table, " << in_row << ", " << out_row << ", " << plane << ");\n  }\n";
        else if (lut)
          R << "agilenn_pw1_lut_impl(" << op.in_w << ", " << op.out_c << ", " << p << "_table, "
            << in_row << ", " << out_row << ");\n  }\n";
        else if (pd.planar)
          R << "agilenn_pwconv_strided_impl(&" << p << ", " << in_row << ", " << out_row << ", 1, "
            << plane << ");\n  }\n";
        else
          R << "agilenn_pwconv_impl(&" << p << ", " << in_row << ", " << out_row << ");\n  }\n";
      } else if (i + 1 < n_ext) {
        st.kind = "pointwise";
        if (lut)
          R << "  agilenn_pw1_lut_impl(" << op.in_h * op.in_w << ", " << op.out_c << ", " << p
            << "_table, " << buf(i - 1) << ", " << buf(i) << ");\n";
        else
          R << "  agilenn_pwconv_impl(&" << p << ", " << buf(i - 1) << ", " << buf(i) << ");\n";
      } else {
        st.kind = "pointwise+split+quantize+encode";
        st.name += " +split/quantize/encode";
        // Row by row: conv + quantize one row into the two-row ring, code it with the context
        // coder (capacity = packed size). If the context payload is not smaller than packed bits
        // (codec::encode_packet_auto's rule), the rows are recomputed and sent as packed bits.
        const size_t packed = packed_payload_bytes(m);
        const std::string rows = "(uint8_t *)(agilenn_arena.bytes + " +
                                 std::to_string(b.buffers[index_buf].offset) + ")";
        const std::string in_row = buf(i - 1) + " + y * " + std::to_string(op.in_w * op.in_c);
        const std::string local_row =
            buf(n_ext - 1) + " + y * " + std::to_string(op.in_w * m.split_k);
        // The quantizer runs on the accumulator (thresholds per channel and tree node); positions
        // map to indices through index_of_pos unless the centroids are sorted (identity).
        const auto thr = c_accumulator_thresholds(op, l, m.split_k, m.quantizer);
        W << c_array("int32_t", p + "_acc_threshold", thr);
        wbytes += 4 * thr.size();
        std::string index_of_pos = "NULL";
        if (!quantizer_is_sorted(m.quantizer)) {
          decl << c_static_array("uint8_t", "agilenn_quant_index_of_pos", m.quantizer.index_of_pos);
          index_of_pos = "agilenn_quant_index_of_pos";
          wbytes += m.quantizer.index_of_pos.size();
        }
        const std::string quant_args = ", " + std::to_string(m.split_k) + ", " + in_row + ", " +
                                       local_row + ", " + p + "_acc_threshold, " + index_of_pos +
                                       ", " + std::to_string(m.quantizer.bits) + "u, ";
        const std::string conv_row = "    agilenn_pw_quant_row_impl(&" + p + quant_args + "row);\n";
        // The coded rows two at a time: in each inlined copy the ring slots are constants (row and
        // up one base apart), which frees registers in the unrolled channel loop.
        auto code_row = [&](const std::string& y, const std::string& row, const std::string& up) {
          const std::string in_y =
              buf(i - 1) + " + (" + y + ") * " + std::to_string(op.in_w * op.in_c);
          const std::string local_y =
              buf(n_ext - 1) + " + (" + y + ") * " + std::to_string(op.in_w * m.split_k);
          return "      agilenn_pw_quant_sce_row_impl(&" + p + ", " + std::to_string(m.split_k) +
                 ", " + in_y + ", " + local_y + ", " + p + "_acc_threshold, " + index_of_pos +
                 ", " + std::to_string(m.quantizer.bits) + "u, &ce, &agilenn_sce, " + row + ", " +
                 up + ");\n";
        };
        // The ring: two slots of R zero bytes (the first pixel's left neighbours) + one row; the
        // slot the first row reads as "up" starts all zeros (missing neighbours are index 0).
        const size_t slot = row_bytes + remote_c;
        const std::string slot0 = "ring + " + std::to_string(remote_c);
        const std::string slot1 = "ring + " + std::to_string(remote_c + slot);
        // Coder 5: the skip mask and the fixed channels' values go first (a constant of the
        // model), the range stream after them; its capacity is what is left of the packed size.
        const std::vector<uint8_t> prefix = device_skip_prefix(m);
        if (prefix.size() >= packed)
          throw Error("generate_bundle: the context-skip prefix (" + std::to_string(prefix.size()) +
                      " B) is not smaller than packed bits (" + std::to_string(packed) + " B)");
        const size_t stream_capacity = packed - prefix.size();
        std::string begin =
            "    agilenn_sce_begin(&ce, packet + 24, " + std::to_string(packed) + "u);\n";
        if (!prefix.empty()) {
          decl << c_static_array("uint8_t", "agilenn_skip_prefix", prefix);
          begin = "    memcpy(packet + 24, agilenn_skip_prefix, " + std::to_string(prefix.size()) +
                  "u);\n    agilenn_sce_begin(&ce, packet + " + std::to_string(24 + prefix.size()) +
                  ", " + std::to_string(stream_capacity) + "u);\n";
        }
        R << "  {\n    uint8_t *const rows = " << rows
          << ";\n    uint16_t *const ring = (uint16_t *)rows;\n    uint8_t coder = "
          << unsigned(m.device_coder) << "u;\n"
          << "    size_t n;\n    int32_t y;\n    agilenn_ce_state ce;\n"
          << "    memset(rows, 0, " << 4 * slot << "u);\n"
          << begin << "    for (y = 0; y + 1 < " << op.out_h << "; y += 2) {\n"
          << code_row("y", slot0, slot1) << code_row("y + 1", slot1, slot0) << "    }\n"
          << (op.out_h % 2 ? code_row("y", slot0, slot1) : std::string())  // y = out_h - 1
          << "    n = agilenn_ce_end(&ce);\n"
          << "    if (n == 0 || n >= " << stream_capacity << "u) {\n"
          << "      agilenn_packed_state pk;\n      coder = 0u;\n"
          << "      agilenn_packed_begin(&pk, " << codec::index_bits(m.codec.alphabet)
          << "u, packet + 24);\n"
          << "      for (y = 0; y < " << op.out_h
          << "; ++y) {\n        uint8_t *const row = rows;\n  "
          << "  " << conv_row << "        agilenn_packed_put(&pk, row, " << row_bytes
          << "u);\n      }\n"
          << "      n = agilenn_packed_end(&pk);\n    }"
          << (prefix.empty()
                  ? std::string("\n")
                  : " else {\n      n += " + std::to_string(prefix.size()) + "u;\n    }\n")
          << "    *packet_len = agl_finish_packet(packet, coder, " << m.codec.fingerprint() << "u, "
          << m.feat_h << "u, " << m.feat_w << "u, " << remote_c << "u, " << m.split_k << "u, "
          << m.codec.alphabet << "u, n);\n  }\n";
      }
    }
    st.weight_bytes = wbytes;
    b.stages.push_back(st);
    wbytes = 0;
  }
  // Local head.
  StageInfo pool;
  pool.name = "local_head grid_avg_pool " + std::to_string(m.grid) + "x" + std::to_string(m.grid);
  pool.kind = "grid_avg_pool";
  pool.adds = int64_t(m.feat_h) * m.feat_w * m.split_k;
  pool.out_shape = shape3(m.grid, m.grid, m.split_k);
  b.stages.push_back(pool);
  R << "  AGILENN_MARK(" << n_ext << ");\n  agilenn_grid_avg_pool_impl(" << buf(n_ext - 1) << ", "
    << m.feat_h << ", " << m.feat_w << ", " << m.split_k << ", " << m.grid << ", " << buf(n_ext)
    << ");\n";
  auto dl = c_dense_layout(m.dense);
  W << c_array("int8_t", "agilenn_head_weight", dl.weight)
    << c_array("int32_t", "agilenn_head_bias", dl.bias);
  decl << "static const agilenn_dense_params agilenn_head = {" << m.dense.in << ", " << m.dense.out
       << ", agilenn_head_weight, agilenn_head_bias};\n";
  StageInfo dense;
  dense.name =
      "local_head dense " + std::to_string(m.dense.in) + "->" + std::to_string(m.dense.out);
  dense.kind = "dense";
  dense.macs = m.head_macs();
  dense.weight_bytes = dl.weight.size() + 4 * dl.bias.size() + 16;
  dense.out_shape = std::to_string(m.dense.out) + " int32";
  b.stages.push_back(dense);
  R << "  AGILENN_MARK(" << n_ext + 1 << ");\n  agilenn_dense_impl(&agilenn_head, " << buf(n_ext)
    << ", local_logits);\n  AGILENN_MARK(" << n_ext + 2 << ");\n";
  // The static context coder's model (codec coder 4): the cumulative frequency table and the
  // context offsets, fed row by row.
  const CContextOffsets co = c_static_context_offsets(cm);
  const std::vector<uint16_t> cdf = c_static_cdf(cm);
  W << c_array("uint16_t", "agilenn_codec_cdf", cdf)
    << c_array("uint16_t", "agilenn_sce_left_offset", co.left)
    << c_array("uint16_t", "agilenn_sce_up_offset", co.up)
    << c_array("uint16_t", "agilenn_sce_prev_offset", co.prev);
  // The group offsets next to agilenn_run: the unrolled channel loop folds them into its code.
  decl << c_static_array("uint16_t", "agilenn_sce_group_offset", co.group);
  // Coder 5: the channels the weights fix, next to agilenn_run too (the unrolled loop drops them).
  std::string skip_index = "NULL";
  if (m.device_coder == kDeviceSkipCoder) {
    std::vector<int8_t> skip;
    for (int v : device_constant_indices(m)) skip.push_back(int8_t(v < 0 ? -1 : v));
    decl << c_static_array("int8_t", "agilenn_sce_skip_index", skip);
    skip_index = "agilenn_sce_skip_index";
  } else if (m.device_coder != kDeviceCoder) {
    throw Error(std::string("generate_bundle: the device has no coder ") +
                codec::coder_name(m.device_coder));
  }
  decl << "static const agilenn_sce_model agilenn_sce = {" << remote_c << "u, " << m.feat_w
       << "u, agilenn_codec_cdf,\n  agilenn_sce_group_offset, agilenn_sce_left_offset, "
          "agilenn_sce_up_offset, agilenn_sce_prev_offset, "
       << cm.config().levels << "u, " << cm.alphabet() + 1 << "u, " << skip_index << ", "
       << c_static_left_shift(cm) << "u};\n";
  b.stages[n_ext - 1].weight_bytes +=
      2 * cdf.size() + 2 * (co.group.size() + 3 * co.left.size()) + 32;
  for (const auto& st : b.stages) b.weight_bytes += st.weight_bytes;

  g_array_decls = nullptr;
  const int n_stages = int(b.stages.size());
  std::ostringstream H;
  H << "/* Generated by agilenn export-mcu: the device part of AgileNN as int8 C99.\n"
       " * Input: "
    << m.in_h << "x" << m.in_w << "x" << m.in_c
    << " raw uint8 pixels, NHWC.\n"
       " * Output: local logits (int32, real value = AGILENN_LOCAL_LOGIT_SCALE * logit) and the\n"
       " * packet of remote features for the server. */\n"
       "#ifndef AGILENN_MODEL_H\n#define AGILENN_MODEL_H\n#include <stddef.h>\n#include "
       "<stdint.h>\n"
       "#ifdef __cplusplus\nextern \"C\" {\n#endif\n\n"
    << "#define AGILENN_INPUT_H " << m.in_h << "\n#define AGILENN_INPUT_W " << m.in_w
    << "\n#define AGILENN_INPUT_C " << m.in_c << "\n#define AGILENN_INPUT_BYTES " << b.input_bytes
    << "\n#define AGILENN_NUM_CLASSES " << m.num_classes << "\n#define AGILENN_PACKET_MAX_BYTES "
    << b.packet_max_bytes << "\n#define AGILENN_REMOTE_VALUES " << m.remote_values()
    << "\n#define AGILENN_INDEX_BITS " << m.quantizer.bits << "\n#define AGILENN_CODEC_FINGERPRINT "
    << m.codec.fingerprint() << "u\n#define AGILENN_ARENA_BYTES " << b.arena_bytes
    << "\n#define AGILENN_NUM_STAGES " << n_stages << "\n#define AGILENN_LOCAL_LOGIT_SCALE "
    << c_float(m.dense.logit_scale) << "\n\n"
    << "/* Runs the device part on one image. Writes AGILENN_NUM_CLASSES local logits and the "
       "packet\n"
       " * (at most AGILENN_PACKET_MAX_BYTES bytes; its length in *packet_len). Returns 0, or -1 "
       "if a\n"
       " * pointer is NULL. Not reentrant: one static arena of AGILENN_ARENA_BYTES bytes. */\n"
       "int agilenn_run(const uint8_t *image, int32_t *local_logits, uint8_t *packet, size_t "
       "*packet_len);\n\n"
       "/* The class the local predictor alone picks (the fallback when the server is "
       "unreachable). */\n"
       "int agilenn_local_argmax(const int32_t *local_logits);\n\n"
       "/* Combines the local logits with the remote logits the server returned:\n"
       " * argmax of alpha * AGILENN_LOCAL_LOGIT_SCALE * local + (1 - alpha) * remote (ties: "
       "lowest). */\n"
       "int agilenn_combine_argmax(const int32_t *local_logits, const float *remote_logits, float "
       "alpha);\n\n"
       "#ifdef __cplusplus\n}\n#endif\n#endif\n";
  b.files["agilenn_model.h"] = H.str();
  b.files["agilenn_kernels.h"] = embedded_c_source("agilenn_kernels.h");
  b.files["agilenn_codec.h"] = embedded_c_source("agilenn_codec.h");
  b.files["agilenn_weights.c"] = W.str();

  // Each stage (the code between two marks) in a function of its own, kept out of line: the
  // compiler then allocates registers per stage, not over the whole graph (measured: fewer
  // spills in the depthwise and pool loops).
  std::ostringstream stage_fns, run_body;
  {
    const std::string body = R.str();
    const std::string params =
        "(const uint8_t *image, int32_t *local_logits, uint8_t *packet, size_t *packet_len)";
    for (int s = 0; s <= n_stages; ++s) {
      const std::string mark = "  AGILENN_MARK(" + std::to_string(s) + ");\n";
      const size_t at = body.find(mark);
      if (at == std::string::npos) throw Error("generate_bundle: stage mark " + std::to_string(s));
      run_body << mark;
      if (s == n_stages) break;
      const size_t from = at + mark.size();
      const size_t to = body.find("  AGILENN_MARK(" + std::to_string(s + 1) + ");\n", from);
      if (to == std::string::npos)
        throw Error("generate_bundle: stage mark " + std::to_string(s + 1));
      stage_fns
          << "AGILENN_STAGE void agilenn_stage_" << s << params
          << " {\n  (void)image;\n  (void)local_logits;\n  (void)packet;\n  (void)packet_len;\n"
          << body.substr(from, to - from) << "}\n\n";
      run_body << "  agilenn_stage_" << s << "(image, local_logits, packet, packet_len);\n";
    }
  }

  std::ostringstream M;
  M << "/* Generated by agilenn export-mcu: kernels (see agilenn_kernels.h) and agilenn_run. */\n"
       "#include \"agilenn_model.h\"\n#include \"agilenn_kernels.h\"\n\n"
    << embedded_c_source("agilenn_kernels.c")
    << "\n/* ---- CRC-32 and the packet header: codec/c/agilenn_codec.c, verbatim ---- */\n"
    << embedded_c_source("agilenn_codec.c") << "\n/* ---- the device graph ---- */\n"
    << array_decls.str() << "\n"
    << decl.str() << "\n/* Arena (" << b.arena_bytes << " bytes):";
  for (const auto& pb : b.buffers)
    M << "\n *   " << pb.name << ": offset " << pb.offset << ", " << pb.size << " bytes, live ops "
      << pb.first_op << ".." << pb.last_op;
  M << " */\nstatic union {\n  uint32_t align;\n  uint8_t bytes[" << b.arena_bytes
    << "];\n} agilenn_arena;\n\n"
       "#ifdef AGILENN_PROFILE\n/* Called at the start of each stage and once at the end (stage "
    << n_stages
    << "). */\nvoid agilenn_profile_mark(int stage);\n#define AGILENN_MARK(s) "
       "agilenn_profile_mark(s)\n#else\n#define AGILENN_MARK(s) ((void)0)\n#endif\n\n"
       "/* One function per stage, out of line (registers allocated per stage). */\n"
       "#if defined(__GNUC__)\n#define AGILENN_STAGE static __attribute__((noinline))\n#else\n"
       "#define AGILENN_STAGE static\n#endif\n\n"
    << stage_fns.str()
    << "int agilenn_run(const uint8_t *image, int32_t *local_logits, uint8_t *packet, size_t "
       "*packet_len) {\n"
       "  if (!image || !local_logits || !packet || !packet_len) return -1;\n"
    << run_body.str() << "  return 0;\n}\n\n"
    << "int agilenn_local_argmax(const int32_t *local_logits) {\n"
       "  int i, best = 0;\n"
       "  for (i = 1; i < AGILENN_NUM_CLASSES; ++i)\n"
       "    if (local_logits[i] > local_logits[best]) best = i;\n"
       "  return best;\n}\n\n"
       "int agilenn_combine_argmax(const int32_t *local_logits, const float *remote_logits, float "
       "alpha) {\n"
       "  int i, best = 0;\n  float best_v = 0.0f;\n"
       "  for (i = 0; i < AGILENN_NUM_CLASSES; ++i) {\n"
       "    float v = alpha * AGILENN_LOCAL_LOGIT_SCALE * (float)local_logits[i] + (1.0f - alpha) "
       "* remote_logits[i];\n"
       "    if (i == 0 || v > best_v) {\n      best = i;\n      best_v = v;\n    }\n  }\n  return "
       "best;\n}\n";
  b.files["agilenn_model.c"] = M.str();

  std::ostringstream D;
  D << "# agilenn device bundle\n\n"
       "Generated by `agilenn export-mcu`. Plain C99, no malloc, no float in `agilenn_run`, one "
       "static\n"
       "arena of "
    << b.arena_bytes << " bytes, " << b.weight_bytes
    << " bytes of const weights and parameters.\n\n"
       "## Files\n"
       "- `agilenn_model.h`: the API (`agilenn_run`, `agilenn_local_argmax`, "
       "`agilenn_combine_argmax`).\n"
       "- `agilenn_model.c`: int8 kernels and `agilenn_run`.\n"
       "- `agilenn_kernels.h`: kernel parameter structs (used by the two .c files).\n"
       "- `agilenn_codec.h`: declarations of the codec's packet helpers (CRC-32, header) that "
       "`agilenn_model.c` carries.\n"
       "- `agilenn_weights.c`: `const` weights (the linker places them in flash).\n"
       "- `memory.json`: flash, arena, stack estimate, MACs per stage.\n\n"
       "## Adding it to an STM32CubeIDE project\n"
       "1. Copy the folder into the project (e.g. `Core/agilenn/`); right-click it, *Add/remove "
       "include\n"
       "   path...* so `agilenn_model.h` is found, and make sure it is not excluded from the "
       "build.\n"
       "2. Build with optimisation (`-O2`; *Properties > C/C++ Build > Settings > MCU GCC Compiler "
       ">\n"
       "   Optimization*). On a Cortex-M4/M7 the compiler defines `__ARM_FEATURE_DSP` and the "
       "kernels use\n"
       "   SMLAD/SXTB16 through `<arm_acle.h>`; define `AGILENN_PORTABLE` to force the plain C "
       "path (the\n"
       "   results are identical).\n"
       "3. Call it:\n\n"
       "```c\n#include \"agilenn_model.h\"\n"
       "static int32_t logits[AGILENN_NUM_CLASSES];\nstatic uint8_t "
       "packet[AGILENN_PACKET_MAX_BYTES];\n"
       "size_t packet_len;\n"
       "agilenn_run(image /* "
    << m.in_h << "x" << m.in_w << "x" << m.in_c
    << " uint8, row-major, channels last */, logits, packet, &packet_len);\n"
       "/* send packet[0..packet_len) to the server; if no answer comes back: */\n"
       "int cls = agilenn_local_argmax(logits);\n"
       "/* when the server's remote logits (float[AGILENN_NUM_CLASSES]) arrive: */\n"
       "cls = agilenn_combine_argmax(logits, remote_logits, alpha);\n```\n\n"
       "## What the numbers mean\n"
       "- Pixels are fed raw: the input normalisation is folded into the first layer (its weights "
       "carry\n"
       "  1/(255*std) per channel and its input offset is -round(255*mean)).\n"
       "- Local logits are int32; the real logit is `AGILENN_LOCAL_LOGIT_SCALE * logit`.\n"
       "- The packet is the codec's packet (24-byte header with the tables' "
       "fingerprint "
    << m.codec.fingerprint() << ", CRC-32) of the " << m.remote_values()
    << " remote centroid indices (pixel-major, channel-minor), coded with the static context "
       "coder\n  under the model's fitted tables (coder 4, packet version 2) or as packed bits "
       "(coder 0,\n  version 1) when that is not larger; the server decodes it with "
       "`codec::decode_packet` and the\n  same tables.\n"
       "- Requantization is TFLite Micro / CMSIS-NN's, double-rounding variant (gemmlowp).\n"
       "- `agilenn_run` uses a static arena and is not reentrant: call it from one thread.\n";
  b.files["README.md"] = D.str();
  return b;
}

void write_bundle(const Bundle& bundle, const std::string& dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) throw error_at(dir, "cannot create directory: " + ec.message());
  for (const auto& [name, text] : bundle.files) write_file_atomic(dir + "/" + name, text);
}

}  // namespace agilenn::mcu
