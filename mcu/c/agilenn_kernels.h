/* agilenn int8 kernels for the device part (C99, no malloc, no float).
 * Arithmetic: TFLite Micro / CMSIS-NN int8 with the gemmlowp "double rounding" requantization
 * (SaturatingRoundingDoublingHighMul, then RoundingDivideByPOT). Layouts are NHWC.
 * With __ARM_FEATURE_DSP the dot products use SXTB16 + SMLAD (ACLE <arm_acle.h>); otherwise a
 * portable C loop; both give identical results (all sums are exact in int32).
 * Define AGILENN_PORTABLE to force the portable path. The generated agilenn_run uses the inline
 * bodies; the per-kernel entry points below other than the coder's begin/end and the packed-bits
 * helpers are defined only with AGILENN_KERNEL_ENTRY_POINTS (the host tests). */
#ifndef AGILENN_KERNELS_H
#define AGILENN_KERNELS_H
#include <stddef.h>
#include <stdint.h>

#ifndef AGILENN_KERNEL
#define AGILENN_KERNEL
#endif

/* Depthwise conv, 'same' output size, zero padding (padded taps contribute exactly 0). */
typedef struct {
  int32_t in_h, in_w, in_c, mult, out_h, out_w, kh, kw, stride, pad_top, pad_left;
  const int16_t *input_offset; /* (in_c): -input zero point per channel */
  const int8_t *weight;        /* (kh, kw, in_c * mult) */
  const int32_t *bias;         /* (in_c * mult) */
  const int32_t *multiplier;   /* (in_c * mult) Q31 */
  const int32_t *shift;        /* (in_c * mult) */
  int32_t output_offset, act_min, act_max;
  /* (in_c * mult): bias + input offset * sum of the channel's kh*kw weights, the bias of a window
   * with every tap inside the input (the kernel then adds no offsets). NULL: no fast path. */
  const int32_t *bias_interior;
  /* NULL, or (in_c / 4, kh * kw, 2) for the DSP path (mult 1, in_c % 4 == 0): per 4 channels
   * c..c+3 and tap, the weights of channels (c, c+2) and (c+1, c+3) as int16 halfword pairs,
   * doubled when small_acc (the kernel then starts from 2 * bias_interior: sums of 2 * acc). */
  const int32_t *weight_pairs;
  /* 1: every |accumulator| * 2^max(shift, 0) < 2^30 (c_acc_fits_small): agilenn_requantize_small
   * gives the same values in fewer instructions. */
  int32_t small_acc;
} agilenn_dw_params;

/* Pointwise (1x1) conv; the input offset is folded into the bias: bias[o] = b[o] + off*sum(w[o]). */
typedef struct {
  int32_t pixels, in_c, out_c;
  const int8_t *weight;      /* (out_c, in_c) */
  const int32_t *bias;       /* (out_c), input offset folded in */
  const int32_t *multiplier; /* (out_c) */
  const int32_t *shift;      /* (out_c) */
  int32_t output_offset, act_min, act_max;
  int32_t small_acc; /* as agilenn_dw_params.small_acc */
  /* NULL, or (out_c, 2) for in_c == 4 on the DSP path: per output channel its weights as int16
   * halfword pairs (w0 | w2 << 16, w1 | w3 << 16), SXTB16 of the row done by the generator; in
   * the fused last conv with small_acc the k local channels' weights are doubled. For in_c == 3
   * (a conv feeding the extractor, not fused) w3 = 0 and all channels doubled when small_acc. */
  const int32_t *weight_pairs;
} agilenn_pw_params;

/* Dense to int32 logits; bias has the input offset folded in. */
typedef struct {
  int32_t in, out;
  const int8_t *weight; /* (out, in) */
  const int32_t *bias;  /* (out) */
} agilenn_dense_params;

/* Nearest-centroid quantizer on int8 values: pos = #{j : q >= thresholds[j]}. */
typedef struct {
  int32_t num_thresholds;
  const int16_t *thresholds;    /* (num_thresholds) ascending */
  const uint8_t *index_of_pos;  /* (num_thresholds + 1) */
  const uint8_t *index_of_value; /* (256): index of int8 value v at [v + 128], expanded from the
                                    thresholds by the generator (the fused kernel's lookup) */
} agilenn_quantizer;


/* The codec's static context coder (coder 4, codec::ContextModel::encode_static), fed one row of
 * the index map at a time, so only two rows (the current one and the one above, the "up"
 * neighbours) are ever stored. Per context C + 1 cumulative frequencies summing to 2^12, in flash.
 * Context offsets into that table (L levels, G groups, stride C + 1, left stride padded to
 * 2^left_shift L (C + 1)): group[r] = (r G / R) L 2^left_shift L (C + 1); left/up/prev[v] =
 * min(v, L-1) * (2^left_shift L, L, 1) * (C + 1) (c_static_cdf, c_static_context_offsets). */
typedef struct {
  uint32_t channels; /* R, indices per pixel */
  uint32_t width;    /* pixels per row */
  const uint16_t *cdf;
  const uint16_t *group_offset, *left_offset, *up_offset, *prev_offset;
  uint32_t levels; /* L */
  uint32_t stride; /* C + 1: prev_offset[v] = min(v, L - 1) * stride, up_offset[v] = L times that
                      (the fused kernel computes them: constants for L = 2 and v != 0) */
  const int8_t *skip_index; /* (R) or NULL: coder 5 (context-skip) skips channel r when
                               skip_index[r] >= 0, its index everywhere (the fused kernel neither
                               computes nor codes it); -1: coded */
  uint32_t left_shift; /* left_offset[v] = up_offset[v] << left_shift (the fused kernel's offset
                          ring holds up offsets) */
} agilenn_sce_model;

typedef struct {
  uint32_t low, carry, range; /* 33-bit low = carry:low (low + range <= 2^33) */
  uint32_t overflow;          /* a byte did not fit in out[0, capacity) */
  uint8_t *out;
  size_t pos, capacity;
} agilenn_ce_state;

/* Packed bits (codec coder 0), MSB first, fed row by row (agl_packed_encode's bytes). */
typedef struct {
  uint32_t acc, fill, bits;
  uint8_t *out;
  size_t pos;
} agilenn_packed_state;

AGILENN_KERNEL int32_t agilenn_requantize(int32_t acc, int32_t multiplier, int32_t shift);
/* The same value for |acc| * 2^max(shift, 0) < 2^30 (SMMULR and a three-op rounding shift). */
AGILENN_KERNEL int32_t agilenn_requantize_small(int32_t acc, int32_t multiplier, int32_t shift);

/* in (in_h, in_w, in_c) uint8 pixels (first layer) or int8 -> out (out_h, out_w, in_c*mult) */
AGILENN_KERNEL void agilenn_dwconv_u8(const agilenn_dw_params *p, const uint8_t *in, int8_t *out);
AGILENN_KERNEL void agilenn_dwconv_s8(const agilenn_dw_params *p, const int8_t *in, int8_t *out);
/* in (pixels, in_c) -> out (pixels, out_c) */
AGILENN_KERNEL void agilenn_pwconv(const agilenn_pw_params *p, const int8_t *in, int8_t *out);
/* The extractor's last layer fused with the split and the quantizer: in (pixels, in_c); channels
 * [0, k) go to local (pixels, k), channels [k, out_c) become centroid indices (pixels, out_c - k),
 * the map the codec's context encoder reads (the int8 values are never stored). */
AGILENN_KERNEL void agilenn_pwconv_split(const agilenn_pw_params *p, int32_t k, const int8_t *in,
                                         int8_t *local, const agilenn_quantizer *q,
                                         uint8_t *indices);
/* Static context coder: begin (output to out[0, capacity)), one call per row of `width` pixels
 * (row[-R .. -1] must be zeros and up the previous row, all zeros for the first: missing
 * neighbours count as index 0), end returns the payload size or 0 if it would exceed `capacity`
 * (send packed bits then). */
AGILENN_KERNEL size_t agilenn_ce_end(agilenn_ce_state *s);
AGILENN_KERNEL void agilenn_sce_begin(agilenn_ce_state *s, uint8_t *out, size_t capacity);
AGILENN_KERNEL void agilenn_sce_row(agilenn_ce_state *s, const agilenn_sce_model *m,
                                    const uint8_t *row, const uint8_t *up);
AGILENN_KERNEL void agilenn_packed_begin(agilenn_packed_state *s, uint32_t bits, uint8_t *out);
AGILENN_KERNEL void agilenn_packed_put(agilenn_packed_state *s, const uint8_t *indices, size_t n);
AGILENN_KERNEL size_t agilenn_packed_end(agilenn_packed_state *s);
/* 1x1 conv with one input channel by table lookup: in (pixels) -> out (pixels, out_c) =
 * table[(in + 128) * out_c + c], the requantized outputs for all 256 inputs (c_pointwise_lut). */
AGILENN_KERNEL void agilenn_pw1_lut(int32_t pixels, int32_t out_c, const int8_t *table,
                                    const int8_t *in, int8_t *out);
/* agilenn_pwconv_split + agilenn_sce_row fused for one row of p->pixels pixels, the quantizer on
 * the accumulator: acc_threshold (R, 2^bits), bias folded in (c_accumulator_thresholds), positions
 * mapped to indices by index_of_pos (NULL: identity); bits: the quantizer's tree depth. The
 * neighbours come from a ring of context offsets instead of indices: row (pixels, R) receives
 * up_offset[v] of every coded index v, row[-R .. -1] must be zeros, up is the previous row's
 * (all zeros for the first); the left neighbour's offset is its entry << left_shift. */
AGILENN_KERNEL void agilenn_pw_quant_sce_row(const agilenn_pw_params *p, int32_t k,
                                             const int8_t *in, int8_t *local,
                                             const int32_t *acc_threshold,
                                             const uint8_t *index_of_pos, uint32_t bits,
                                             agilenn_ce_state *s, const agilenn_sce_model *m,
                                             uint16_t *row, const uint16_t *up);
/* Fills the border of a padded (hp, wp, c) buffer around its (h, w) interior at (top, left) with
 * the c bytes of `pixel` (a depthwise conv then reads it with no padding of its own). */
AGILENN_KERNEL void agilenn_fill_border(int8_t *buf, int32_t hp, int32_t wp, int32_t c, int32_t top,
                                        int32_t left, int32_t h, int32_t w, const int8_t *pixel);
/* in (h, w, c) -> out (g, g, c), cells as adaptive_avg_pool2d, TFLite Micro rounding. */
AGILENN_KERNEL void agilenn_grid_avg_pool(const int8_t *in, int32_t h, int32_t w, int32_t c,
                                          int32_t g, int8_t *out);
/* Planar padded buffers (a depthwise 3x3 stride-1 conv fed by a pointwise conv): c planes of
 * (hp, wp) bytes, channel ch at buf + ch * hp * wp. The producer writes out[px * px_stride +
 * o * ch_stride] (planar: (1, hp * wp)); the depthwise reads the planes (p: the padded shape, no
 * padding, bias_interior set) and writes (out_h, out_w, in_c). */
AGILENN_KERNEL void agilenn_pwconv_strided(const agilenn_pw_params* p, const int8_t* in,
                                           int8_t* out, int32_t px_stride, int32_t ch_stride);
AGILENN_KERNEL void agilenn_pw1_lut_planar(int32_t pixels, int32_t out_c, const int8_t* table,
                                           const int8_t* in, int8_t* out, int32_t plane);
AGILENN_KERNEL void agilenn_fill_border_planar(int8_t* buf, int32_t hp, int32_t wp, int32_t c,
                                               int32_t top, int32_t left, int32_t h, int32_t w,
                                               const int8_t* pixel);
AGILENN_KERNEL void agilenn_dwconv_s8_planar(const agilenn_dw_params* p, const int8_t* in,
                                             int8_t* out);
/* in (in) -> out (out) int32 */
AGILENN_KERNEL void agilenn_dense(const agilenn_dense_params *p, const int8_t *in, int32_t *out);
AGILENN_KERNEL uint32_t agilenn_quantize_index(const agilenn_quantizer *q, int32_t v);

#endif
