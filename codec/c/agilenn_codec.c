#include "agilenn_codec.h"

void agl_quantize(const float* x, size_t n, const float* thresholds, uint32_t n_thresholds,
                  uint8_t* indices) {
  for (size_t i = 0; i < n; ++i) {
    uint32_t idx = 0;
    for (uint32_t t = 0; t < n_thresholds; ++t) idx += x[i] > thresholds[t];
    indices[i] = (uint8_t)idx;
  }
}

static uint32_t index_bits(uint32_t alphabet) {
  uint32_t bits = 0;
  while ((1u << bits) < alphabet) ++bits;
  return bits;
}

/* LZMA-style range encoder; the always-zero first byte is not written. */
typedef struct {
  uint64_t low;
  uint32_t range;
  uint8_t cache;
  uint32_t cache_size;
  int started;
  uint8_t* out;
  size_t pos, capacity;
  int overflow;
} agl_rc;

static void rc_put(agl_rc* rc, uint8_t b) {
  if (rc->pos < rc->capacity)
    rc->out[rc->pos++] = b;
  else
    rc->overflow = 1;
}

static void rc_shift_low(agl_rc* rc) {
  if ((uint32_t)rc->low < 0xFF000000u || (rc->low >> 32) != 0) {
    const uint8_t carry = (uint8_t)(rc->low >> 32);
    uint8_t byte = rc->cache;
    do {
      if (rc->started) rc_put(rc, (uint8_t)(byte + carry));
      rc->started = 1;
      byte = 0xFF;
    } while (--rc->cache_size != 0);
    rc->cache = (uint8_t)(rc->low >> 24);
  }
  ++rc->cache_size;
  rc->low = (rc->low & 0x00FFFFFFu) << 8;
}

static void rc_encode(agl_rc* rc, uint16_t* p, uint32_t bit, uint32_t shift) {
  const uint32_t bound = (rc->range >> 12) * *p;
  if (bit == 0) {
    rc->range = bound;
    *p = (uint16_t)(*p + ((4096u - *p) >> shift));
  } else {
    rc->low += bound;
    rc->range -= bound;
    *p = (uint16_t)(*p - (*p >> shift));
  }
  while (rc->range < (1u << 24)) {
    rc->range <<= 8;
    rc_shift_low(rc);
  }
}

size_t agl_context_encode(const agl_context_model* m, const uint8_t* map, uint32_t height,
                          uint32_t width, uint16_t* probs, uint8_t* out, size_t capacity) {
  const uint32_t bits = index_bits(m->alphabet);
  const uint32_t nodes = (1u << bits) - 1u;
  const uint32_t L = m->levels, R = m->channels, shift = m->shift, G = m->groups;
  const size_t table = (size_t)m->groups * L * L * L * nodes;
  const size_t row = (size_t)width * R;
  agl_rc rc = {0, 0xFFFFFFFFu, 0, 1, 0, out, 0, capacity, 0};
  size_t pos = 0;
  uint32_t y, x, r;
  for (size_t i = 0; i < table; ++i) probs[i] = m->init_probs[i];
  for (y = 0; y < height; ++y) {
    for (x = 0; x < width; ++x) {
      uint32_t group = 0, acc = 0; /* group = r * G / R without dividing */
      for (r = 0; r < R; ++r, ++pos) {
        const uint32_t left = x > 0 ? map[pos - R] : 0;
        const uint32_t up = y > 0 ? map[pos - row] : 0;
        const uint32_t prev = r > 0 ? map[pos - 1] : 0;
        const uint32_t ql = left < L ? left : L - 1;
        const uint32_t qu = up < L ? up : L - 1;
        const uint32_t qp = prev < L ? prev : L - 1;
        uint16_t* p;
        uint32_t node = 1, b;
        while (acc >= (group + 1) * R) ++group;
        p = probs + (((group * L + ql) * L + qu) * L + qp) * nodes;
        for (b = bits; b-- > 0;) {
          const uint32_t bit = (map[pos] >> b) & 1u;
          rc_encode(&rc, &p[node - 1], bit, shift);
          node = 2 * node + bit;
        }
        acc += G;
      }
    }
  }
  for (int i = 0; i < 5; ++i) rc_shift_low(&rc);
  return rc.overflow ? 0 : rc.pos;
}

/* Coder 4's range stream; channels with skip[r] != 0 (coder 5) are not coded. */
static size_t static_stream(const agl_static_context_model* m, const uint8_t* map, uint32_t height,
                            uint32_t width, const uint8_t* skip, uint8_t* out, size_t capacity) {
  const uint32_t L = m->levels, R = m->channels, G = m->groups, stride = m->alphabet + 1;
  const size_t row = (size_t)width * R;
  agl_rc rc = {0, 0xFFFFFFFFu, 0, 1, 0, out, 0, capacity, 0};
  size_t pos = 0;
  uint32_t y, x, r;
  for (y = 0; y < height; ++y) {
    for (x = 0; x < width; ++x) {
      uint32_t group = 0, acc = 0; /* group = r * G / R without dividing */
      for (r = 0; r < R; ++r, ++pos) {
        const uint32_t left = x > 0 ? map[pos - R] : 0;
        const uint32_t up = y > 0 ? map[pos - row] : 0;
        const uint32_t prev = r > 0 ? map[pos - 1] : 0;
        const uint32_t ql = left < L ? left : L - 1;
        const uint32_t qu = up < L ? up : L - 1;
        const uint32_t qp = prev < L ? prev : L - 1;
        const uint16_t* cum;
        uint32_t step;
        while (acc >= (group + 1) * R) ++group;
        acc += G;
        if (skip && skip[r]) continue;
        cum = m->cdf + (((group * L + ql) * L + qu) * L + qp) * stride + map[pos];
        step = rc.range >> 12;
        rc.low += (uint64_t)step * cum[0];
        rc.range = step * (uint32_t)(cum[1] - cum[0]);
        while (rc.range < (1u << 24)) {
          rc.range <<= 8;
          rc_shift_low(&rc);
        }
      }
    }
  }
  for (int i = 0; i < 5; ++i) rc_shift_low(&rc);
  return rc.overflow ? 0 : rc.pos;
}

size_t agl_context_encode_static(const agl_static_context_model* m, const uint8_t* map,
                                 uint32_t height, uint32_t width, uint8_t* out, size_t capacity) {
  return static_stream(m, map, height, width, NULL, out, capacity);
}

size_t agl_context_encode_skip(const agl_static_context_model* m, const uint8_t* map,
                               uint32_t height, uint32_t width, const uint8_t* skip, uint8_t* out,
                               size_t capacity) {
  const uint32_t R = m->channels, bits = index_bits(m->alphabet);
  const size_t mask_bytes = (R + 7) / 8;
  size_t n = 0, pos, stream;
  uint32_t r, acc = 0, fill = 0;
  if (capacity < mask_bytes) return 0;
  for (pos = 0; pos < mask_bytes; ++pos) out[pos] = 0;
  for (r = 0; r < R; ++r)
    if (skip[r]) {
      for (pos = r; pos < (size_t)height * width * R; pos += R)
        if (map[pos] != map[r]) return 0; /* not constant: cannot be skipped */
      out[r / 8] |= (uint8_t)(1u << (r % 8));
    }
  n = mask_bytes;
  for (r = 0; r < R; ++r) { /* the skipped values as packed bits, MSB first */
    if (!skip[r]) continue;
    acc = (acc << bits) | map[r];
    fill += bits;
    while (fill >= 8) {
      fill -= 8;
      if (n >= capacity) return 0;
      out[n++] = (uint8_t)(acc >> fill);
    }
    acc &= (1u << fill) - 1u;
  }
  if (fill > 0) {
    if (n >= capacity) return 0;
    out[n++] = (uint8_t)(acc << (8 - fill));
  }
  stream = static_stream(m, map, height, width, skip, out + n, capacity - n);
  return stream == 0 ? 0 : n + stream;
}

size_t agl_packed_encode(const uint8_t* map, size_t n, uint32_t alphabet, uint8_t* out) {
  const uint32_t bits = index_bits(alphabet);
  uint32_t acc = 0, fill = 0;
  size_t pos = 0;
  for (size_t i = 0; i < n; ++i) {
    acc = (acc << bits) | map[i];
    fill += bits;
    while (fill >= 8) {
      fill -= 8;
      out[pos++] = (uint8_t)(acc >> fill);
    }
    acc &= (1u << fill) - 1u;
  }
  if (fill > 0) out[pos++] = (uint8_t)(acc << (8 - fill));
  return pos;
}

/* CRC-32 of the 16 values of a nibble (zlib's reflected polynomial 0xEDB88320): two lookups per
 * byte instead of eight shift steps, 64 bytes of table. */
static const uint32_t agl_crc32_nibble[16] = {0x00000000u, 0x1DB71064u, 0x3B6E20C8u, 0x26D930ACu,
                                              0x76DC4190u, 0x6B6B51F4u, 0x4DB26158u, 0x5005713Cu,
                                              0xEDB88320u, 0xF00F9344u, 0xD6D6A3E8u, 0xCB61B38Cu,
                                              0x9B64C2B0u, 0x86D3D2D4u, 0xA00AE278u, 0xBDBDF21Cu};

uint32_t agl_crc32(uint32_t crc, const uint8_t* data, size_t n) {
  crc = ~crc;
  for (size_t i = 0; i < n; ++i) {
    crc ^= data[i];
    crc = (crc >> 4) ^ agl_crc32_nibble[crc & 15u];
    crc = (crc >> 4) ^ agl_crc32_nibble[crc & 15u];
  }
  return ~crc;
}

static void put16(uint8_t* p, uint32_t v) {
  p[0] = (uint8_t)v;
  p[1] = (uint8_t)(v >> 8);
}
static void put32(uint8_t* p, uint32_t v) {
  put16(p, v);
  put16(p + 2, v >> 16);
}

size_t agl_finish_packet(uint8_t* packet, uint8_t coder, uint32_t fingerprint, uint32_t height,
                         uint32_t width, uint32_t channels, uint32_t local_channels,
                         uint32_t alphabet, size_t payload_length) {
  uint32_t crc;
  packet[0] = 'A';
  packet[1] = 'G';
  /* coder 4 (static context) travels in version-2 packets, coder 5 (context-skip) in version 3 */
  packet[2] = coder == 4 ? 2 : coder == 5 ? 3 : 1;
  packet[3] = coder;
  put32(packet + 4, fingerprint);
  put16(packet + 8, height);
  put16(packet + 10, width);
  put16(packet + 12, channels);
  packet[14] = (uint8_t)local_channels;
  packet[15] = (uint8_t)(alphabet - 1);
  put32(packet + 16, (uint32_t)payload_length);
  crc = agl_crc32(0, packet, 20);
  crc = agl_crc32(crc, packet + 24, payload_length);
  put32(packet + 20, crc);
  return 24 + payload_length;
}
