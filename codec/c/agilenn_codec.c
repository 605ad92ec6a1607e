#include "agilenn_codec.h"
#include <string.h>

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

/* CRC-32 (zlib's reflected polynomial 0xEDB88320) a byte at a time: crc = (crc >> 8) ^
 * table[(crc ^ byte) & 255], 1 KB of flash. On a little-endian core four bytes at a time: the
 * word is XORed into crc once, then four table steps (the same value: the steps are linear, so
 * the later bytes may join crc before their step). */
static const uint32_t agl_crc32_table[256] = {
    0x00000000u, 0x77073096u, 0xEE0E612Cu, 0x990951BAu, 0x076DC419u, 0x706AF48Fu, 0xE963A535u,
    0x9E6495A3u, 0x0EDB8832u, 0x79DCB8A4u, 0xE0D5E91Eu, 0x97D2D988u, 0x09B64C2Bu, 0x7EB17CBDu,
    0xE7B82D07u, 0x90BF1D91u, 0x1DB71064u, 0x6AB020F2u, 0xF3B97148u, 0x84BE41DEu, 0x1ADAD47Du,
    0x6DDDE4EBu, 0xF4D4B551u, 0x83D385C7u, 0x136C9856u, 0x646BA8C0u, 0xFD62F97Au, 0x8A65C9ECu,
    0x14015C4Fu, 0x63066CD9u, 0xFA0F3D63u, 0x8D080DF5u, 0x3B6E20C8u, 0x4C69105Eu, 0xD56041E4u,
    0xA2677172u, 0x3C03E4D1u, 0x4B04D447u, 0xD20D85FDu, 0xA50AB56Bu, 0x35B5A8FAu, 0x42B2986Cu,
    0xDBBBC9D6u, 0xACBCF940u, 0x32D86CE3u, 0x45DF5C75u, 0xDCD60DCFu, 0xABD13D59u, 0x26D930ACu,
    0x51DE003Au, 0xC8D75180u, 0xBFD06116u, 0x21B4F4B5u, 0x56B3C423u, 0xCFBA9599u, 0xB8BDA50Fu,
    0x2802B89Eu, 0x5F058808u, 0xC60CD9B2u, 0xB10BE924u, 0x2F6F7C87u, 0x58684C11u, 0xC1611DABu,
    0xB6662D3Du, 0x76DC4190u, 0x01DB7106u, 0x98D220BCu, 0xEFD5102Au, 0x71B18589u, 0x06B6B51Fu,
    0x9FBFE4A5u, 0xE8B8D433u, 0x7807C9A2u, 0x0F00F934u, 0x9609A88Eu, 0xE10E9818u, 0x7F6A0DBBu,
    0x086D3D2Du, 0x91646C97u, 0xE6635C01u, 0x6B6B51F4u, 0x1C6C6162u, 0x856530D8u, 0xF262004Eu,
    0x6C0695EDu, 0x1B01A57Bu, 0x8208F4C1u, 0xF50FC457u, 0x65B0D9C6u, 0x12B7E950u, 0x8BBEB8EAu,
    0xFCB9887Cu, 0x62DD1DDFu, 0x15DA2D49u, 0x8CD37CF3u, 0xFBD44C65u, 0x4DB26158u, 0x3AB551CEu,
    0xA3BC0074u, 0xD4BB30E2u, 0x4ADFA541u, 0x3DD895D7u, 0xA4D1C46Du, 0xD3D6F4FBu, 0x4369E96Au,
    0x346ED9FCu, 0xAD678846u, 0xDA60B8D0u, 0x44042D73u, 0x33031DE5u, 0xAA0A4C5Fu, 0xDD0D7CC9u,
    0x5005713Cu, 0x270241AAu, 0xBE0B1010u, 0xC90C2086u, 0x5768B525u, 0x206F85B3u, 0xB966D409u,
    0xCE61E49Fu, 0x5EDEF90Eu, 0x29D9C998u, 0xB0D09822u, 0xC7D7A8B4u, 0x59B33D17u, 0x2EB40D81u,
    0xB7BD5C3Bu, 0xC0BA6CADu, 0xEDB88320u, 0x9ABFB3B6u, 0x03B6E20Cu, 0x74B1D29Au, 0xEAD54739u,
    0x9DD277AFu, 0x04DB2615u, 0x73DC1683u, 0xE3630B12u, 0x94643B84u, 0x0D6D6A3Eu, 0x7A6A5AA8u,
    0xE40ECF0Bu, 0x9309FF9Du, 0x0A00AE27u, 0x7D079EB1u, 0xF00F9344u, 0x8708A3D2u, 0x1E01F268u,
    0x6906C2FEu, 0xF762575Du, 0x806567CBu, 0x196C3671u, 0x6E6B06E7u, 0xFED41B76u, 0x89D32BE0u,
    0x10DA7A5Au, 0x67DD4ACCu, 0xF9B9DF6Fu, 0x8EBEEFF9u, 0x17B7BE43u, 0x60B08ED5u, 0xD6D6A3E8u,
    0xA1D1937Eu, 0x38D8C2C4u, 0x4FDFF252u, 0xD1BB67F1u, 0xA6BC5767u, 0x3FB506DDu, 0x48B2364Bu,
    0xD80D2BDAu, 0xAF0A1B4Cu, 0x36034AF6u, 0x41047A60u, 0xDF60EFC3u, 0xA867DF55u, 0x316E8EEFu,
    0x4669BE79u, 0xCB61B38Cu, 0xBC66831Au, 0x256FD2A0u, 0x5268E236u, 0xCC0C7795u, 0xBB0B4703u,
    0x220216B9u, 0x5505262Fu, 0xC5BA3BBEu, 0xB2BD0B28u, 0x2BB45A92u, 0x5CB36A04u, 0xC2D7FFA7u,
    0xB5D0CF31u, 0x2CD99E8Bu, 0x5BDEAE1Du, 0x9B64C2B0u, 0xEC63F226u, 0x756AA39Cu, 0x026D930Au,
    0x9C0906A9u, 0xEB0E363Fu, 0x72076785u, 0x05005713u, 0x95BF4A82u, 0xE2B87A14u, 0x7BB12BAEu,
    0x0CB61B38u, 0x92D28E9Bu, 0xE5D5BE0Du, 0x7CDCEFB7u, 0x0BDBDF21u, 0x86D3D2D4u, 0xF1D4E242u,
    0x68DDB3F8u, 0x1FDA836Eu, 0x81BE16CDu, 0xF6B9265Bu, 0x6FB077E1u, 0x18B74777u, 0x88085AE6u,
    0xFF0F6A70u, 0x66063BCAu, 0x11010B5Cu, 0x8F659EFFu, 0xF862AE69u, 0x616BFFD3u, 0x166CCF45u,
    0xA00AE278u, 0xD70DD2EEu, 0x4E048354u, 0x3903B3C2u, 0xA7672661u, 0xD06016F7u, 0x4969474Du,
    0x3E6E77DBu, 0xAED16A4Au, 0xD9D65ADCu, 0x40DF0B66u, 0x37D83BF0u, 0xA9BCAE53u, 0xDEBB9EC5u,
    0x47B2CF7Fu, 0x30B5FFE9u, 0xBDBDF21Cu, 0xCABAC28Au, 0x53B39330u, 0x24B4A3A6u, 0xBAD03605u,
    0xCDD70693u, 0x54DE5729u, 0x23D967BFu, 0xB3667A2Eu, 0xC4614AB8u, 0x5D681B02u, 0x2A6F2B94u,
    0xB40BBE37u, 0xC30C8EA1u, 0x5A05DF1Bu, 0x2D02EF8Du};

uint32_t agl_crc32(uint32_t crc, const uint8_t* data, size_t n) {
  size_t i = 0;
  crc = ~crc;
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
  for (; i + 4 <= n; i += 4) {
    uint32_t w;
    memcpy(&w, data + i, 4);
    crc ^= w;
    crc = (crc >> 8) ^ agl_crc32_table[crc & 255u];
    crc = (crc >> 8) ^ agl_crc32_table[crc & 255u];
    crc = (crc >> 8) ^ agl_crc32_table[crc & 255u];
    crc = (crc >> 8) ^ agl_crc32_table[crc & 255u];
  }
#endif
  for (; i < n; ++i) crc = (crc >> 8) ^ agl_crc32_table[(crc ^ data[i]) & 255u];
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
