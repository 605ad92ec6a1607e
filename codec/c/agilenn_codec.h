/* C99 reference of the device side of the link codec: threshold quantization, the context
 * coder's encoders (adaptive, coder 3; static, coder 4; static without constant channels, coder
 * 5) and the packet header. Integer-only (except
 * the float compares of the quantizer), no allocation, no division in the per-index loop;
 * bit-identical to the C++ codec (checked by test_codec against golden packets). Meant as the
 * source the MCU generator uses. */
#ifndef AGILENN_CODEC_C_H
#define AGILENN_CODEC_C_H
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* index = number of thresholds t[i] < x (thresholds from Quantizer::thresholds(), C - 1 of them).
 */
void agl_quantize(const float* x, size_t n, const float* thresholds, uint32_t n_thresholds,
                  uint8_t* indices);

typedef struct {
  uint32_t alphabet; /* C, 2..256 */
  uint32_t channels; /* R */
  uint32_t levels, groups, shift;
  const uint16_t* init_probs; /* groups * levels^3 * (2^ceil(log2 C) - 1) entries */
} agl_context_model;

/* Encodes the H x W x R index map (NHWC). `probs` is a work array of as many entries as
 * init_probs (reset from init_probs here). Returns the payload size, or 0 if it would exceed
 * `capacity` (then send packed bits instead). */
size_t agl_context_encode(const agl_context_model* m, const uint8_t* map, uint32_t height,
                          uint32_t width, uint16_t* probs, uint8_t* out, size_t capacity);

/* Coder 4, the static context coder (ContextModel::encode_static): the same contexts as
 * agl_context_encode, one multi-symbol step per index with the context's cumulative frequencies
 * (C + 1 entries summing to 4096, ContextModel::static_cdf), no adaptation and no work array.
 * Returns the payload size, or 0 if it would exceed `capacity`. */
typedef struct {
  uint32_t alphabet, channels, levels, groups;
  const uint16_t* cdf; /* groups * levels^3 * (alphabet + 1) entries */
} agl_static_context_model;

size_t agl_context_encode_static(const agl_static_context_model* m, const uint8_t* map,
                                 uint32_t height, uint32_t width, uint8_t* out, size_t capacity);

/* Coder 5 (context-skip, ContextModel::encode_static_skip): channels with skip[r] != 0 (R flags)
 * must be constant in the map; the payload is their mask and values, then coder 4's stream of the
 * other channels. Returns the payload size, or 0 if it would exceed `capacity` or a flagged
 * channel is not constant. */
size_t agl_context_encode_skip(const agl_static_context_model* m, const uint8_t* map,
                               uint32_t height, uint32_t width, const uint8_t* skip, uint8_t* out,
                               size_t capacity);

/* Packed bits (coder 0): ceil(log2 C) bits per index, MSB first. Returns the size. */
size_t agl_packed_encode(const uint8_t* map, size_t n, uint32_t alphabet, uint8_t* out);

/* CRC-32 (zlib's polynomial), a nibble at a time (16-entry table). */
uint32_t agl_crc32(uint32_t crc, const uint8_t* data, size_t n);

/* Writes the 24-byte header in front of a payload already at packet + 24, and the CRC: version 2
 * for coder 4 (the static context coder), 3 for coder 5 (context-skip), 1 for coders 0-3.
 * Returns the packet size. */
size_t agl_finish_packet(uint8_t* packet, uint8_t coder, uint32_t fingerprint, uint32_t height,
                         uint32_t width, uint32_t channels, uint32_t local_channels,
                         uint32_t alphabet, size_t payload_length);

#ifdef __cplusplus
}
#endif
#endif
