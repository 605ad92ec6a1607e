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

/* floor(a*b / 2^31 + 1/2), saturating a = b = INT32_MIN (gemmlowp). The division by 2^31 of a
 * signed 64-bit value truncates toward zero; gcc turns it into shifts. */
static int32_t agilenn_srdhm(int32_t a, int32_t b) {
  int64_t ab, nudge;
  if (a == b && a == INT32_MIN) return INT32_MAX;
  ab = (int64_t)a * (int64_t)b;
  nudge = ab >= 0 ? ((int64_t)1 << 30) : (1 - ((int64_t)1 << 30));
  return (int32_t)((ab + nudge) / ((int64_t)1 << 31));
}

/* x / 2^e rounded half away from zero, e in [0, 31] (gemmlowp RoundingDivideByPOT). */
static int32_t agilenn_rdbpot(int32_t x, int32_t e) {
  const int32_t mask = (int32_t)(((int64_t)1 << e) - 1);
  const int32_t remainder = x & mask;
  const int32_t threshold = (mask >> 1) + (x < 0 ? 1 : 0);
  return (x >> e) + (remainder > threshold ? 1 : 0);
}

/* Double-rounding requantization; a left shift saturates to int32. */
AGILENN_KERNEL int32_t agilenn_requantize(int32_t acc, int32_t multiplier, int32_t shift) {
  if (shift > 0) {
    int64_t s = (int64_t)acc * ((int64_t)1 << shift);
    if (s > INT32_MAX) s = INT32_MAX;
    if (s < INT32_MIN) s = INT32_MIN;
    return agilenn_srdhm((int32_t)s, multiplier);
  }
  return agilenn_rdbpot(agilenn_srdhm(acc, multiplier), -shift);
}

static int32_t agilenn_clamp(int32_t v, int32_t lo, int32_t hi) {
  return v < lo ? lo : (v > hi ? hi : v);
}

/* acc + sum_i a[i] * b[i] over n int8 pairs. The DSP path sign-extends bytes (0,2) and (1,3) of
 * both words with SXTB16 and multiplies the matching halfword pairs with SMLAD: the same set of
 * products, so the same exact int32 sum. */
static int32_t agilenn_dot_s8(const int8_t *a, const int8_t *b, int32_t n, int32_t acc) {
#if AGILENN_USE_DSP
  while (n >= 4) {
    uint32_t wa, wb;
    memcpy(&wa, a, 4);
    memcpy(&wb, b, 4);
    acc = __smlad(__sxtb16((int32_t)wa), __sxtb16((int32_t)wb), acc);
    acc = __smlad(__sxtb16((int32_t)((wa >> 8) | (wa << 24))),
                  __sxtb16((int32_t)((wb >> 8) | (wb << 24))), acc);
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

AGILENN_KERNEL void agilenn_encoder_begin(agilenn_encoder *e, uint8_t *out, int32_t bits) {
  e->out = out;
  e->len = 0;
  e->acc = 0;
  e->nbits = 0;
  e->bits = bits;
}

AGILENN_KERNEL void agilenn_encoder_put(agilenn_encoder *e, uint32_t symbol) {
  e->acc |= symbol << e->nbits;
  e->nbits += e->bits;
  while (e->nbits >= 8) {
    e->out[e->len++] = (uint8_t)e->acc;
    e->acc >>= 8;
    e->nbits -= 8;
  }
}

AGILENN_KERNEL size_t agilenn_encoder_end(agilenn_encoder *e) {
  if (e->nbits > 0) e->out[e->len++] = (uint8_t)e->acc;
  e->acc = 0;
  e->nbits = 0;
  return e->len;
}

AGILENN_KERNEL uint32_t agilenn_quantize_index(const agilenn_quantizer *q, int32_t v) {
  int32_t j, pos = 0;
  for (j = 0; j < q->num_thresholds; ++j) pos += v >= q->thresholds[j] ? 1 : 0;
  return q->index_of_pos[pos];
}

/* in (in_h, in_w, in_c) -> out (out_h, out_w, in_c*mult); weight (kh, kw, in_c*mult) */
#define AGILENN_DWCONV_BODY(IN_T)                                                             \
  const int32_t oc = p->in_c * p->mult;                                                       \
  int32_t oy, ox, c, m, ky, kx;                                                               \
  for (oy = 0; oy < p->out_h; ++oy) {                                                         \
    const int32_t iy0 = oy * p->stride - p->pad_top;                                          \
    const int32_t ky0 = iy0 < 0 ? -iy0 : 0;                                                   \
    const int32_t ky1 = iy0 + p->kh > p->in_h ? p->in_h - iy0 : p->kh;                        \
    for (ox = 0; ox < p->out_w; ++ox) {                                                       \
      const int32_t ix0 = ox * p->stride - p->pad_left;                                       \
      const int32_t kx0 = ix0 < 0 ? -ix0 : 0;                                                 \
      const int32_t kx1 = ix0 + p->kw > p->in_w ? p->in_w - ix0 : p->kw;                      \
      int8_t *y = out + ((size_t)oy * p->out_w + ox) * oc;                                    \
      for (c = 0; c < p->in_c; ++c) {                                                         \
        const int32_t off = p->input_offset[c];                                               \
        for (m = 0; m < p->mult; ++m) {                                                       \
          const int32_t o = c * p->mult + m;                                                  \
          int32_t acc = p->bias[o];                                                           \
          for (ky = ky0; ky < ky1; ++ky) {                                                    \
            const IN_T *x = in + ((size_t)(iy0 + ky) * p->in_w + ix0) * p->in_c + c;          \
            const int8_t *w = p->weight + (size_t)ky * p->kw * oc + o;                        \
            for (kx = kx0; kx < kx1; ++kx)                                                    \
              acc += ((int32_t)x[kx * p->in_c] + off) * (int32_t)w[kx * oc];                  \
          }                                                                                   \
          acc = agilenn_requantize(acc, p->multiplier[o], p->shift[o]) + p->output_offset;    \
          y[o] = (int8_t)agilenn_clamp(acc, p->act_min, p->act_max);                          \
        }                                                                                     \
      }                                                                                       \
    }                                                                                         \
  }

AGILENN_KERNEL void agilenn_dwconv_u8(const agilenn_dw_params *p, const uint8_t *in, int8_t *out) {
  AGILENN_DWCONV_BODY(uint8_t)
}

AGILENN_KERNEL void agilenn_dwconv_s8(const agilenn_dw_params *p, const int8_t *in, int8_t *out) {
  AGILENN_DWCONV_BODY(int8_t)
}

/* in (pixels, in_c) -> out (pixels, out_c); weight (out_c, in_c) */
AGILENN_KERNEL void agilenn_pwconv(const agilenn_pw_params *p, const int8_t *in, int8_t *out) {
  int32_t px, o;
  for (px = 0; px < p->pixels; ++px) {
    const int8_t *x = in + (size_t)px * p->in_c;
    int8_t *y = out + (size_t)px * p->out_c;
    for (o = 0; o < p->out_c; ++o) {
      int32_t acc = agilenn_dot_s8(x, p->weight + (size_t)o * p->in_c, p->in_c, p->bias[o]);
      acc = agilenn_requantize(acc, p->multiplier[o], p->shift[o]) + p->output_offset;
      y[o] = (int8_t)agilenn_clamp(acc, p->act_min, p->act_max);
    }
  }
}

/* in (pixels, in_c) -> local (pixels, k) + encoded indices of channels [k, out_c) */
AGILENN_KERNEL void agilenn_pwconv_split(const agilenn_pw_params *p, int32_t k, const int8_t *in,
                                         int8_t *local, const agilenn_quantizer *q,
                                         agilenn_encoder *enc) {
  int32_t px, o;
  for (px = 0; px < p->pixels; ++px) {
    const int8_t *x = in + (size_t)px * p->in_c;
    for (o = 0; o < p->out_c; ++o) {
      int32_t acc = agilenn_dot_s8(x, p->weight + (size_t)o * p->in_c, p->in_c, p->bias[o]);
      acc = agilenn_requantize(acc, p->multiplier[o], p->shift[o]) + p->output_offset;
      acc = agilenn_clamp(acc, p->act_min, p->act_max);
      if (o < k) local[(size_t)px * k + o] = (int8_t)acc;
      else agilenn_encoder_put(enc, agilenn_quantize_index(q, acc));
    }
  }
}

/* in (h, w, c) -> out (g, g, c) */
AGILENN_KERNEL void agilenn_grid_avg_pool(const int8_t *in, int32_t h, int32_t w, int32_t c,
                                          int32_t g, int8_t *out) {
  int32_t gy, gx, ch, iy, ix;
  for (gy = 0; gy < g; ++gy) {
    const int32_t y0 = gy * h / g, y1 = ((gy + 1) * h + g - 1) / g;
    for (gx = 0; gx < g; ++gx) {
      const int32_t x0 = gx * w / g, x1 = ((gx + 1) * w + g - 1) / g;
      const int32_t count = (y1 - y0) * (x1 - x0);
      for (ch = 0; ch < c; ++ch) {
        int32_t sum = 0, avg;
        for (iy = y0; iy < y1; ++iy)
          for (ix = x0; ix < x1; ++ix) sum += in[((size_t)iy * w + ix) * c + ch];
        avg = sum > 0 ? (sum + count / 2) / count : (sum - count / 2) / count;
        out[((size_t)gy * g + gx) * c + ch] = (int8_t)agilenn_clamp(avg, -128, 127);
      }
    }
  }
}

/* in (in) -> out (out); weight (out, in) */
AGILENN_KERNEL void agilenn_dense(const agilenn_dense_params *p, const int8_t *in, int32_t *out) {
  int32_t o;
  for (o = 0; o < p->out; ++o)
    out[o] = agilenn_dot_s8(in, p->weight + (size_t)o * p->in, p->in, p->bias[o]);
}
