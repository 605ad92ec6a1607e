/* Driver for the edge-only baseline's PNG compressor (agilenn_png.c: stb_image_write) on raw
 * images, timed like agilenn_lzw_main.c (CMSDK timer0 around a noipa call, QEMU only; 0 ticks on
 * the host). Prints
 *   P <i> <ticks> <peak heap bytes> <png hex>
 * per image, then "O <ticks of an empty call>", "H <newlib heap arena bytes>" and "DONE". */
#include <stdio.h>

#include "agilenn_png.h"
#ifdef AGILENN_QEMU
#include <malloc.h>
#endif

extern const uint8_t agilenn_png_images[];
extern const int agilenn_png_count, agilenn_png_width, agilenn_png_height, agilenn_png_channels;

#ifdef AGILENN_QEMU
#define TIMER0_CTRL (*(volatile uint32_t*)0x40000000u)
#define TIMER0_VALUE (*(volatile uint32_t*)0x40000004u)
#define TIMER0_RELOAD (*(volatile uint32_t*)0x40000008u)
static uint32_t timer_now(void) {
  return TIMER0_VALUE;
}
#else
static uint32_t timer_now(void) {
  return 0u;
}
#endif

__attribute__((noipa)) static unsigned char* encode_one(const uint8_t* image, int* len) {
  return agl_png_encode(image, agilenn_png_width, agilenn_png_height, agilenn_png_channels, len);
}
__attribute__((noipa)) static unsigned char* encode_empty(const uint8_t* image, int* len) {
  *len = 0;
  return (unsigned char*)image;
}

int main(void) {
  const size_t n =
      (size_t)agilenn_png_width * (size_t)agilenn_png_height * (size_t)agilenn_png_channels;
  uint32_t t0, t1;
  unsigned char* png;
  int i, j, len = 0;
#ifdef AGILENN_QEMU
  TIMER0_CTRL = 0u;
  TIMER0_RELOAD = 0xFFFFFFFFu;
  TIMER0_VALUE = 0xFFFFFFFFu;
  TIMER0_CTRL = 1u;
#endif
  for (i = 0; i < agilenn_png_count; ++i) {
    const uint8_t* image = agilenn_png_images + (size_t)i * n;
    agl_png_heap_reset_peak();
    t0 = timer_now();
    png = encode_one(image, &len);
    t1 = timer_now();
    if (!png) {
      printf("ERROR image %d: allocation failed\n", i);
      return 1;
    }
    printf("P %d %lu %lu ", i, (unsigned long)(t0 - t1), (unsigned long)agl_png_heap_peak());
    for (j = 0; j < len; ++j) printf("%02x", (unsigned)png[j]);
    printf("\n");
    agl_png_free(png);
    if (agl_png_heap_in_use() != 0u) {
      printf("ERROR image %d: %lu heap bytes not freed\n", i, (unsigned long)agl_png_heap_in_use());
      return 1;
    }
  }
  t0 = timer_now();
  encode_empty(agilenn_png_images, &len);
  t1 = timer_now();
  printf("O %lu\n", (unsigned long)(t0 - t1));
#ifdef AGILENN_QEMU
  printf("H %lu\n", (unsigned long)mallinfo().arena);
#else
  printf("H 0\n");
#endif
  printf("DONE\n");
  return 0;
}
