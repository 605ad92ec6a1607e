/* C99 LZW encoder for an MCU: the bytes of codec/lzw.h's lzw_encode (same dictionary policy, code
 * widths and MSB-first packing) with an open-addressing hash table in a caller-provided work
 * area instead of the host's C x 4096 child table. Used to measure the edge-only baseline's
 * compressor (raw image bytes, alphabet 256) on a Cortex-M; no allocation, no division. */
#ifndef AGILENN_LZW_C_H
#define AGILENN_LZW_C_H
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Hash slots the encoder needs for n input symbols: a power of two >= 2 x the entries it can add
 * (min(n, 4096 - alphabet)), so the table is at most half full. Each slot is a uint32_t. */
size_t agl_lzw_work_slots(size_t n, uint32_t alphabet);

/* Encodes in[0, n) (each < alphabet, 2..256) into out[0, capacity). `work` holds
 * agl_lzw_work_slots(n, alphabet) uint32_t (cleared here). Returns the payload size, or 0 if n is
 * 0 or the payload would exceed capacity. */
size_t agl_lzw_encode(const uint8_t* in, size_t n, uint32_t alphabet, uint32_t* work, uint8_t* out,
                      size_t capacity);

#ifdef __cplusplus
}
#endif
#endif
