/* agilenn int8 kernels: see agilenn_kernels.h. Shapes are in one-line comments above each loop. */
#ifndef AGILENN_KERNELS_H
#include "agilenn_kernels.h"
#endif
#include <string.h>

#if defined(__ARM_FEATURE_DSP) && !defined(AGILENN_PORTABLE)
#include <arm_acle.h>
#define AGILENN_USE_DSP 1
#else
#define AGILENN_USE_DSP 0
#endif

#if AGILENN_USE_DSP
/* SXTB16 of w rotated right by 8 (bytes 1 and 3 sign-extended to halfwords): the instruction's own
 * rotation, one instruction where ROR + SXTB16 take two. */
static inline int32_t agilenn_sxtb16_ror8(uint32_t w) {
#if defined(__GNUC__)
  int32_t r;
  __asm__("sxtb16 %0, %1, ror #8" : "=r"(r) : "r"(w));
  return r;
#else
  return __sxtb16((int32_t)((w >> 8) | (w << 24)));
#endif
}
#endif

/* Each kernel is an always-inline body (agilenn_*_impl) plus an external wrapper. The generated
 * agilenn_run calls the bodies with parameter structs that are static const in the same
 * translation unit, so the compiler specialises every layer to its constant shapes. */
#if defined(__GNUC__)
#define AGILENN_ALWAYS_INLINE static inline __attribute__((always_inline))
#else
#define AGILENN_ALWAYS_INLINE static inline
#endif
/* A branch the compiler should lay out as the fall-through path. */
#if defined(__GNUC__)
#define AGILENN_LIKELY(x) __builtin_expect(!!(x), 1)
#else
#define AGILENN_LIKELY(x) (x)
#endif
/* Complete unrolling of short constant-count loops (GCC does not at -O2 otherwise). */
#if defined(__GNUC__) && !defined(__clang__)
#define AGILENN_UNROLL _Pragma("GCC unroll 8")
#define AGILENN_UNROLL_ALL _Pragma("GCC unroll 64")
#else
#define AGILENN_UNROLL
#define AGILENN_UNROLL_ALL
#endif

/* SaturatingRoundingDoublingHighMul for a multiplier b >= 0 (what quantize_multiplier produces, so
 * the saturating case a = b = INT32_MIN cannot occur): gemmlowp's nudge-and-truncate equals
 * floor((a*b + 2^30) / 2^31) for both signs, computed with an arithmetic shift (SMLAL + 2 ops on
 * Cortex-M; C99 leaves >> of a negative value implementation-defined, gcc/clang/armclang shift
 * arithmetically). */
static inline int32_t agilenn_srdhm(int32_t a, int32_t b) {
  return (int32_t)(((int64_t)a * (int64_t)b + ((int64_t)1 << 30)) >> 31);
}

/* x / 2^e rounded half away from zero, e in [0, 31] (gemmlowp RoundingDivideByPOT). */
static inline int32_t agilenn_rdbpot(int32_t x, int32_t e) {
  const int32_t mask = (int32_t)(((int64_t)1 << e) - 1);
  const int32_t remainder = x & mask;
  const int32_t threshold = (mask >> 1) + (x < 0 ? 1 : 0);
  return (x >> e) + (remainder > threshold ? 1 : 0);
}

/* Double-rounding requantization (TFLite Micro MultiplyByQuantizedMultiplier); a left shift
 * saturates to int32. */
static inline int32_t agilenn_requantize_inline(int32_t acc, int32_t multiplier, int32_t shift) {
  if (shift > 0) {
    int64_t s = (int64_t)acc * ((int64_t)1 << shift);
    if (s > INT32_MAX) s = INT32_MAX;
    if (s < INT32_MIN) s = INT32_MIN;
    return agilenn_srdhm((int32_t)s, multiplier);
  }
  return agilenn_rdbpot(agilenn_srdhm(acc, multiplier), -shift);
}

/* floor((a*b + 2^31) / 2^32): SMMULR. With a = 2x (|x| < 2^30) it is SRDHM(x, b) exactly:
 * floor((2xb + 2^31) / 2^32) = floor((xb + 2^30) / 2^31). */
static inline int32_t agilenn_smmulr(int32_t a, int32_t b) {
#if AGILENN_USE_DSP && defined(__GNUC__)
  int32_t r;
  __asm__("smmulr %0, %1, %2" : "=r"(r) : "r"(a), "r"(b));
  return r;
#else
  return (int32_t)(((int64_t)a * (int64_t)b + ((int64_t)1 << 31)) >> 32);
#endif
}

/* agilenn_requantize_inline for |acc| * 2^max(shift, 0) < 2^30 (the generator proves the bound per
 * layer, c_acc_fits_small): the doubled, shifted accumulator fits int32 and needs no saturation,
 * SRDHM is one SMMULR, and with |x| < 2^30 RDBPOT's round half away from zero is
 * (x + 2^(e-1) - [x < 0]) >> e: the remainder test rem > 2^(e-1) - 1 + [x < 0] carries exactly
 * when rem + 2^(e-1) - [x < 0] >= 2^e. */
static inline int32_t agilenn_requantize_small_inline(int32_t acc, int32_t multiplier,
                                                      int32_t shift) {
  const int32_t x =
      agilenn_smmulr((int32_t)((uint32_t)acc << (shift > 0 ? shift + 1 : 1)), multiplier);
  if (shift >= 0) return x;
  return (x + (int32_t)(1u << (-shift - 1)) - (int32_t)((uint32_t)x >> 31)) >> -shift;
}

/* The layer's requantization: small (a constant of the layer's static const parameters) selects
 * the short form; the compiler keeps one of the two. */
static inline int32_t agilenn_requantize_sel(int32_t acc, int32_t multiplier, int32_t shift,
                                             int32_t small) {
  return small ? agilenn_requantize_small_inline(acc, multiplier, shift)
               : agilenn_requantize_inline(acc, multiplier, shift);
}

/* agilenn_requantize_sel(acc, ...) + off. In the short form with a right shift e <= 22 the offset
 * joins the rounding constant: (x + 2^(e-1) + off * 2^e - [x < 0]) >> e is the rounded quotient
 * plus off exactly (the arithmetic shift is floor division and off * 2^e a multiple of 2^e;
 * |x| <= |acc| < 2^30 and |off| <= 255 keep the sum inside int32). One add fewer per value. */
static inline int32_t agilenn_requantize_off(int32_t acc, int32_t multiplier, int32_t shift,
                                             int32_t small, int32_t off) {
  if (small && shift < 0 && shift >= -22 && off >= -255 && off <= 255) {
    const int32_t x = agilenn_smmulr((int32_t)((uint32_t)acc << 1), multiplier);
    return (x + (int32_t)(1u << (-shift - 1)) + off * (int32_t)(1u << -shift) -
            (int32_t)((uint32_t)x >> 31)) >>
           -shift;
  }
  return agilenn_requantize_sel(acc, multiplier, shift, small) + off;
}

/* agilenn_requantize_off(acc, ..., small = 1, off) given acc2 = 2 * acc: the DSP paths of small
 * layers accumulate with doubled weight pairs and bias (c_depthwise_weight_pairs,
 * c_pointwise_weight_pairs), so the short form's doubling before SMMULR is already done. */
static inline int32_t agilenn_requantize_off2(int32_t acc2, int32_t multiplier, int32_t shift,
                                              int32_t off) {
  const int32_t x =
      agilenn_smmulr(shift > 0 ? (int32_t)((uint32_t)acc2 << shift) : acc2, multiplier);
  if (shift >= 0) return x + off;
  if (shift >= -22 && off >= -255 && off <= 255)
    return (x + (int32_t)(1u << (-shift - 1)) + off * (int32_t)(1u << -shift) -
            (int32_t)((uint32_t)x >> 31)) >>
           -shift;
  return ((x + (int32_t)(1u << (-shift - 1)) - (int32_t)((uint32_t)x >> 31)) >> -shift) + off;
}

#ifdef AGILENN_KERNEL_ENTRY_POINTS
AGILENN_KERNEL int32_t agilenn_requantize(int32_t acc, int32_t multiplier, int32_t shift) {
  return agilenn_requantize_inline(acc, multiplier, shift);
}

AGILENN_KERNEL int32_t agilenn_requantize_small(int32_t acc, int32_t multiplier, int32_t shift) {
  return agilenn_requantize_small_inline(acc, multiplier, shift);
}
#endif

static inline int32_t agilenn_clamp(int32_t v, int32_t lo, int32_t hi) {
#if AGILENN_USE_DSP
  /* The full int8 range (ReLU6 with zero point -128, the usual case): one SSAT instead of two
   * compares and moves. lo and hi are constants of the layer, so the test folds. */
  if (lo == -128 && hi == 127) return __ssat(v, 8);
#endif
  return v < lo ? lo : (v > hi ? hi : v);
}

/* acc + sum_i a[i] * b[i] over n int8 pairs. The DSP path sign-extends bytes (0,2) and (1,3) of
 * both words with SXTB16 and multiplies the matching halfword pairs with SMLAD: the same set of
 * products, so the same exact int32 sum. */
static inline int32_t agilenn_dot_s8(const int8_t* a, const int8_t* b, int32_t n, int32_t acc) {
#if AGILENN_USE_DSP
  while (n >= 4) {
    uint32_t wa, wb;
    memcpy(&wa, a, 4);
    memcpy(&wb, b, 4);
    acc = __smlad(__sxtb16((int32_t)wa), __sxtb16((int32_t)wb), acc);
    acc = __smlad(agilenn_sxtb16_ror8(wa), agilenn_sxtb16_ror8(wb), acc);
    a += 4;
    b += 4;
    n -= 4;
  }
#endif
  while (n > 0) {
    acc += (int32_t)*a++ * (int32_t)*b++;
    --n;
  }
  return acc;
}

#if AGILENN_USE_DSP
/* x02, x13: SXTB16 of a word of 4 int8 inputs and of it rotated by 8; w: 4 int8 weights. */
static inline int32_t agilenn_dot4_dsp(int32_t x02, int32_t x13, const int8_t* w) {
  uint32_t ww;
  memcpy(&ww, w, 4);
  return __smlad(x13, agilenn_sxtb16_ror8(ww), __smuad(x02, __sxtb16((int32_t)ww)));
}
#endif

/* ---- the context coder, row by row (see agilenn_kernels.h) ---- */
/* The range coder's byte output. LZMA's rc_shift_low holds each byte back (cache, cache_size)
 * until no carry can reach it; here every byte is written at once and a carry (the high word of
 * carry:low, at most 1) is added into the bytes already written, back over 0xFF bytes: the same
 * number, so the same bytes (rare: only when the 33-bit low overflows). LZMA's always-zero first
 * byte is not written, and no carry reaches it (low + range <= 2^32 at the start), so none
 * propagates past out[0]. A byte past the capacity sets overflow (the caller then sends packed
 * bits). Out of line (about once per output byte): carry:low in and out by value, in registers.
 * Returns the new carry:low, (low << 8) with carry 0. */
#if defined(__GNUC__)
__attribute__((noinline))
#endif
static uint64_t
agilenn_ce_shift(agilenn_ce_state* s, uint64_t lc) {
  const uint32_t low = (uint32_t)lc;
  const size_t pos = s->pos;
  uint8_t* const out = s->out;
  if ((uint32_t)(lc >> 32) != 0) {
    size_t j = pos;
    while (j > 0 && ++out[--j] == 0) {
    }
  }
  if (pos < s->capacity) {
    out[pos] = (uint8_t)(low >> 24);
    s->pos = pos + 1;
  } else {
    s->overflow = 1;
  }
  return (uint64_t)(low << 8);
}

AGILENN_KERNEL size_t agilenn_ce_end(agilenn_ce_state* s) {
  /* LZMA's flush (5 x rc_shift_low) writes the held-back bytes and low's 4 bytes: here the
   * held-back ones are out already. */
  uint64_t lc = ((uint64_t)s->carry << 32) | s->low;
  int i;
  for (i = 0; i < 4; ++i) lc = agilenn_ce_shift(s, lc);
  s->low = (uint32_t)lc;
  s->carry = 0;
  return s->overflow ? 0 : s->pos;
}

AGILENN_KERNEL void agilenn_sce_begin(agilenn_ce_state* s, uint8_t* out, size_t capacity) {
  s->low = 0;
  s->carry = 0;
  s->range = 0xFFFFFFFFu;
  s->overflow = 0;
  s->out = out;
  s->pos = 0;
  s->capacity = capacity;
}

/* The coder's 33-bit low as one 64-bit local, carry:low (LZMA's UInt64 low): adding
 * (range >> 12) * cum[0] is one UMLAL on Cortex-M, the carry lands in the high word (at most 1:
 * low + range <= 2^33). */
#define AGILENN_CE_LOAD(s) (((uint64_t)(s)->carry << 32) | (s)->low)
#define AGILENN_CE_STORE(s, lc)          \
  do {                                   \
    (s)->low = (uint32_t)(lc);           \
    (s)->carry = (uint32_t)((lc) >> 32); \
  } while (0)

/* range <<= 8 and a byte out while range < 2^24. */
AGILENN_ALWAYS_INLINE void agilenn_ce_normalize(agilenn_ce_state* s, uint64_t* lc,
                                                uint32_t* range) {
  while (*range < (1u << 24)) {
    *range <<= 8;
    *lc = agilenn_ce_shift(s, *lc);
  }
}

/* One coded index: its interval [cum[0], cum[1]) of 2^12 in its context's table, read as one
 * 32-bit word (two adjacent halfwords, little endian); low += (range >> 12) * cum[0],
 * range = (range >> 12) * freq. The caller keeps carry:low and range in locals (registers);
 * they go through the state only when a byte is shifted out. */
AGILENN_ALWAYS_INLINE void agilenn_sce_step(agilenn_ce_state* s, const uint16_t* cum, uint64_t* lc,
                                            uint32_t* range) {
  uint32_t lo_hi, step;
  memcpy(&lo_hi, cum, 4); /* cum[0] | cum[1] << 16 on a little-endian core */
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
  lo_hi = (lo_hi >> 16) | (lo_hi << 16);
#endif
  step = *range >> 12;
  *lc += (uint64_t)step * (lo_hi & 0xFFFFu);
  *range = step * ((lo_hi >> 16) - (lo_hi & 0xFFFFu));
  agilenn_ce_normalize(s, lc, range);
}

/* One row of indices, one agilenn_sce_step each. row (width, R) indices with R zero bytes before it
 * (the first pixel's left neighbours); up: the previous row, all zeros for the first. Neighbours as
 * agl_context_encode: left (x-1, r), up (y-1, x, r), prev (x, r-1); a missing one counts as
 * index 0, whose offsets are 0, so the zero pad and row give it without a branch. */
AGILENN_ALWAYS_INLINE void agilenn_sce_row_impl(agilenn_ce_state* s, const agilenn_sce_model* m,
                                                const uint8_t* row, const uint8_t* up) {
  const uint32_t R = m->channels, n = m->width * m->channels;
  const uint16_t* const cdf = m->cdf;
  const uint16_t *const group_offset = m->group_offset, *const left_offset = m->left_offset;
  const uint16_t *const up_offset = m->up_offset, *const prev_offset = m->prev_offset;
  const uint8_t* const left = row - R; /* left[i] = row[i - R], the pad for the first pixel */
  uint64_t lc = AGILENN_CE_LOAD(s);
  uint32_t range = s->range;
  const int8_t* const skip_index = m->skip_index;
  uint32_t i, r = 0, prev_off = 0;
  for (i = 0; i < n; ++i) {
    const uint32_t v = row[i];
    if (!skip_index || skip_index[r] < 0) { /* a skipped channel (coder 5) is not coded */
      const uint16_t* const cum =
          cdf + group_offset[r] + prev_off + left_offset[left[i]] + up_offset[up[i]] + v;
      agilenn_sce_step(s, cum, &lc, &range);
    }
    prev_off = prev_offset[v];
    if (++r == R) { /* next pixel: prev counts as index 0 again */
      r = 0;
      prev_off = 0;
    }
  }
  AGILENN_CE_STORE(s, lc);
  s->range = range;
}

#ifdef AGILENN_KERNEL_ENTRY_POINTS
AGILENN_KERNEL void agilenn_sce_row(agilenn_ce_state* s, const agilenn_sce_model* m,
                                    const uint8_t* row, const uint8_t* up) {
  agilenn_sce_row_impl(s, m, row, up);
}
#endif

AGILENN_KERNEL void agilenn_packed_begin(agilenn_packed_state* s, uint32_t bits, uint8_t* out) {
  s->acc = 0;
  s->fill = 0;
  s->bits = bits;
  s->out = out;
  s->pos = 0;
}

AGILENN_KERNEL void agilenn_packed_put(agilenn_packed_state* s, const uint8_t* indices, size_t n) {
  size_t i;
  for (i = 0; i < n; ++i) {
    s->acc = (s->acc << s->bits) | indices[i];
    s->fill += s->bits;
    while (s->fill >= 8) {
      s->fill -= 8;
      s->out[s->pos++] = (uint8_t)(s->acc >> s->fill);
    }
    s->acc &= (1u << s->fill) - 1u;
  }
}

AGILENN_KERNEL size_t agilenn_packed_end(agilenn_packed_state* s) {
  if (s->fill > 0) s->out[s->pos++] = (uint8_t)(s->acc << (8 - s->fill));
  s->fill = 0;
  return s->pos;
}

#ifdef AGILENN_KERNEL_ENTRY_POINTS
AGILENN_KERNEL uint32_t agilenn_quantize_index(const agilenn_quantizer* q, int32_t v) {
  int32_t j, pos = 0;
  for (j = 0; j < q->num_thresholds; ++j) pos += v >= q->thresholds[j] ? 1 : 0;
  return q->index_of_pos[pos];
}
#endif

/* in (in_h, in_w, in_c) -> out (out_h, out_w, in_c*mult); weight (kh, kw, in_c*mult).
 * The parameters are copied to locals first: stores through int8_t* may alias anything. */
#define AGILENN_DWCONV_BODY(IN_T)                                                              \
  const int32_t in_h = p->in_h, in_w = p->in_w, in_c = p->in_c, mult = p->mult;                \
  const int32_t out_h = p->out_h, out_w = p->out_w, kh = p->kh, kw = p->kw;                    \
  const int32_t stride = p->stride, pad_top = p->pad_top, pad_left = p->pad_left;              \
  const int32_t oc = in_c * mult, out_offset = p->output_offset;                               \
  const int32_t act_min = p->act_min, act_max = p->act_max, small = p->small_acc;              \
  const int16_t* const input_offset = p->input_offset;                                         \
  const int8_t* const weight = p->weight;                                                      \
  const int32_t *const bias = p->bias, *const qmult = p->multiplier, *const qshift = p->shift; \
  const int32_t* const bias_in = p->bias_interior;                                             \
  int32_t oy, ox, c, m, ky, kx;                                                                \
  for (oy = 0; oy < out_h; ++oy) {                                                             \
    const int32_t iy0 = oy * stride - pad_top;                                                 \
    const int32_t ky0 = iy0 < 0 ? -iy0 : 0;                                                    \
    const int32_t ky1 = iy0 + kh > in_h ? in_h - iy0 : kh;                                     \
    for (ox = 0; ox < out_w; ++ox) {                                                           \
      const int32_t ix0 = ox * stride - pad_left;                                              \
      const int32_t kx0 = ix0 < 0 ? -ix0 : 0;                                                  \
      const int32_t kx1 = ix0 + kw > in_w ? in_w - ix0 : kw;                                   \
      int8_t* y = out + ((size_t)oy * out_w + ox) * oc;                                        \
      if (bias_in && mult == 1 && kh == 3 && kw == 3 && ky0 == 0 && ky1 == 3 && kx0 == 0 &&    \
          kx1 == 3) {                                                                          \
        /* interior 3x3 window: nine explicit taps per channel, the offsets in bias_in */      \
        const IN_T* r0 = in + ((size_t)iy0 * in_w + ix0) * in_c;                               \
        const IN_T *r1 = r0 + (size_t)in_w * in_c, *r2 = r1 + (size_t)in_w * in_c;             \
        const int32_t s1 = in_c, s2 = 2 * in_c;                                                \
        AGILENN_UNROLL                                                                         \
        for (c = 0; c < in_c; ++c) {                                                           \
          const int8_t* w = weight + c;                                                        \
          int32_t acc = bias_in[c];                                                            \
          acc += (int32_t)r0[c] * w[0] + (int32_t)r0[c + s1] * w[oc] +                         \
                 (int32_t)r0[c + s2] * w[2 * oc];                                              \
          acc += (int32_t)r1[c] * w[3 * oc] + (int32_t)r1[c + s1] * w[4 * oc] +                \
                 (int32_t)r1[c + s2] * w[5 * oc];                                              \
          acc += (int32_t)r2[c] * w[6 * oc] + (int32_t)r2[c + s1] * w[7 * oc] +                \
                 (int32_t)r2[c + s2] * w[8 * oc];                                              \
          acc = agilenn_requantize_off(acc, qmult[c], qshift[c], small, out_offset);           \
          y[c] = (int8_t)agilenn_clamp(acc, act_min, act_max);                                 \
        }                                                                                      \
        continue;                                                                              \
      }                                                                                        \
      for (c = 0; c < in_c; ++c) {                                                             \
        const int32_t off = input_offset[c];                                                   \
        for (m = 0; m < mult; ++m) {                                                           \
          const int32_t o = c * mult + m;                                                      \
          int32_t acc = bias[o];                                                               \
          for (ky = ky0; ky < ky1; ++ky) {                                                     \
            const IN_T* x = in + ((size_t)(iy0 + ky) * in_w + ix0) * in_c + c;                 \
            const int8_t* w = weight + (size_t)ky * kw * oc + o;                               \
            for (kx = kx0; kx < kx1; ++kx)                                                     \
              acc += ((int32_t)x[kx * in_c] + off) * (int32_t)w[kx * oc];                      \
          }                                                                                    \
          acc = agilenn_requantize_off(acc, qmult[o], qshift[o], small, out_offset);           \
          y[o] = (int8_t)agilenn_clamp(acc, act_min, act_max);                                 \
        }                                                                                      \
      }                                                                                        \
    }                                                                                          \
  }

#if AGILENN_USE_DSP
/* UXTB16 of w rotated right by 8: bytes 1 and 3 zero-extended to halfwords. */
static inline int32_t agilenn_uxtb16_ror8(uint32_t w) {
#if defined(__GNUC__)
  int32_t r;
  __asm__("uxtb16 %0, %1, ror #8" : "=r"(r) : "r"(w));
  return r;
#else
  return (int32_t)__uxtb16((w >> 8) | (w << 24));
#endif
}

/* (o & 0xFFFF0000) | (e >> 16): PKHTB, the top halfword of o over the top halfword of e. */
static inline int32_t agilenn_pkhtb16(int32_t o, int32_t e) {
#if defined(__GNUC__)
  int32_t r;
  __asm__("pkhtb %0, %1, %2, asr #16" : "=r"(r) : "r"(o), "r"(e));
  return r;
#else
  return (int32_t)(((uint32_t)o & 0xFFFF0000u) | ((uint32_t)e >> 16));
#endif
}

/* One output pixel of a 3x3 depthwise conv on one uint8 channel, any window (taps outside the
 * input skipped, the input offset added per tap): the border pixels of agilenn_dwconv_u8_s2c1. */
AGILENN_ALWAYS_INLINE int32_t agilenn_dw_u8c1_border_acc(const agilenn_dw_params* p,
                                                         const uint8_t* in, int32_t iy0,
                                                         int32_t ix0) {
  const int32_t off = p->input_offset[0];
  int32_t acc = p->bias[0], ky, kx;
  for (ky = 0; ky < 3; ++ky) {
    if (iy0 + ky < 0 || iy0 + ky >= p->in_h) continue;
    for (kx = 0; kx < 3; ++kx) {
      if (ix0 + kx < 0 || ix0 + kx >= p->in_w) continue;
      acc += ((int32_t)in[(size_t)(iy0 + ky) * p->in_w + ix0 + kx] + off) * p->weight[ky * 3 + kx];
    }
  }
  return acc;
}

/* The pairs of agilenn_dwconv_u8_s2c1 on one output row, outputs [ox, hi) (hi - ox even) from r
 * (the window's top-left input of output ox): rows 3, or 2 when the window's third row lies below
 * the input (b then has its taps as padding). edge: one more pair (hi, hi + 1) whose second
 * output's window misses its third column (x4 past the row; b_edge has those taps as padding). */
AGILENN_ALWAYS_INLINE void agilenn_s2c1_pairs(const uint8_t* r, int32_t in_w, int8_t* y, int32_t ox,
                                              int32_t hi, int32_t rows, int edge, int32_t b,
                                              int32_t b_edge, const int32_t* w02,
                                              const int32_t* w01, const agilenn_dw_params* p) {
  const int32_t qm = p->multiplier[0], qs = p->shift[0], small = p->small_acc;
  const int32_t out_offset = p->output_offset, act_min = p->act_min, act_max = p->act_max;
  int32_t ky;
  for (; ox < hi + 2 * edge; ox += 2, r += 4) {
    const int last = edge && ox == hi; /* x4 lies past the row: B without its third column */
    int32_t a = b, bb = last ? b_edge : b;
    AGILENN_UNROLL
    for (ky = 0; ky < rows; ++ky) {
      const uint8_t* const rk = r + ky * in_w;
      uint32_t wx;
      int32_t e, o;
      memcpy(&wx, rk, 4);
      e = (int32_t)__uxtb16(wx);
      o = agilenn_uxtb16_ror8(wx);
      a = __smlad(e, w02[ky], a);
      a = __smlabt(o, w01[ky], a);
      bb = __smlad(agilenn_pkhtb16(o, e), w01[ky], bb);
      if (!last) bb = __smlabt((int32_t)rk[4], w02[ky], bb);
    }
    a = agilenn_requantize_off(a, qm, qs, small, out_offset);
    bb = agilenn_requantize_off(bb, qm, qs, small, out_offset);
    y[ox] = (int8_t)agilenn_clamp(a, act_min, act_max);
    y[ox + 1] = (int8_t)agilenn_clamp(bb, act_min, act_max);
  }
}

/* Depthwise 3x3, stride 2, one uint8 channel, mult 1 (the default extractor's first layer): two
 * output pixels per step along each row. A word of input bytes x0..x3 gives the UXTB16 pairs
 * (x0, x2) and (x1, x3); output A = (x0, x1, x2) . (w0, w1, w2) is SMLAD((x0, x2), (w0, w2)) +
 * x1 * w1 and output B = (x2, x3, x4) . w is SMLAD((x2, x3), (w0, w1)) + x4 * w2, with (x2, x3)
 * one PKHTB and w1, w2 the top halves of the two weight pairs (SMLABT). Pixels are <= 255, so
 * every halfword is a non-negative int16; all sums are the portable loop's exact int32 sums.
 * Windows reaching past the bottom or right edge by one row or column use the same pairs: a
 * padded tap contributes (x + off) w = 0, so leaving it out and starting from
 * bias_interior - off * (its weights) gives the same sum (the last output row with 2 rows; the
 * last interior pixel paired with a right-border pixel whose window misses its third column).
 * Other border pixels one tap at a time. in (in_h, in_w) -> out (out_h, out_w); weight (3, 3). */
AGILENN_ALWAYS_INLINE void agilenn_dwconv_u8_s2c1(const agilenn_dw_params* p, const uint8_t* in,
                                                  int8_t* out) {
  const int32_t in_h = p->in_h, in_w = p->in_w, out_h = p->out_h, out_w = p->out_w;
  const int32_t pad_top = p->pad_top, pad_left = p->pad_left;
  const int32_t out_offset = p->output_offset, act_min = p->act_min, act_max = p->act_max;
  const int32_t small = p->small_acc, qm = p->multiplier[0], qs = p->shift[0];
  const int32_t b_in = p->bias_interior[0], off = p->input_offset[0];
  const int8_t* const w = p->weight;
  /* interior columns: 0 <= 2 ox - pad_left and 2 ox - pad_left + 3 <= in_w */
  const int32_t ox_lo = (pad_left + 1) / 2, last = in_w - 3 + pad_left; /* 2 ox <= last */
  const int32_t ox_end = last < 0 ? 0 : last / 2 + 1;
  const int32_t ox_hi = ox_end < out_w ? (ox_end > ox_lo ? ox_end : ox_lo) : out_w;
  /* b_in without the taps of the third column / row / both (padding there) */
  const int32_t b_col = b_in - off * (w[2] + w[5] + w[8]),
                b_row = b_in - off * (w[6] + w[7] + w[8]);
  const int32_t b_both = b_row - off * (w[2] + w[5]);
  int32_t w02[3], w01[3], oy, ox, ky;
  for (ky = 0; ky < 3; ++ky) {
    const uint32_t w0 = (uint16_t)(int16_t)w[3 * ky], w1 = (uint16_t)(int16_t)w[3 * ky + 1];
    const uint32_t w2 = (uint16_t)(int16_t)w[3 * ky + 2];
    w02[ky] = (int32_t)(w0 | (w2 << 16));
    w01[ky] = (int32_t)(w0 | (w1 << 16));
  }
  for (oy = 0; oy < out_h; ++oy) {
    const int32_t iy0 = 2 * oy - pad_top;
    const int interior_row = iy0 >= 0 && iy0 + 3 <= in_h;
    const int bottom_row = iy0 >= 0 && iy0 + 2 == in_h; /* only the third row is padding */
    const int32_t lo = interior_row || bottom_row ? ox_lo : out_w;
    const int32_t hi = interior_row || bottom_row ? ox_hi : out_w;
    const uint8_t* r = in + (size_t)(iy0 < 0 ? 0 : iy0) * in_w + 2 * lo - pad_left;
    int8_t* const y = out + (size_t)oy * out_w;
    /* an odd interior run whose next output misses only its third column: one pair more */
    const int edge = ((hi - lo) & 1) && hi < out_w && 2 * hi - pad_left + 2 == in_w;
    const int32_t pairs_end = lo + ((hi - lo) & ~1);
    int32_t acc;
    for (ox = 0; ox < lo; ++ox) { /* left border (or the whole row) */
      acc = agilenn_requantize_off(agilenn_dw_u8c1_border_acc(p, in, iy0, 2 * ox - pad_left), qm,
                                   qs, small, out_offset);
      y[ox] = (int8_t)agilenn_clamp(acc, act_min, act_max);
    }
    if (interior_row)
      agilenn_s2c1_pairs(r, in_w, y, lo, pairs_end, 3, edge, b_in, b_col, w02, w01, p);
    else if (bottom_row)
      agilenn_s2c1_pairs(r, in_w, y, lo, pairs_end, 2, edge, b_row, b_both, w02, w01, p);
    ox = edge ? hi + 1 : pairs_end;
    r += 2 * (ox - lo);
    if (ox < hi) { /* one interior pixel left: bytes, not a word (x3 may lie past the input) */
      acc = interior_row ? b_in : b_row;
      AGILENN_UNROLL
      for (ky = 0; ky < 3; ++ky)
        if (ky < 2 || interior_row)
          acc += (int32_t)r[ky * in_w] * w[3 * ky] + (int32_t)r[ky * in_w + 1] * w[3 * ky + 1] +
                 (int32_t)r[ky * in_w + 2] * w[3 * ky + 2];
      acc = agilenn_requantize_off(acc, qm, qs, small, out_offset);
      y[ox] = (int8_t)agilenn_clamp(acc, act_min, act_max);
      ++ox;
    }
    for (; ox < out_w; ++ox) { /* right border */
      acc = agilenn_requantize_off(agilenn_dw_u8c1_border_acc(p, in, iy0, 2 * ox - pad_left), qm,
                                   qs, small, out_offset);
      y[ox] = (int8_t)agilenn_clamp(acc, act_min, act_max);
    }
  }
}
#endif

/* One output of a 3x3 depthwise conv (mult 1) on uint8 input channel c, any window: taps outside
 * the input skipped, the input offset added per tap (the border windows). */
AGILENN_ALWAYS_INLINE int32_t agilenn_dw_u8_border_acc(const agilenn_dw_params* p,
                                                       const uint8_t* in, int32_t c, int32_t iy0,
                                                       int32_t ix0) {
  const int32_t in_c = p->in_c, off = p->input_offset[c];
  int32_t acc = p->bias[c], ky, kx;
  for (ky = 0; ky < 3; ++ky) {
    if (iy0 + ky < 0 || iy0 + ky >= p->in_h) continue;
    for (kx = 0; kx < 3; ++kx) {
      if (ix0 + kx < 0 || ix0 + kx >= p->in_w) continue;
      acc += ((int32_t)in[((size_t)(iy0 + ky) * p->in_w + ix0 + kx) * in_c + c] + off) *
             p->weight[(ky * 3 + kx) * in_c + c];
    }
  }
  return acc;
}

/* Depthwise 3x3, mult 1, uint8 input (the first layer), any stride and padding: one channel at a
 * time, so its nine weights stay in registers over the whole map (channel-inner loops reload
 * them per pixel); interior windows (offsets in bias_interior) in a branch-free run per row,
 * border windows tap by tap. in (in_h, in_w, in_c) -> out (out_h, out_w, in_c). */
AGILENN_ALWAYS_INLINE void agilenn_dwconv_u8_by_channel(const agilenn_dw_params* p,
                                                        const uint8_t* in, int8_t* out) {
  const int32_t in_h = p->in_h, in_w = p->in_w, in_c = p->in_c, out_h = p->out_h, out_w = p->out_w;
  const int32_t stride = p->stride, pad_top = p->pad_top, pad_left = p->pad_left;
  const int32_t out_offset = p->output_offset, act_min = p->act_min, act_max = p->act_max;
  const int32_t small = p->small_acc;
  const int8_t* const weight = p->weight;
  /* interior columns: 0 <= ox stride - pad_left and ox stride - pad_left + 3 <= in_w */
  const int32_t ox_lo0 = (pad_left + stride - 1) / stride, last = in_w - 3 + pad_left;
  const int32_t ox_end = last < 0 ? 0 : last / stride + 1;
  const int32_t ox_lo = ox_lo0 < out_w ? ox_lo0 : out_w;
  const int32_t ox_hi = ox_end < out_w ? (ox_end > ox_lo ? ox_end : ox_lo) : out_w;
  const size_t row = (size_t)in_w * in_c;
  int32_t c, oy, ox;
  AGILENN_UNROLL /* in_c is small and constant: each channel's requantization folds */
  for (c = 0; c < in_c; ++c) {
    const int32_t w0 = weight[c], w1 = weight[in_c + c], w2 = weight[2 * in_c + c];
    const int32_t w3 = weight[3 * in_c + c], w4 = weight[4 * in_c + c], w5 = weight[5 * in_c + c];
    const int32_t w6 = weight[6 * in_c + c], w7 = weight[7 * in_c + c], w8 = weight[8 * in_c + c];
    const int32_t b_in = p->bias_interior[c], qm = p->multiplier[c], qs = p->shift[c];
    for (oy = 0; oy < out_h; ++oy) {
      const int32_t iy0 = oy * stride - pad_top;
      const int interior_row = iy0 >= 0 && iy0 + 3 <= in_h;
      const int32_t lo = interior_row ? ox_lo : out_w, hi = interior_row ? ox_hi : out_w;
      int8_t* const y = out + (size_t)oy * out_w * in_c + c;
      int32_t acc;
      for (ox = 0; ox < lo; ++ox) { /* left border (or the whole row) */
        acc =
            agilenn_requantize_off(agilenn_dw_u8_border_acc(p, in, c, iy0, ox * stride - pad_left),
                                   qm, qs, small, out_offset);
        y[(size_t)ox * in_c] = (int8_t)agilenn_clamp(acc, act_min, act_max);
      }
      if (lo < hi) {
        const uint8_t* r =
            in + ((size_t)(iy0 < 0 ? 0 : iy0) * in_w + lo * stride - pad_left) * in_c + c;
#if AGILENN_USE_DSP
        /* the weights as 5 halfword pairs for SMLABB / SMLABT: fewer registers than 9 */
        const int32_t w01 = (int32_t)((uint32_t)(uint16_t)w0 | ((uint32_t)w1 << 16));
        const int32_t w23 = (int32_t)((uint32_t)(uint16_t)w2 | ((uint32_t)w3 << 16));
        const int32_t w45 = (int32_t)((uint32_t)(uint16_t)w4 | ((uint32_t)w5 << 16));
        const int32_t w67 = (int32_t)((uint32_t)(uint16_t)w6 | ((uint32_t)w7 << 16));
        for (; ox < hi; ++ox, r += stride * in_c) {
          acc = __smlabb(r[0], w01, b_in);
          acc = __smlabt(r[in_c], w01, acc);
          acc = __smlabb(r[2 * in_c], w23, acc);
          acc = __smlabt(r[row], w23, acc);
          acc = __smlabb(r[row + in_c], w45, acc);
          acc = __smlabt(r[row + 2 * in_c], w45, acc);
          acc = __smlabb(r[2 * row], w67, acc);
          acc = __smlabt(r[2 * row + in_c], w67, acc);
          acc += r[2 * row + 2 * in_c] * w8;
#else
        for (; ox < hi; ++ox, r += stride * in_c) {
          acc = b_in + r[0] * w0 + r[in_c] * w1 + r[2 * in_c] * w2;
          acc += r[row] * w3 + r[row + in_c] * w4 + r[row + 2 * in_c] * w5;
          acc += r[2 * row] * w6 + r[2 * row + in_c] * w7 + r[2 * row + 2 * in_c] * w8;
#endif
          acc = agilenn_requantize_off(acc, qm, qs, small, out_offset);
          y[(size_t)ox * in_c] = (int8_t)agilenn_clamp(acc, act_min, act_max);
        }
      }
      for (; ox < out_w; ++ox) { /* right border */
        acc =
            agilenn_requantize_off(agilenn_dw_u8_border_acc(p, in, c, iy0, ox * stride - pad_left),
                                   qm, qs, small, out_offset);
        y[(size_t)ox * in_c] = (int8_t)agilenn_clamp(acc, act_min, act_max);
      }
    }
  }
}

AGILENN_ALWAYS_INLINE void agilenn_dwconv_u8_impl(const agilenn_dw_params* p, const uint8_t* in,
                                                  int8_t* out) {
#if AGILENN_USE_DSP
  if (p->in_c == 1 && p->mult == 1 && p->kh == 3 && p->kw == 3 && p->stride == 2 &&
      p->bias_interior) {
    agilenn_dwconv_u8_s2c1(p, in, out);
    return;
  }
#endif
  if (p->mult == 1 && p->kh == 3 && p->kw == 3 && p->bias_interior) {
    agilenn_dwconv_u8_by_channel(p, in, out);
    return;
  }
  { AGILENN_DWCONV_BODY(uint8_t) }
}

#if AGILENN_USE_DSP
/* Depthwise, int8 input, mult 1, in_c % 4 == 0: four channels per step. SXTB16 splits a word of
 * 4 channels into (c0,c2) and (c1,c3) halfwords, SADD16 adds their input offsets (|x + off| <=
 * 383 fits int16) and SMLABB/SMLATT accumulate each channel separately: the same exact sums as
 * the portable loop. */
/* The taps ky0..ky1 x kx0..kx1 of one window for 4 channels: x at the window's (ky0, kx0) tap,
 * w at the weights' (ky0, kx0) tap; row strides in bytes. Called with constant bounds for
 * interior windows, so the compiler unrolls all nine taps. */
AGILENN_ALWAYS_INLINE void agilenn_dw4_taps(const int8_t* x, const int8_t* w, int32_t x_row,
                                            int32_t w_row, int32_t step, int32_t ky0, int32_t ky1,
                                            int32_t kx0, int32_t kx1, int32_t off02, int32_t off13,
                                            int32_t* a) {
  int32_t ky, kx;
  int32_t a0 = a[0], a1 = a[1], a2 = a[2], a3 = a[3];
  AGILENN_UNROLL
  for (ky = ky0; ky < ky1; ++ky) {
    const int8_t *xr = x, *wr = w;
    AGILENN_UNROLL
    for (kx = kx0; kx < kx1; ++kx) {
      uint32_t wx, ww;
      int32_t x02, x13, w02, w13;
      memcpy(&wx, xr, 4);
      memcpy(&ww, wr, 4);
      x02 = __sadd16(__sxtb16((int32_t)wx), off02);
      x13 = __sadd16(agilenn_sxtb16_ror8(wx), off13);
      w02 = __sxtb16((int32_t)ww);
      w13 = agilenn_sxtb16_ror8(ww);
      a0 = __smlabb(x02, w02, a0);
      a2 = __smlatt(x02, w02, a2);
      a1 = __smlabb(x13, w13, a1);
      a3 = __smlatt(x13, w13, a3);
      xr += step;
      wr += step;
    }
    x += x_row;
    w += w_row;
  }
  a[0] = a0;
  a[1] = a1;
  a[2] = a2;
  a[3] = a3;
}

/* An interior window's taps for 4 channels, the input offsets in the bias: x at the window's
 * top-left tap; wp: the 4 channels' weight_pairs (kh * kw pairs). */
AGILENN_ALWAYS_INLINE void agilenn_dw4_taps_interior(const int8_t* x, const int32_t* wp,
                                                     int32_t x_row, int32_t step, int32_t kh,
                                                     int32_t kw, int32_t* a) {
  int32_t ky, kx;
  int32_t a0 = a[0], a1 = a[1], a2 = a[2], a3 = a[3];
  AGILENN_UNROLL
  for (ky = 0; ky < kh; ++ky) {
    AGILENN_UNROLL
    for (kx = 0; kx < kw; ++kx) {
      uint32_t wx;
      int32_t x02, x13;
      const int32_t w02 = wp[2 * (ky * kw + kx)], w13 = wp[2 * (ky * kw + kx) + 1];
      memcpy(&wx, x + ky * x_row + kx * step, 4);
      x02 = __sxtb16((int32_t)wx);
      x13 = agilenn_sxtb16_ror8(wx);
      a0 = __smlabb(x02, w02, a0);
      a2 = __smlatt(x02, w02, a2);
      a1 = __smlabb(x13, w13, a1);
      a3 = __smlatt(x13, w13, a3);
    }
  }
  a[0] = a0;
  a[1] = a1;
  a[2] = a2;
  a[3] = a3;
}

AGILENN_ALWAYS_INLINE void agilenn_dwconv_s8_dsp4(const agilenn_dw_params* p, const int8_t* in,
                                                  int8_t* out) {
  const int32_t in_h = p->in_h, in_w = p->in_w, in_c = p->in_c;
  const int32_t out_h = p->out_h, out_w = p->out_w, kh = p->kh, kw = p->kw;
  const int32_t stride = p->stride, pad_top = p->pad_top, pad_left = p->pad_left;
  const int32_t out_offset = p->output_offset, act_min = p->act_min, act_max = p->act_max;
  const int32_t small = p->small_acc;
  const int16_t* const input_offset = p->input_offset;
  const int8_t* const weight = p->weight;
  const int32_t *const bias = p->bias, *const qmult = p->multiplier, *const qshift = p->shift;
  const int32_t *const bias_in = p->bias_interior, *const pairs = p->weight_pairs;
  int32_t oy, ox, c, j;
  for (oy = 0; oy < out_h; ++oy) {
    const int32_t iy0 = oy * stride - pad_top;
    const int32_t ky0 = iy0 < 0 ? -iy0 : 0;
    const int32_t ky1 = iy0 + kh > in_h ? in_h - iy0 : kh;
    for (ox = 0; ox < out_w; ++ox) {
      const int32_t ix0 = ox * stride - pad_left;
      const int32_t kx0 = ix0 < 0 ? -ix0 : 0;
      const int32_t kx1 = ix0 + kw > in_w ? in_w - ix0 : kw;
      const int interior = bias_in && pairs && ky0 == 0 && ky1 == kh && kx0 == 0 && kx1 == kw;
      int8_t* y = out + ((size_t)oy * out_w + ox) * in_c;
      AGILENN_UNROLL
      for (c = 0; c < in_c; c += 4) {
        int32_t acc[4];
        const int8_t* x = in + ((size_t)(iy0 + ky0) * in_w + ix0 + kx0) * in_c + c;
        if (interior) { /* small layers: doubled pairs, so doubled bias: acc = 2 x the sum */
          AGILENN_UNROLL
          for (j = 0; j < 4; ++j) acc[j] = small ? 2 * bias_in[c + j] : bias_in[c + j];
          agilenn_dw4_taps_interior(x, pairs + (size_t)(c / 4) * kh * kw * 2, in_w * in_c, in_c, kh,
                                    kw, acc);
        } else {
          const int32_t off02 = (int32_t)(((uint32_t)(uint16_t)input_offset[c + 2] << 16) |
                                          (uint32_t)(uint16_t)input_offset[c]);
          const int32_t off13 = (int32_t)(((uint32_t)(uint16_t)input_offset[c + 3] << 16) |
                                          (uint32_t)(uint16_t)input_offset[c + 1]);
          const int8_t* w = weight + ((size_t)ky0 * kw + kx0) * in_c + c;
          acc[0] = bias[c];
          acc[1] = bias[c + 1];
          acc[2] = bias[c + 2];
          acc[3] = bias[c + 3];
          agilenn_dw4_taps(x, w, in_w * in_c, kw * in_c, in_c, ky0, ky1, kx0, kx1, off02, off13,
                           acc);
        }
        AGILENN_UNROLL
        for (j = 0; j < 4; ++j) {
          const int32_t v =
              small && interior
                  ? agilenn_requantize_off2(acc[j], qmult[c + j], qshift[c + j], out_offset)
                  : agilenn_requantize_off(acc[j], qmult[c + j], qshift[c + j], small, out_offset);
          y[c + j] = (int8_t)agilenn_clamp(v, act_min, act_max);
        }
      }
    }
  }
}
#endif

AGILENN_ALWAYS_INLINE void agilenn_dwconv_s8_impl(const agilenn_dw_params* p, const int8_t* in,
                                                  int8_t* out) {
#if AGILENN_USE_DSP
  if (p->mult == 1 && (p->in_c & 3) == 0) {
    agilenn_dwconv_s8_dsp4(p, in, out);
    return;
  }
#endif
  { AGILENN_DWCONV_BODY(int8_t) }
}

/* The portable 3x3 window sum of the planar depthwise: rows in_w apart from r, channel weights
 * in_c apart from w. */
static inline int32_t agilenn_dw3_window(const int8_t* r, int32_t in_w, const int8_t* w,
                                         int32_t in_c, int32_t acc) {
  acc += (int32_t)r[0] * w[0] + (int32_t)r[1] * w[in_c] + (int32_t)r[2] * w[2 * in_c];
  acc += (int32_t)r[in_w] * w[3 * in_c] + (int32_t)r[in_w + 1] * w[4 * in_c] +
         (int32_t)r[in_w + 2] * w[5 * in_c];
  acc += (int32_t)r[2 * in_w] * w[6 * in_c] + (int32_t)r[2 * in_w + 1] * w[7 * in_c] +
         (int32_t)r[2 * in_w + 2] * w[8 * in_c];
  return acc;
}

#if AGILENN_USE_DSP
/* 4 input bytes x0..x3 of one row, extended: e = (x0, x2), o = (x1, x3). */
typedef struct {
  int32_t e, o;
} agilenn_row4;

static inline agilenn_row4 agilenn_row4_load(const int8_t* r) {
  uint32_t wx;
  agilenn_row4 x;
  memcpy(&wx, r, 4);
  x.e = __sxtb16((int32_t)wx);
  x.o = agilenn_sxtb16_ror8(wx);
  return x;
}

/* One weight row into the sums of output A (taps on x0..x2) and B (x1..x3): w02 pairs taps 0 and
 * 2; tap 1 is w1's bottom half (top == 0) or top half (top == 1). */
AGILENN_ALWAYS_INLINE void agilenn_dw3_row(agilenn_row4 x, int32_t w02, int32_t w1, int top,
                                           int32_t* a, int32_t* b) {
  if (top) {
    *a = __smlabt(x.o, w1, __smlad(x.e, w02, *a));
    *b = __smlatt(x.e, w1, __smlad(x.o, w02, *b));
  } else {
    *a = __smlabb(x.o, w1, __smlad(x.e, w02, *a));
    *b = __smlatb(x.e, w1, __smlad(x.o, w02, *b));
  }
}

/* A DSP-path sum (2 * acc with doubled weights when small) to its int8 output. */
AGILENN_ALWAYS_INLINE int8_t agilenn_dw3_output(int32_t acc, int32_t small, int32_t qm, int32_t qs,
                                                int32_t out_offset, int32_t act_min,
                                                int32_t act_max) {
  acc = small ? agilenn_requantize_off2(acc, qm, qs, out_offset)
              : agilenn_requantize_off(acc, qm, qs, 0, out_offset);
  return (int8_t)agilenn_clamp(acc, act_min, act_max);
}
#endif

/* Depthwise 3x3, stride 1, mult 1 on a planar padded input (every window inside it, the input
 * offsets in bias_interior): in (in_c planes of (in_h, in_w)) -> out (out_h, out_w, in_c).
 * One channel at a time, two output pixels per step on the DSP path: a word of 4 inputs
 * x0..x3 of one row gives the SXTB16 halves e = (x0, x2) and o = (x1, x3); output A (x0..x2) is
 * SMLAD(e, (w0, w2)) + x1 * w1 (SMLABB on o), output B (x1..x3) SMLAD(o, (w0, w2)) + x2 * w1
 * (SMLATB on e): one load, two extends and four MACs per row for two outputs. The middle weights
 * of rows 0 and 1 share a word (SMLA*B / SMLA*T). All sums are exact int32 (the portable loop's
 * sums; doubled weights and bias when small_acc, for agilenn_requantize_off2). */
AGILENN_ALWAYS_INLINE void agilenn_dwconv_s8_planar_impl(const agilenn_dw_params* p,
                                                         const int8_t* in, int8_t* out) {
  const int32_t in_h = p->in_h, in_w = p->in_w, in_c = p->in_c, out_h = p->out_h, out_w = p->out_w;
  const int32_t out_offset = p->output_offset, act_min = p->act_min, act_max = p->act_max;
  const int32_t small = p->small_acc;
  const int8_t* const weight = p->weight;
  const int32_t* const bias_in = p->bias_interior;
  int32_t c, oy, ox;
  AGILENN_UNROLL /* in_c is small and constant: each channel's requantization folds */
  for (c = 0; c < in_c; ++c) {
    const int8_t* const plane = in + (size_t)c * in_h * in_w;
    const int32_t qm = p->multiplier[c], qs = p->shift[c];
#if AGILENN_USE_DSP
    const int32_t scale = small ? 2 : 1; /* doubled weights: SMLAD sums 2 * acc */
    int32_t w02[3], w1a, w1b, ky;
    for (ky = 0; ky < 3; ++ky) {
      const uint32_t w0 = (uint16_t)(int16_t)(scale * weight[(3 * ky) * in_c + c]);
      const uint32_t w2 = (uint16_t)(int16_t)(scale * weight[(3 * ky + 2) * in_c + c]);
      w02[ky] = (int32_t)(w0 | (w2 << 16));
    }
    w1a = (int32_t)((uint32_t)(uint16_t)(int16_t)(scale * weight[1 * in_c + c]) |
                    ((uint32_t)(uint16_t)(int16_t)(scale * weight[4 * in_c + c]) << 16));
    w1b = scale * weight[7 * in_c + c];
#endif
    oy = 0;
#if AGILENN_USE_DSP
    /* Two output rows at a time: their four input rows are loaded and extended once (the middle
     * two serve both rows), 2x2 outputs per step. */
    for (; oy + 1 < out_h; oy += 2) {
      const int8_t* r = plane + (size_t)oy * in_w;
      int8_t* y = out + (size_t)oy * out_w * in_c + c;
      for (ox = 0; ox + 1 < out_w; ox += 2, r += 2, y += 2 * in_c) {
        int32_t a0 = scale * bias_in[c], b0 = a0, a1 = a0, b1 = a0;
        agilenn_row4 x = agilenn_row4_load(r);
        agilenn_dw3_row(x, w02[0], w1a, 0, &a0, &b0);
        x = agilenn_row4_load(r + in_w);
        agilenn_dw3_row(x, w02[1], w1a, 1, &a0, &b0);
        agilenn_dw3_row(x, w02[0], w1a, 0, &a1, &b1);
        x = agilenn_row4_load(r + 2 * in_w);
        agilenn_dw3_row(x, w02[2], w1b, 0, &a0, &b0);
        agilenn_dw3_row(x, w02[1], w1a, 1, &a1, &b1);
        x = agilenn_row4_load(r + 3 * in_w);
        agilenn_dw3_row(x, w02[2], w1b, 0, &a1, &b1);
        y[0] = agilenn_dw3_output(a0, small, qm, qs, out_offset, act_min, act_max);
        y[in_c] = agilenn_dw3_output(b0, small, qm, qs, out_offset, act_min, act_max);
        y[(size_t)out_w * in_c] =
            agilenn_dw3_output(a1, small, qm, qs, out_offset, act_min, act_max);
        y[(size_t)(out_w + 1) * in_c] =
            agilenn_dw3_output(b1, small, qm, qs, out_offset, act_min, act_max);
      }
      if (ox < out_w) { /* an odd last column: one pixel of each row, bytes */
        const int8_t* const w = weight + c;
        int32_t k;
        AGILENN_UNROLL
        for (k = 0; k < 2; ++k) {
          int32_t acc = agilenn_dw3_window(r + k * in_w, in_w, w, in_c, bias_in[c]);
          acc = agilenn_requantize_off(acc, qm, qs, small, out_offset);
          y[(size_t)k * out_w * in_c] = (int8_t)agilenn_clamp(acc, act_min, act_max);
        }
      }
    }
#endif
    for (; oy < out_h; ++oy) {
      const int8_t* r = plane + (size_t)oy * in_w;
      int8_t* y = out + (size_t)oy * out_w * in_c + c;
      ox = 0;
#if AGILENN_USE_DSP
      for (; ox + 1 < out_w; ox += 2, r += 2, y += 2 * in_c) {
        int32_t a = scale * bias_in[c], b = a;
        agilenn_dw3_row(agilenn_row4_load(r), w02[0], w1a, 0, &a, &b);
        agilenn_dw3_row(agilenn_row4_load(r + in_w), w02[1], w1a, 1, &a, &b);
        agilenn_dw3_row(agilenn_row4_load(r + 2 * in_w), w02[2], w1b, 0, &a, &b);
        y[0] = agilenn_dw3_output(a, small, qm, qs, out_offset, act_min, act_max);
        y[in_c] = agilenn_dw3_output(b, small, qm, qs, out_offset, act_min, act_max);
      }
#endif
      for (; ox < out_w; ++ox, ++r, y += in_c) { /* the portable loop; an odd last pixel */
        int32_t acc = agilenn_dw3_window(r, in_w, weight + c, in_c, bias_in[c]);
        acc = agilenn_requantize_off(acc, qm, qs, small, out_offset);
        y[0] = (int8_t)agilenn_clamp(acc, act_min, act_max);
      }
    }
  }
}

/* in (pixels, in_c) -> out[px * px_stride + o * ch_stride]; weight (out_c, in_c). NHWC output:
 * (out_c, 1); planar (one plane of a padded buffer per channel): (1, plane bytes). */
AGILENN_ALWAYS_INLINE void agilenn_pwconv_strided_impl(const agilenn_pw_params* p, const int8_t* in,
                                                       int8_t* out, int32_t px_stride,
                                                       int32_t ch_stride) {
  const int32_t pixels = p->pixels, in_c = p->in_c, out_c = p->out_c, out_offset = p->output_offset;
  const int32_t act_min = p->act_min, act_max = p->act_max;
  const int8_t* const weight = p->weight;
  const int32_t *const bias = p->bias, *const qmult = p->multiplier, *const qshift = p->shift;
  const int32_t small = p->small_acc;
  int32_t px, o, c;
#if AGILENN_USE_DSP
  if (in_c == 3 && p->weight_pairs) {
    /* 3 inputs in one word, SXTB16 into (x0, x2) and (x1, x3); x3 (the next pixel's first byte)
     * meets a zero weight. The last pixel's word is built from its 3 bytes (no read past in). */
    const int32_t* const pw = p->weight_pairs;
    for (px = 0; px < pixels; ++px) {
      const int8_t* x = in + (size_t)px * 3;
      int8_t* y = out + (size_t)px * px_stride;
      uint32_t wx;
      int32_t x02, x13;
      if (px + 1 < pixels)
        memcpy(&wx, x, 4);
      else
        wx = (uint32_t)(uint8_t)x[0] | ((uint32_t)(uint8_t)x[1] << 8) |
             ((uint32_t)(uint8_t)x[2] << 16);
      x02 = __sxtb16((int32_t)wx);
      x13 = agilenn_sxtb16_ror8(wx);
      AGILENN_UNROLL
      for (o = 0; o < out_c; ++o) {
        int32_t acc;
        if (small) { /* doubled pairs: 2 * acc */
          acc = __smlad(x13, pw[2 * o + 1], __smlad(x02, pw[2 * o], 2 * bias[o]));
          acc = agilenn_requantize_off2(acc, qmult[o], qshift[o], out_offset);
        } else {
          acc = __smlad(x13, pw[2 * o + 1], __smlad(x02, pw[2 * o], bias[o]));
          acc = agilenn_requantize_off(acc, qmult[o], qshift[o], 0, out_offset);
        }
        y[(size_t)o * ch_stride] = (int8_t)agilenn_clamp(acc, act_min, act_max);
      }
    }
    return;
  }
#endif
  if (in_c < 4) { /* e.g. 3 -> 4 (cifar): inputs in registers (stores to y may alias x) */
    for (px = 0; px < pixels; ++px) {
      const int8_t* x = in + (size_t)px * in_c;
      int8_t* y = out + (size_t)px * px_stride;
      int32_t xv[3] = {0, 0, 0};
      AGILENN_UNROLL
      for (c = 0; c < in_c; ++c) xv[c] = x[c];
      AGILENN_UNROLL
      for (o = 0; o < out_c; ++o) {
        int32_t acc = bias[o];
        AGILENN_UNROLL
        for (c = 0; c < in_c; ++c) acc += xv[c] * (int32_t)weight[(size_t)o * in_c + c];
        acc = agilenn_requantize_off(acc, qmult[o], qshift[o], small, out_offset);
        y[(size_t)o * ch_stride] = (int8_t)agilenn_clamp(acc, act_min, act_max);
      }
    }
    return;
  }
  for (px = 0; px < pixels; ++px) {
    const int8_t* x = in + (size_t)px * in_c;
    int8_t* y = out + (size_t)px * px_stride;
    AGILENN_UNROLL /* few output channels (4 in the extractor): their parameters fold */
    for (o = 0; o < out_c; ++o) {
      int32_t acc = agilenn_dot_s8(x, weight + (size_t)o * in_c, in_c, bias[o]);
      acc = agilenn_requantize_off(acc, qmult[o], qshift[o], small, out_offset);
      y[(size_t)o * ch_stride] = (int8_t)agilenn_clamp(acc, act_min, act_max);
    }
  }
}

/* in (pixels, in_c) -> out (pixels, out_c); weight (out_c, in_c) */
AGILENN_ALWAYS_INLINE void agilenn_pwconv_impl(const agilenn_pw_params* p, const int8_t* in,
                                               int8_t* out) {
  agilenn_pwconv_strided_impl(p, in, out, p->out_c, 1);
}

/* in (pixels, in_c) -> local (pixels, k) + centroid indices of channels [k, out_c). The quantizer's
 * thresholds are applied through index_of_value, their 256-entry expansion (one load per value). */
AGILENN_ALWAYS_INLINE void agilenn_pwconv_split_impl(const agilenn_pw_params* p, int32_t k,
                                                     const int8_t* in, int8_t* local,
                                                     const agilenn_quantizer* q, uint8_t* indices) {
  const int32_t pixels = p->pixels, in_c = p->in_c, out_c = p->out_c, out_offset = p->output_offset;
  const int32_t act_min = p->act_min, act_max = p->act_max;
  const int8_t* const weight = p->weight;
  const int32_t *const bias = p->bias, *const qmult = p->multiplier, *const qshift = p->shift;
  const uint8_t* const index_of_value = q->index_of_value + 128;
  uint8_t* idx = indices;
  int32_t px, o;
#if AGILENN_USE_DSP
  if (in_c == 4) { /* the default extractor: sign-extend the 4 inputs once per pixel */
    for (px = 0; px < pixels; ++px) {
      uint32_t wx;
      int32_t x02, x13;
      int8_t* y = local + (size_t)px * k;
      memcpy(&wx, in + (size_t)px * 4, 4);
      x02 = __sxtb16((int32_t)wx);
      x13 = agilenn_sxtb16_ror8(wx);
      for (o = 0; o < out_c; ++o) {
        uint32_t ww;
        int32_t acc;
        memcpy(&ww, weight + (size_t)o * 4, 4);
        acc = __smlad(x02, __sxtb16((int32_t)ww), bias[o]);
        acc = __smlad(x13, agilenn_sxtb16_ror8(ww), acc);
        acc = agilenn_requantize_inline(acc, qmult[o], qshift[o]) + out_offset;
        acc = agilenn_clamp(acc, act_min, act_max);
        if (o < k)
          y[o] = (int8_t)acc;
        else
          *idx++ = index_of_value[acc];
      }
    }
    return;
  }
#endif
  for (px = 0; px < pixels; ++px) {
    const int8_t* x = in + (size_t)px * in_c;
    int8_t* y = local + (size_t)px * k;
    for (o = 0; o < k; ++o) {
      int32_t acc = agilenn_dot_s8(x, weight + (size_t)o * in_c, in_c, bias[o]);
      acc = agilenn_requantize_inline(acc, qmult[o], qshift[o]) + out_offset;
      y[o] = (int8_t)agilenn_clamp(acc, act_min, act_max);
    }
    for (; o < out_c; ++o) {
      int32_t acc = agilenn_dot_s8(x, weight + (size_t)o * in_c, in_c, bias[o]);
      acc = agilenn_requantize_inline(acc, qmult[o], qshift[o]) + out_offset;
      *idx++ = index_of_value[agilenn_clamp(acc, act_min, act_max)];
    }
  }
}

/* The border of a padded buffer (hp, wp, c) around its (h, w) interior at (top, left): every
 * border pixel gets `pixel` (c bytes, the next layer's input zero point, so x + offset = 0 there,
 * what zero padding contributes). */
AGILENN_ALWAYS_INLINE void agilenn_fill_border_impl(int8_t* buf, int32_t hp, int32_t wp, int32_t c,
                                                    int32_t top, int32_t left, int32_t h, int32_t w,
                                                    const int8_t* pixel) {
  int32_t y, x;
  for (y = 0; y < hp; ++y) {
    const int border_row = y < top || y >= top + h;
    for (x = 0; x < wp; ++x) {
      if (!border_row && x == left) x += w;
      if (x >= wp) break;
      memcpy(buf + ((size_t)y * wp + x) * c, pixel, (size_t)c);
    }
  }
}

#ifdef AGILENN_KERNEL_ENTRY_POINTS
AGILENN_KERNEL void agilenn_fill_border(int8_t* buf, int32_t hp, int32_t wp, int32_t c, int32_t top,
                                        int32_t left, int32_t h, int32_t w, const int8_t* pixel) {
  agilenn_fill_border_impl(buf, hp, wp, c, top, left, h, w, pixel);
}
#endif

/* 1x1 conv with one input channel: the output is a function of the input value alone, so the
 * generator tabulates it (requantized and clamped, table (256, out_c), input v at row v + 128).
 * in (pixels) -> out (pixels, out_c): one copy of out_c bytes per pixel. */
AGILENN_ALWAYS_INLINE void agilenn_pw1_lut_impl(int32_t pixels, int32_t out_c, const int8_t* table,
                                                const int8_t* in, int8_t* out) {
  int32_t px;
  for (px = 0; px < pixels; ++px)
    memcpy(out + (size_t)px * out_c, table + ((size_t)((int32_t)in[px] + 128)) * out_c,
           (size_t)out_c);
}

/* The fused last conv's channel o at one pixel. x: the pixel's in_c inputs; x02, x13: their
 * SXTB16 halves (DSP path, in_c == 4; unused otherwise). The dot products use the
 * generator-made SXTB16 weight pairs when there are any (c_pointwise_weight_pairs). */
AGILENN_ALWAYS_INLINE int32_t agilenn_pw_dot(const agilenn_pw_params* p, int32_t o, const int8_t* x,
                                             int32_t x02, int32_t x13, int32_t acc) {
#if AGILENN_USE_DSP
  const int32_t* const pairs = p->weight_pairs;
  if (p->in_c == 4) /* the bias as SMLAD's accumulator */
    return pairs ? __smlad(x13, pairs[2 * o + 1], __smlad(x02, pairs[2 * o], acc))
                 : agilenn_dot4_dsp(x02, x13, p->weight + (size_t)o * 4) + acc;
#else
  (void)x02;
  (void)x13;
#endif
  return agilenn_dot_s8(x, p->weight + (size_t)o * p->in_c, p->in_c, acc);
}

/* Local channel o: requantized and clamped. Small layers' local channels have doubled pairs
 * (c_pointwise_weight_pairs) on the DSP path, so their bias is doubled too. */
AGILENN_ALWAYS_INLINE int8_t agilenn_pw_local_value(const agilenn_pw_params* p, int32_t o,
                                                    const int8_t* x, int32_t x02, int32_t x13) {
  const int32_t b = p->bias[o], m = p->multiplier[o], sh = p->shift[o];
  int32_t acc;
#if AGILENN_USE_DSP
  if (p->in_c == 4 && p->weight_pairs && p->small_acc)
    acc =
        agilenn_requantize_off2(agilenn_pw_dot(p, o, x, x02, x13, 2 * b), m, sh, p->output_offset);
  else
#endif
    acc = agilenn_requantize_off(agilenn_pw_dot(p, o, x, x02, x13, b), m, sh, p->small_acc,
                                 p->output_offset);
  return (int8_t)agilenn_clamp(acc, p->act_min, p->act_max);
}

/* Remote channel o: the accumulator without the bias (the quantizer's thresholds fold it in). */
AGILENN_ALWAYS_INLINE int32_t agilenn_pw_remote_acc(const agilenn_pw_params* p, int32_t o,
                                                    const int8_t* x, int32_t x02, int32_t x13) {
  return agilenn_pw_dot(p, o, x, x02, x13, 0);
}

/* n bytes at p set to the byte of v4 (all four bytes equal): words, then a halfword and a byte.
 * n is a constant of the call, so the loop unrolls into stores (no memset call). */
AGILENN_ALWAYS_INLINE void agilenn_fill_run(int8_t* p, uint32_t v4, int32_t n) {
  const uint16_t v2 = (uint16_t)v4;
  int32_t j;
  AGILENN_UNROLL_ALL
  for (j = 0; j + 4 <= n; j += 4) memcpy(p + j, &v4, 4);
  if (n - j >= 2) {
    memcpy(p + j, &v2, 2);
    j += 2;
  }
  if (n - j >= 1) p[j] = (int8_t)v4;
}

/* The border of a planar padded buffer: c planes of (hp, wp) bytes, plane ch's border set to
 * pixel[ch] around the (h, w) interior at (top, left). Between two interior rows the border is
 * one run of wp - w bytes (a row's right part and the next row's left part). */
AGILENN_ALWAYS_INLINE void agilenn_fill_border_planar_impl(int8_t* buf, int32_t hp, int32_t wp,
                                                           int32_t c, int32_t top, int32_t left,
                                                           int32_t h, int32_t w,
                                                           const int8_t* pixel) {
  int32_t ch, y;
  AGILENN_UNROLL
  for (ch = 0; ch < c; ++ch) {
    int8_t* const plane = buf + (size_t)ch * hp * wp;
    const uint32_t v4 = (uint32_t)(uint8_t)pixel[ch] * 0x01010101u;
    agilenn_fill_run(plane, v4, top * wp + left);
    for (y = 0; y + 1 < h; ++y)
      agilenn_fill_run(plane + (size_t)(top + y) * wp + left + w, v4, wp - w);
    agilenn_fill_run(plane + (size_t)(top + h - 1) * wp + left + w, v4,
                     wp - left - w + (hp - top - h) * wp);
  }
}

#if AGILENN_USE_DSP
/* (b & 0xFFFF) | (t << 16): PKHBT. */
static inline uint32_t agilenn_pkhbt16(uint32_t b, uint32_t t) {
#if defined(__GNUC__)
  uint32_t r;
  __asm__("pkhbt %0, %1, %2, lsl #16" : "=r"(r) : "r"(b), "r"(t));
  return r;
#else
  return (b & 0xFFFFu) | (t << 16);
#endif
}
#endif

/* agilenn_pw1_lut_impl writing planes: in (pixels) -> out[c * plane + px]. For 4 channels (and a
 * little-endian core) four pixels at a time: their four table words (channels in bytes 0..3) are
 * transposed into one word per channel (16 ALU ops with UXTB16 / PKHBT / PKHTB), 4 word stores
 * instead of 16 byte stores; a last pair of pixels as halfwords. */
AGILENN_ALWAYS_INLINE void agilenn_pw1_lut_planar_impl(int32_t pixels, int32_t out_c,
                                                       const int8_t* table, const int8_t* in,
                                                       int8_t* out, int32_t plane) {
  int32_t px = 0, c;
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
  if (out_c == 4) {
    const int8_t* const t4 = table + 128 * 4; /* row of input v at t4 + 4 v */
    uint32_t t0, t1, t2, t3, a01, b01, a23, b23, v;
    uint16_t h;
/* bytes (t0.c0, t1.c0, t0.c2, t1.c2) and (t0.c1, t1.c1, t0.c3, t1.c3) */
#if AGILENN_USE_DSP
#define AGILENN_LUT_PAIR(A, B, T0, T1)                        \
  A = (uint32_t)__uxtb16(T0) | ((uint32_t)__uxtb16(T1) << 8); \
  B = (uint32_t)agilenn_uxtb16_ror8(T0) | ((T1)&0xFF00FF00u)
#else
#define AGILENN_LUT_PAIR(A, B, T0, T1)                \
  A = ((T0)&0x00FF00FFu) | (((T1)&0x00FF00FFu) << 8); \
  B = (((T0)&0xFF00FF00u) >> 8) | ((T1)&0xFF00FF00u)
#endif
    for (; px + 4 <= pixels; px += 4) {
      memcpy(&t0, t4 + 4 * (int32_t)in[px], 4);
      memcpy(&t1, t4 + 4 * (int32_t)in[px + 1], 4);
      memcpy(&t2, t4 + 4 * (int32_t)in[px + 2], 4);
      memcpy(&t3, t4 + 4 * (int32_t)in[px + 3], 4);
      AGILENN_LUT_PAIR(a01, b01, t0, t1);
      AGILENN_LUT_PAIR(a23, b23, t2, t3);
#if AGILENN_USE_DSP
      v = agilenn_pkhbt16(a01, a23);
      memcpy(out + px, &v, 4);
      v = agilenn_pkhbt16(b01, b23);
      memcpy(out + plane + px, &v, 4);
      v = (uint32_t)agilenn_pkhtb16((int32_t)a23, (int32_t)a01);
      memcpy(out + 2 * plane + px, &v, 4);
      v = (uint32_t)agilenn_pkhtb16((int32_t)b23, (int32_t)b01);
      memcpy(out + 3 * plane + px, &v, 4);
#else
      v = (a01 & 0xFFFFu) | (a23 << 16);
      memcpy(out + px, &v, 4);
      v = (b01 & 0xFFFFu) | (b23 << 16);
      memcpy(out + plane + px, &v, 4);
      v = (a01 >> 16) | (a23 & 0xFFFF0000u);
      memcpy(out + 2 * plane + px, &v, 4);
      v = (b01 >> 16) | (b23 & 0xFFFF0000u);
      memcpy(out + 3 * plane + px, &v, 4);
#endif
    }
    if (px + 2 <= pixels) {
      memcpy(&t0, t4 + 4 * (int32_t)in[px], 4);
      memcpy(&t1, t4 + 4 * (int32_t)in[px + 1], 4);
      AGILENN_LUT_PAIR(a01, b01, t0, t1);
      h = (uint16_t)a01;
      memcpy(out + px, &h, 2);
      h = (uint16_t)b01;
      memcpy(out + plane + px, &h, 2);
      h = (uint16_t)(a01 >> 16);
      memcpy(out + 2 * plane + px, &h, 2);
      h = (uint16_t)(b01 >> 16);
      memcpy(out + 3 * plane + px, &h, 2);
      px += 2;
    }
#undef AGILENN_LUT_PAIR
  }
#endif
  for (; px < pixels; ++px) {
    const int8_t* const t = table + ((size_t)((int32_t)in[px] + 128)) * out_c;
    AGILENN_UNROLL
    for (c = 0; c < out_c; ++c) out[(size_t)c * plane + px] = t[c];
  }
}

/* The extractor's last 1x1 conv with the split and the quantizer on the accumulator, one row of
 * p->pixels pixels: in (pixels, in_c) -> local (pixels, k) int8 and the remote channels' centroid
 * indices in row (pixels, R = out_c - k); same values as agilenn_pwconv_split.
 * The quantizer works on the accumulator without the bias: requantization, clamp and the int8
 * thresholds are monotone in it, so the position of the nearest centroid (in sorted order) is
 * found by a binary tree of compares, bit 1 at node n iff acc >= acc_threshold[r * 2^bits + n]
 * (|values| <= 2^30; agilenn::mcu::c_accumulator_thresholds tabulates the smallest such acc per
 * channel and node); index_of_pos maps the position to the index (NULL: the identity, sorted
 * centroids). */
AGILENN_ALWAYS_INLINE void agilenn_pw_quant_row_impl(const agilenn_pw_params* p, int32_t k,
                                                     const int8_t* in, int8_t* local,
                                                     const int32_t* acc_threshold,
                                                     const uint8_t* index_of_pos, uint32_t bits,
                                                     uint8_t* row) {
  const int32_t pixels = p->pixels, in_c = p->in_c, out_c = p->out_c;
  const uint32_t leaf = 1u << bits;
  uint8_t* idx = row;
  int32_t px, o;
  uint32_t d;
  for (px = 0; px < pixels; ++px) {
    const int8_t* x = in + (size_t)px * in_c;
    int8_t* y = local + (size_t)px * k;
    const int32_t* t = acc_threshold;
    int32_t x02 = 0, x13 = 0;
#if AGILENN_USE_DSP
    if (in_c == 4) { /* the default extractor: sign-extend the 4 inputs once per pixel */
      uint32_t wx;
      memcpy(&wx, x, 4);
      x02 = __sxtb16((int32_t)wx);
      x13 = agilenn_sxtb16_ror8(wx);
    }
#endif
    AGILENN_UNROLL /* k is small and constant: each channel's shift folds into its code */
    for (o = 0; o < k; ++o) y[o] = agilenn_pw_local_value(p, o, x, x02, x13);
    for (; o < out_c; ++o, t += leaf) {
      const int32_t acc = agilenn_pw_remote_acc(p, o, x, x02, x13);
      uint32_t node = 1;
      AGILENN_UNROLL /* bit = acc >= t (|acc|, |t| <= 2^30: the difference cannot overflow) */
      for (d = 0; d < bits; ++d) node = 2 * node + 1u - ((uint32_t)(acc - t[node]) >> 31);
      *idx++ = index_of_pos ? index_of_pos[node - leaf] : (uint8_t)(node - leaf);
    }
  }
}

/* agilenn_pw_quant_row_impl and agilenn_sce_row_impl in one pass: each remote value is quantized
 * and coded at once (same bytes; one loop instead of two, the index not reloaded). The ring holds
 * each coded index's up_offset (its left_offset is that << left_shift), so a neighbour costs one
 * load, not two. */
AGILENN_ALWAYS_INLINE void agilenn_pw_quant_sce_row_impl(
    const agilenn_pw_params* p, int32_t k, const int8_t* in, int8_t* local,
    const int32_t* acc_threshold, const uint8_t* index_of_pos, uint32_t bits, agilenn_ce_state* s,
    const agilenn_sce_model* m, uint16_t* row, const uint16_t* up) {
  const int32_t pixels = p->pixels, in_c = p->in_c, out_c = p->out_c;
  const uint32_t leaf = 1u << bits, R = m->channels;
  const uint16_t* const cdf = m->cdf;
  const uint16_t* const group_offset = m->group_offset;
  const uint32_t levels = m->levels, stride = m->stride, left_shift = m->left_shift;
  const int8_t* const skip_index = m->skip_index;
  const uint16_t* const left = row - R; /* left[i] = row[i - R], the pad for the first pixel */
  const uint32_t v0 = index_of_pos ? index_of_pos[0] : 0u; /* the index of position 0 */
  const uint32_t v1 = index_of_pos ? index_of_pos[1] : 1u; /* the index of position 1 */
  uint64_t lc = AGILENN_CE_LOAD(s);
  uint32_t range = s->range;
  uint32_t i = 0, d;
  int32_t px, o;
/* A nonzero index V: its ring entry (up_offset[V]), its coder step, and the next channel's prev
 * offset (prev_offset[V]); V a constant gives constant offsets. */
#define AGILENN_SCE_NONZERO(V)                                       \
  do {                                                               \
    const uint32_t level = (V) < levels - 1 ? (V) : levels - 1;      \
    row[i] = (uint16_t)(level * levels * stride); /* up_offset[V] */ \
    agilenn_sce_step(s, ctx + (V), &lc, &range);                     \
    prev_off = level * stride; /* prev_offset[V] */                  \
  } while (0)
  for (px = 0; px < pixels; ++px) {
    const int8_t* x = in + (size_t)px * in_c;
    int8_t* y = local + (size_t)px * k;
    const int32_t* t = acc_threshold;
    uint32_t prev_off = 0; /* r = 0: prev counts as index 0, offset 0 */
    int32_t x02 = 0, x13 = 0;
#if AGILENN_USE_DSP
    if (in_c == 4) { /* the default extractor: sign-extend the 4 inputs once per pixel */
      uint32_t wx;
      memcpy(&wx, x, 4);
      x02 = __sxtb16((int32_t)wx);
      x13 = agilenn_sxtb16_ror8(wx);
    }
#endif
    AGILENN_UNROLL /* k is small and constant: each channel's shift folds into its code */
    for (o = 0; o < k; ++o) y[o] = agilenn_pw_local_value(p, o, x, x02, x13);
    AGILENN_UNROLL_ALL /* R is constant: each channel's offsets become immediates */
        for (; o < out_c; ++o, t += leaf, ++i) {
      if (skip_index && skip_index[o - k] >= 0) {
        /* Coder 5: the weights fix this channel's index (c_constant_remote_indices); no
         * accumulator, no quantizer, no coder step, and no ring entry (only coded channels read
         * their own channel's neighbours); the next channel's prev is the fixed index. */
        const uint32_t sv = (uint32_t)skip_index[o - k];
        prev_off = (sv < levels - 1 ? sv : levels - 1) * stride;
        continue;
      }
      const int32_t acc = agilenn_pw_remote_acc(p, o, x, x02, x13);
      const uint16_t* const ctx =
          cdf + group_offset[o - k] + prev_off + ((uint32_t)left[i] << left_shift) + up[i];
      uint32_t v;
      /* Position 0 (t[leaf / 2] is the smallest accumulator of position >= 1) is by far the most
       * frequent (ReLU6's zero): one compare instead of the tree. */
      if (AGILENN_LIKELY(acc < t[leaf >> 1])) {
        if (v0 != 0) { /* unsorted centroids: its coder step with constants too */
          AGILENN_SCE_NONZERO(v0);
          continue;
        }
        v = 0;
      } else if (bits >= 2 && acc < t[leaf >> 2]) {
        /* Position 1 (t[leaf / 4]: the smallest accumulator of position >= 2), the next most
         * frequent: one more compare instead of the tree, and its coder step with constants. */
        AGILENN_SCE_NONZERO(v1);
        continue;
      } else {
        uint32_t node = 1;
        AGILENN_UNROLL /* bit = acc >= t (|acc|, |t| <= 2^30: the difference cannot overflow) */
        for (d = 0; d < bits; ++d) node = 2 * node + 1u - ((uint32_t)(acc - t[node]) >> 31);
        v = index_of_pos ? index_of_pos[node - leaf] : node - leaf;
      }
      if (v == 0) { /* cum[0] = 0: low and carry unchanged; index 0 is level 0: offsets 0 */
        row[i] = 0;
        range = (range >> 12) * ctx[1];
        agilenn_ce_normalize(s, &lc, &range);
        prev_off = 0;
      } else {
        AGILENN_SCE_NONZERO(v);
      }
    }
  }
#undef AGILENN_SCE_NONZERO
  AGILENN_CE_STORE(s, lc);
  s->range = range;
}

/* in (h, w, c) -> out (g, g, c). Per cell, blocks of up to 8 channels summed in registers while
 * the cell's pixels are read once (c is a constant of the call, so the block loop unrolls). */
AGILENN_ALWAYS_INLINE void agilenn_grid_avg_pool_impl(const int8_t* in, int32_t h, int32_t w,
                                                      int32_t c, int32_t g, int8_t* out) {
  int32_t gy, gx, c0, j, iy, ix;
  for (gy = 0; gy < g; ++gy) {
    const int32_t y0 = gy * h / g, y1 = ((gy + 1) * h + g - 1) / g;
    AGILENN_UNROLL /* g is small: each column of cells gets constant bounds */
    for (gx = 0; gx < g; ++gx) {
      const int32_t x0 = gx * w / g, x1 = ((gx + 1) * w + g - 1) / g;
      const int32_t count = (y1 - y0) * (x1 - x0);
      for (c0 = 0; c0 < c; c0 += 8) {
        int32_t sum[8] = {0, 0, 0, 0, 0, 0, 0, 0};
#if AGILENN_USE_DSP
        /* Whole words of 4 channels: SXTB16 + SADD16 into int16 lanes (|sum| <= 128 * count fits
         * while count <= 255), channels (j, j + 2) and (j + 1, j + 3); the rest one by one. */
        const int32_t words = count <= 255 ? (c - c0 >= 8 ? 2 : (c - c0 >= 4 ? 1 : 0)) : 0;
        int32_t s02a = 0, s13a = 0, s02b = 0, s13b = 0;
#else
        const int32_t words = 0;
#endif
        for (iy = y0; iy < y1; ++iy) {
          const int8_t* px = in + ((size_t)iy * w + x0) * c + c0;
          AGILENN_UNROLL /* a cell row's pixels, unrolled (constant bounds) */
          for (ix = x0; ix < x1; ++ix, px += c) {
#if AGILENN_USE_DSP
            uint32_t wa, wb;
            if (words >= 1) {
              memcpy(&wa, px, 4);
              s02a = __sadd16(s02a, __sxtb16((int32_t)wa));
              s13a = __sadd16(s13a, agilenn_sxtb16_ror8(wa));
            }
            if (words >= 2) {
              memcpy(&wb, px + 4, 4);
              s02b = __sadd16(s02b, __sxtb16((int32_t)wb));
              s13b = __sadd16(s13b, agilenn_sxtb16_ror8(wb));
            }
#endif
            AGILENN_UNROLL
            for (j = 0; j < 8; ++j)
              if (j >= 4 * words && c0 + j < c) sum[j] += px[j];
          }
        }
#if AGILENN_USE_DSP
        if (words >= 1) {
          sum[0] = (int16_t)s02a;
          sum[2] = s02a >> 16;
          sum[1] = (int16_t)s13a;
          sum[3] = s13a >> 16;
        }
        if (words >= 2) {
          sum[4] = (int16_t)s02b;
          sum[6] = s02b >> 16;
          sum[5] = (int16_t)s13b;
          sum[7] = s13b >> 16;
        }
#endif
        AGILENN_UNROLL
        for (j = 0; j < 8; ++j) {
          if (c0 + j < c) {
            const int32_t avg =
                sum[j] > 0 ? (sum[j] + count / 2) / count : (sum[j] - count / 2) / count;
            out[((size_t)gy * g + gx) * c + c0 + j] = (int8_t)agilenn_clamp(avg, -128, 127);
          }
        }
      }
    }
  }
}

/* in (in) -> out (out); weight (out, in) */
AGILENN_ALWAYS_INLINE void agilenn_dense_impl(const agilenn_dense_params* p, const int8_t* in,
                                              int32_t* out) {
  const int32_t n_in = p->in, n_out = p->out;
  const int8_t* const weight = p->weight;
  const int32_t* const bias = p->bias;
  int32_t o;
#if AGILENN_USE_DSP
  if ((n_in & 3) == 0 && n_in <= 128) {
    /* the dot products unrolled (n_in is a constant): loads at immediate offsets, no loop */
    int32_t j;
    for (o = 0; o < n_out; ++o) {
      const int8_t* const w = weight + (size_t)o * n_in;
      int32_t acc = bias[o];
      AGILENN_UNROLL_ALL
      for (j = 0; j < n_in / 4; ++j) {
        uint32_t wx, ww;
        memcpy(&wx, in + 4 * j, 4);
        memcpy(&ww, w + 4 * j, 4);
        acc = __smlad(__sxtb16((int32_t)wx), __sxtb16((int32_t)ww), acc);
        acc = __smlad(agilenn_sxtb16_ror8(wx), agilenn_sxtb16_ror8(ww), acc);
      }
      out[o] = acc;
    }
    return;
  }
#endif
  for (o = 0; o < n_out; ++o) out[o] = agilenn_dot_s8(in, weight + (size_t)o * n_in, n_in, bias[o]);
}

/* External entry points of the kernels (declared in agilenn_kernels.h), for the host tests that
 * call each kernel on its own (AGILENN_KERNEL_ENTRY_POINTS); the generated agilenn_run calls the
 * inline bodies, so the bundle leaves them out and carries no unused code in flash. */
#ifdef AGILENN_KERNEL_ENTRY_POINTS
AGILENN_KERNEL void agilenn_dwconv_u8(const agilenn_dw_params* p, const uint8_t* in, int8_t* out) {
  agilenn_dwconv_u8_impl(p, in, out);
}

AGILENN_KERNEL void agilenn_dwconv_s8(const agilenn_dw_params* p, const int8_t* in, int8_t* out) {
  agilenn_dwconv_s8_impl(p, in, out);
}

AGILENN_KERNEL void agilenn_pwconv(const agilenn_pw_params* p, const int8_t* in, int8_t* out) {
  agilenn_pwconv_impl(p, in, out);
}

AGILENN_KERNEL void agilenn_pwconv_strided(const agilenn_pw_params* p, const int8_t* in,
                                           int8_t* out, int32_t px_stride, int32_t ch_stride) {
  agilenn_pwconv_strided_impl(p, in, out, px_stride, ch_stride);
}

AGILENN_KERNEL void agilenn_dwconv_s8_planar(const agilenn_dw_params* p, const int8_t* in,
                                             int8_t* out) {
  agilenn_dwconv_s8_planar_impl(p, in, out);
}

AGILENN_KERNEL void agilenn_pw1_lut_planar(int32_t pixels, int32_t out_c, const int8_t* table,
                                           const int8_t* in, int8_t* out, int32_t plane) {
  agilenn_pw1_lut_planar_impl(pixels, out_c, table, in, out, plane);
}

AGILENN_KERNEL void agilenn_fill_border_planar(int8_t* buf, int32_t hp, int32_t wp, int32_t c,
                                               int32_t top, int32_t left, int32_t h, int32_t w,
                                               const int8_t* pixel) {
  agilenn_fill_border_planar_impl(buf, hp, wp, c, top, left, h, w, pixel);
}

AGILENN_KERNEL void agilenn_pwconv_split(const agilenn_pw_params* p, int32_t k, const int8_t* in,
                                         int8_t* local, const agilenn_quantizer* q,
                                         uint8_t* indices) {
  agilenn_pwconv_split_impl(p, k, in, local, q, indices);
}

AGILENN_KERNEL void agilenn_pw1_lut(int32_t pixels, int32_t out_c, const int8_t* table,
                                    const int8_t* in, int8_t* out) {
  agilenn_pw1_lut_impl(pixels, out_c, table, in, out);
}

AGILENN_KERNEL void agilenn_pw_quant_sce_row(const agilenn_pw_params* p, int32_t k,
                                             const int8_t* in, int8_t* local,
                                             const int32_t* acc_threshold,
                                             const uint8_t* index_of_pos, uint32_t bits,
                                             agilenn_ce_state* s, const agilenn_sce_model* m,
                                             uint16_t* row, const uint16_t* up) {
  agilenn_pw_quant_sce_row_impl(p, k, in, local, acc_threshold, index_of_pos, bits, s, m, row, up);
}

AGILENN_KERNEL void agilenn_grid_avg_pool(const int8_t* in, int32_t h, int32_t w, int32_t c,
                                          int32_t g, int8_t* out) {
  agilenn_grid_avg_pool_impl(in, h, w, c, g, out);
}

AGILENN_KERNEL void agilenn_dense(const agilenn_dense_params* p, const int8_t* in, int32_t* out) {
  agilenn_dense_impl(p, in, out);
}
#endif
