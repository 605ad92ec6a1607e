/* QEMU driver for the edge-only baseline's compressor: LZW (codec/c/agilenn_lzw.c) on raw image
 * bytes (alphabet 256), timed like agilenn_test_main.c (CMSDK timer0 around a noipa call). Prints
 *   L <i> <ticks> <payload hex>
 * per image, then "O <ticks of an empty call>" and "DONE". */
#include <stdio.h>

#include "agilenn_lzw.h"

extern const uint8_t agilenn_lzw_images[];
extern const int agilenn_lzw_count, agilenn_lzw_image_bytes;
/* Sized by the generated images file: the output holds any payload of one image (LZW never
 * exceeds 12 bits per input byte), the work area the hash table (at most 8192 slots). */
extern uint32_t agilenn_lzw_work[];
extern uint8_t agilenn_lzw_out[];
extern const size_t agilenn_lzw_work_slots, agilenn_lzw_out_bytes;

#define TIMER0_CTRL (*(volatile uint32_t*)0x40000000u)
#define TIMER0_VALUE (*(volatile uint32_t*)0x40000004u)
#define TIMER0_RELOAD (*(volatile uint32_t*)0x40000008u)

__attribute__((noipa)) static size_t encode_one(const uint8_t* image, size_t n) {
  return agl_lzw_encode(image, n, 256u, agilenn_lzw_work, agilenn_lzw_out, agilenn_lzw_out_bytes);
}
__attribute__((noipa)) static size_t encode_empty(const uint8_t* image, size_t n) {
  (void)image;
  return n;
}

int main(void) {
  const size_t n = (size_t)agilenn_lzw_image_bytes;
  uint32_t t0, t1;
  size_t len, j;
  int i;
  if (agl_lzw_work_slots(n, 256u) > agilenn_lzw_work_slots) {
    printf("ERROR work area of %u slots, the encoder needs %u\n", (unsigned)agilenn_lzw_work_slots,
           (unsigned)agl_lzw_work_slots(n, 256u));
    return 1;
  }
  TIMER0_CTRL = 0u;
  TIMER0_RELOAD = 0xFFFFFFFFu;
  TIMER0_VALUE = 0xFFFFFFFFu;
  TIMER0_CTRL = 1u;
  for (i = 0; i < agilenn_lzw_count; ++i) {
    const uint8_t* image = agilenn_lzw_images + (size_t)i * n;
    t0 = TIMER0_VALUE;
    len = encode_one(image, n);
    t1 = TIMER0_VALUE;
    printf("L %d %lu ", i, (unsigned long)(t0 - t1));
    for (j = 0; j < len; ++j) printf("%02x", (unsigned)agilenn_lzw_out[j]);
    printf("\n");
  }
  t0 = TIMER0_VALUE;
  encode_empty(agilenn_lzw_images, n);
  t1 = TIMER0_VALUE;
  printf("O %lu\nDONE\n", (unsigned long)(t0 - t1));
  return 0;
}
