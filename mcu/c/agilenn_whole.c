#include "agilenn_whole.h"

static int32_t agl_whole_srdhm(int32_t a, int32_t b) {
  int64_t ab, nudge;
  if (a == b && a == INT32_MIN) return INT32_MAX;
  ab = (int64_t)a * (int64_t)b;
  nudge = ab >= 0 ? ((int64_t)1 << 30) : (1 - ((int64_t)1 << 30));
  return (int32_t)((ab + nudge) / ((int64_t)1 << 31));
}

static int32_t agl_whole_rdbpot(int32_t x, int exponent) {
  const int32_t mask = (int32_t)(((int64_t)1 << exponent) - 1);
  const int32_t remainder = x & mask;
  const int32_t threshold = (mask >> 1) + (x < 0 ? 1 : 0);
  return (x >> exponent) + (remainder > threshold ? 1 : 0);
}

static int32_t agl_whole_requantize(int32_t acc, int32_t multiplier, int32_t shift) {
  const int left = shift > 0 ? shift : 0, right = shift > 0 ? 0 : -shift;
  int64_t v = (int64_t)acc * ((int64_t)1 << left);
  if (v > INT32_MAX) v = INT32_MAX;
  if (v < INT32_MIN) v = INT32_MIN;
  return agl_whole_rdbpot(agl_whole_srdhm((int32_t)v, multiplier), right);
}

static int8_t agl_whole_clamp(int32_t v, int32_t lo, int32_t hi) {
  return (int8_t)(v < lo ? lo : v > hi ? hi : v);
}

/* in (H, W, C) -> out (OH, OW, C), 3x3, zero padding in the real domain: the window's valid
 * rows/columns are found once per output pixel, so the tap loops have no bounds checks. */
static void agl_whole_depthwise(const agl_whole_op* op, const int8_t* in, int8_t* out) {
  const int C = op->in_c;
  int oy, ox, c, ky, kx;
  for (oy = 0; oy < op->out_h; ++oy) {
    const int y0 = oy * op->stride - op->pad_top;
    const int ky0 = y0 < 0 ? -y0 : 0, ky1 = y0 + 3 > op->in_h ? op->in_h - y0 : 3;
    for (ox = 0; ox < op->out_w; ++ox) {
      const int x0 = ox * op->stride - op->pad_left;
      const int kx0 = x0 < 0 ? -x0 : 0, kx1 = x0 + 3 > op->in_w ? op->in_w - x0 : 3;
      int8_t* o = out + ((size_t)oy * op->out_w + ox) * C;
      for (c = 0; c < C; ++c) {
        const int8_t* w = op->weight + (size_t)c * 9;
        int32_t acc = op->bias[c];
        for (ky = ky0; ky < ky1; ++ky) {
          /* the window's first valid pixel of this row (never before the image) */
          const int8_t* row = in + ((size_t)(y0 + ky) * op->in_w + (size_t)(x0 + kx0)) * C + c;
          for (kx = kx0; kx < kx1; ++kx, row += C)
            acc += ((int32_t)*row - op->in_zp) * w[ky * 3 + kx];
        }
        o[c] =
            agl_whole_clamp(agl_whole_requantize(acc, op->multiplier[c], op->shift[c]) + op->out_zp,
                            op->act_min, op->act_max);
      }
    }
  }
}

/* in (P, Cin) -> out (P, Cout), weight [Cout][Cin]; the input zero point is folded into the bias
 * by the generator (bias - in_zp * sum of the channel's weights). */
static void agl_whole_pointwise(const agl_whole_op* op, const int8_t* in, int8_t* out) {
  const size_t pixels = (size_t)op->in_h * (size_t)op->in_w;
  size_t p;
  int o, i;
  for (p = 0; p < pixels; ++p) {
    const int8_t* x = in + p * (size_t)op->in_c;
    for (o = 0; o < op->out_c; ++o) {
      const int8_t* w = op->weight + (size_t)o * (size_t)op->in_c;
      int32_t acc = op->bias[o];
      for (i = 0; i < op->in_c; ++i) acc += (int32_t)x[i] * w[i];
      out[p * (size_t)op->out_c + o] =
          agl_whole_clamp(agl_whole_requantize(acc, op->multiplier[o], op->shift[o]) + op->out_zp,
                          op->act_min, op->act_max);
    }
  }
}

/* TFLite Micro's int8 ADD: both inputs rescaled to a common scale after a left shift of 20. */
static void agl_whole_add(const agl_whole_op* op, const int8_t* a, const int8_t* b, int8_t* out) {
  const size_t n = (size_t)op->out_h * (size_t)op->out_w * (size_t)op->out_c;
  size_t i;
  for (i = 0; i < n; ++i) {
    const int32_t x = agl_whole_requantize(((int32_t)a[i] - op->in_zp) * (1 << 20),
                                           op->multiplier[0], op->shift[0]);
    const int32_t y = agl_whole_requantize(((int32_t)b[i] - op->in1_zp) * (1 << 20),
                                           op->multiplier[1], op->shift[1]);
    out[i] =
        agl_whole_clamp(agl_whole_requantize(x + y, op->multiplier[2], op->shift[2]) + op->out_zp,
                        op->act_min, op->act_max);
  }
}

/* in (H, W, C) -> out (C): TFLite Micro's rounding (sum +- count/2) / count. */
static void agl_whole_avgpool(const agl_whole_op* op, const int8_t* in, int8_t* out) {
  const int32_t count = op->in_h * op->in_w;
  int c, p;
  for (c = 0; c < op->out_c; ++c) {
    int32_t sum = 0;
    for (p = 0; p < count; ++p) sum += in[(size_t)p * op->in_c + c];
    sum = sum >= 0 ? (sum + count / 2) / count : (sum - count / 2) / count;
    out[c] = agl_whole_clamp(sum, -128, 127);
  }
}

/* in (N) -> int32 logits (M), weight [M][N]; input zero point folded into the bias. */
static void agl_whole_dense(const agl_whole_op* op, const int8_t* in, int32_t* out) {
  int o, i;
  for (o = 0; o < op->out_c; ++o) {
    const int8_t* w = op->weight + (size_t)o * (size_t)op->in_c;
    int32_t acc = op->bias[o];
    for (i = 0; i < op->in_c; ++i) acc += (int32_t)in[i] * w[i];
    out[o] = acc;
  }
}

void agl_whole_run_op(const agl_whole_op* op, uint8_t* arena) {
  const int8_t* in = (const int8_t*)(arena + op->in0);
  int8_t* out = (int8_t*)(arena + op->out);
  switch (op->kind) {
    case AGL_WHOLE_DEPTHWISE:
      agl_whole_depthwise(op, in, out);
      break;
    case AGL_WHOLE_POINTWISE:
      agl_whole_pointwise(op, in, out);
      break;
    case AGL_WHOLE_ADD:
      agl_whole_add(op, in, (const int8_t*)(arena + op->in1), out);
      break;
    case AGL_WHOLE_AVGPOOL:
      agl_whole_avgpool(op, in, out);
      break;
    case AGL_WHOLE_DENSE:
      agl_whole_dense(op, in, (int32_t*)(void*)out);
      break;
    default:
      break;
  }
}
