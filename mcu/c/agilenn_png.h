/* The edge-only baseline's PNG compressor on an MCU: stb_image_write's stbi_write_png_to_mem
 * (Debian's libstb-dev, compression level 8 and adaptive filters: its defaults, as the host's
 * bench-e2e uses it) with every allocation going through a counting allocator, so the driver can
 * report the peak heap the compressor needs. */
#ifndef AGILENN_PNG_C_H
#define AGILENN_PNG_C_H
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* PNG of a w x h image of n interleaved 8-bit channels (rows packed). Returns the PNG (free it
 * with agl_png_free) and its size in *out_len, or NULL if an allocation failed. */
unsigned char* agl_png_encode(const uint8_t* pixels, int w, int h, int n, int* out_len);
void agl_png_free(unsigned char* png);

/* Bytes the compressor has allocated and not freed (requested sizes, without the allocator's
 * own headers), and the largest such total since the last agl_png_heap_reset_peak. */
size_t agl_png_heap_in_use(void);
size_t agl_png_heap_peak(void);
void agl_png_heap_reset_peak(void);

#ifdef __cplusplus
}
#endif
#endif
