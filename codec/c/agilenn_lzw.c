#include "agilenn_lzw.h"

#include <string.h>

#define AGL_LZW_MAX_ENTRIES 4096u

size_t agl_lzw_work_slots(size_t n, uint32_t alphabet) {
  const size_t max_new = AGL_LZW_MAX_ENTRIES - alphabet;
  const size_t entries = n < max_new ? n : max_new;
  size_t slots = 16;
  while (slots < 2 * entries) slots <<= 1;
  return slots;
}

/* A slot holds key << 12 | code, key = string code << 8 | next symbol (20 bits); 0 = empty (the
 * codes of added entries are >= alphabet >= 2, so a filled slot is never 0). */
size_t agl_lzw_encode(const uint8_t* in, size_t n, uint32_t alphabet, uint32_t* work, uint8_t* out,
                      size_t capacity) {
  const size_t slots = agl_lzw_work_slots(n, alphabet);
  const uint32_t mask = (uint32_t)slots - 1u;
  uint32_t next = alphabet, cur, acc = 0, fill = 0, width = 1, limit = 2;
  size_t i, pos = 0;
  if (n == 0) return 0;
  memset(work, 0, slots * sizeof(uint32_t));
  /* code i is written in bit_length(min(alphabet + i, 4096) - 1) bits (at least 1): the width
   * grows when alphabet + i - 1 reaches the next power of two. */
  while (limit <= alphabet - 1u) {
    limit <<= 1;
    ++width;
  }
  cur = in[0];
  for (i = 1; i < n; ++i) {
    const uint32_t s = in[i];
    const uint32_t key = (cur << 8) | s;
    uint32_t h = ((key * 2654435761u) >> 12) & mask, slot;
    while ((slot = work[h]) != 0u && slot >> 12 != key) h = (h + 1u) & mask;
    if (slot != 0u) {
      cur = slot & 0xFFFu;
      continue;
    }
    /* emit cur in `width` bits, MSB first */
    acc = (acc << width) | cur;
    fill += width;
    while (fill >= 8u) {
      fill -= 8u;
      if (pos >= capacity) return 0;
      out[pos++] = (uint8_t)(acc >> fill);
    }
    acc &= (1u << fill) - 1u;
    if (next < AGL_LZW_MAX_ENTRIES) {
      work[h] = (key << 12) | next;
      ++next;
    }
    cur = s;
    /* the next code's width: bit_length(min(next_code_count + alphabet, 4096) - 1) */
    if (width < 12u && next - 1u >= limit) {
      limit <<= 1;
      ++width;
    }
  }
  acc = (acc << width) | cur;
  fill += width;
  while (fill >= 8u) {
    fill -= 8u;
    if (pos >= capacity) return 0;
    out[pos++] = (uint8_t)(acc >> fill);
  }
  if (fill > 0u) {
    if (pos >= capacity) return 0;
    out[pos++] = (uint8_t)(acc << (8u - fill));
  }
  return pos;
}
