/* stb_image_write's PNG writer built for the device (see agilenn_png.h). Every block carries an
 * 8-byte header with its requested size so free() can be counted; the header keeps the 8-byte
 * alignment malloc gives. */
#include "agilenn_png.h"

#include <stdlib.h>

static size_t agl_png_in_use, agl_png_peak;

static void* agl_png_malloc(size_t size) {
  uint64_t* block = (uint64_t*)malloc(size + sizeof(uint64_t));
  if (!block) return NULL;
  block[0] = (uint64_t)size;
  agl_png_in_use += size;
  if (agl_png_in_use > agl_png_peak) agl_png_peak = agl_png_in_use;
  return block + 1;
}

static void agl_png_release(void* p) {
  uint64_t* block;
  if (!p) return;
  block = (uint64_t*)p - 1;
  agl_png_in_use -= (size_t)block[0];
  free(block);
}

static void* agl_png_realloc(void* p, size_t size) {
  uint64_t* block;
  size_t old;
  if (!p) return agl_png_malloc(size);
  block = (uint64_t*)p - 1;
  old = (size_t)block[0];
  /* Counted as the allocator needs it at worst: old and new block live during the copy. */
  if (agl_png_in_use + size > agl_png_peak) agl_png_peak = agl_png_in_use + size;
  block = (uint64_t*)realloc(block, size + sizeof(uint64_t));
  if (!block) return NULL;
  block[0] = (uint64_t)size;
  agl_png_in_use = agl_png_in_use - old + size;
  return block + 1;
}

#define STBIW_MALLOC(sz) agl_png_malloc(sz)
#define STBIW_REALLOC(p, newsz) agl_png_realloc(p, newsz)
#define STBIW_FREE(p) agl_png_release(p)
#define STBIW_ASSERT(x) ((void)0)
#define STBI_WRITE_NO_STDIO
#define STB_IMAGE_WRITE_STATIC
#define STB_IMAGE_WRITE_IMPLEMENTATION
/* Static linkage: the writers this driver does not call are unused (the linker drops them). */
#pragma GCC diagnostic ignored "-Wunused-function"
#include "stb_image_write.h"

unsigned char* agl_png_encode(const uint8_t* pixels, int w, int h, int n, int* out_len) {
  return stbi_write_png_to_mem(pixels, w * n, w, h, n, out_len);
}

void agl_png_free(unsigned char* png) {
  agl_png_release(png);
}

size_t agl_png_heap_in_use(void) {
  return agl_png_in_use;
}
size_t agl_png_heap_peak(void) {
  return agl_png_peak;
}
void agl_png_heap_reset_peak(void) {
  agl_png_peak = agl_png_in_use;
}
