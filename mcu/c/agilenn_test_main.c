/* Test driver for a generated bundle (host or Cortex-M7 under QEMU): runs agilenn_run on the
 * embedded test images and prints, per image,
 *   R <i> <rc> <ticks> <logit_0> ... <logit_{n-1}> <packet hex>
 *   S <i> <ticks of stage 0> ... <ticks of stage n-1>
 * then "O <ticks of an empty call>" and "DONE". Ticks come from the CMSDK APB timer0 on QEMU
 * mps2 (25 MHz; with -icount shift=7, instructions = ticks / 3.2) and are 0 on the host. */
#include <stdio.h>

#include "agilenn_model.h"

extern const uint8_t agilenn_test_images[][AGILENN_INPUT_BYTES];
extern const int agilenn_test_count;

#ifdef AGILENN_QEMU
#define TIMER0_CTRL (*(volatile uint32_t *)0x40000000u)
#define TIMER0_VALUE (*(volatile uint32_t *)0x40000004u)
#define TIMER0_RELOAD (*(volatile uint32_t *)0x40000008u)
static void timer_start(void) {
  TIMER0_CTRL = 0u;
  TIMER0_RELOAD = 0xFFFFFFFFu;
  TIMER0_VALUE = 0xFFFFFFFFu;
  TIMER0_CTRL = 1u;
}
static uint32_t timer_now(void) { return TIMER0_VALUE; }
#else
static void timer_start(void) {}
static uint32_t timer_now(void) { return 0u; }
#endif

static uint32_t stage_time[AGILENN_NUM_STAGES + 1];
void agilenn_profile_mark(int stage) { stage_time[stage] = timer_now(); }

/* noipa: keeps the timer reads on either side of the call. */
__attribute__((noipa)) static int run_one(const uint8_t *image, int32_t *logits, uint8_t *packet,
                                          size_t *len) {
  return agilenn_run(image, logits, packet, len);
}
__attribute__((noipa)) static int run_empty(const uint8_t *image, int32_t *logits,
                                            uint8_t *packet, size_t *len) {
  (void)image;
  (void)logits;
  (void)packet;
  (void)len;
  return 0;
}

int main(void) {
  static int32_t logits[AGILENN_NUM_CLASSES];
  static uint8_t packet[AGILENN_PACKET_MAX_BYTES];
  size_t len = 0, j;
  int i, s;
  uint32_t t0, t1;
  timer_start();
  for (i = 0; i < agilenn_test_count; ++i) {
    int rc;
    t0 = timer_now();
    rc = run_one(agilenn_test_images[i], logits, packet, &len);
    t1 = timer_now();
    printf("R %d %d %lu", i, rc, (unsigned long)(t0 - t1));
    for (j = 0; j < AGILENN_NUM_CLASSES; ++j) printf(" %ld", (long)logits[j]);
    printf(" ");
    for (j = 0; j < len; ++j) printf("%02x", (unsigned)packet[j]);
    printf("\nS %d", i);
    for (s = 0; s < AGILENN_NUM_STAGES; ++s)
      printf(" %lu", (unsigned long)(stage_time[s] - stage_time[s + 1]));
    printf("\n");
  }
  t0 = timer_now();
  run_empty(agilenn_test_images[0], logits, packet, &len);
  t1 = timer_now();
  printf("O %lu\nDONE\n", (unsigned long)(t0 - t1));
  return 0;
}
