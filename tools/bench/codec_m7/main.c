/* Counts the instructions the C context encoders (codec/c: adaptive coder 3, static coder 4)
 * execute for one golden image on a Cortex-M7 in QEMU (mps2-an500, -icount shift=0: 1 ns of virtual time per instruction, SysTick
 * at 25 MHz, so one tick = 40 instructions) and checks its payload against the golden packet. */
#include <stdint.h>
#include <stdio.h>

#include "agilenn_codec.h"
#include "data.h"

#define SYST_CSR (*(volatile uint32_t*)0xE000E010)
#define SYST_RVR (*(volatile uint32_t*)0xE000E014)
#define SYST_CVR (*(volatile uint32_t*)0xE000E018)

static uint16_t work[NPROBS];
static uint8_t out[4096];

static uint32_t ticks(uint32_t a, uint32_t b) { return (a - b) & 0xFFFFFFu; }

int main(void) {
  const agl_context_model m = {C_, R_, L_, G_, SHIFT_, probs_init};
  uint32_t a, b, t0, t1;
  size_t n;
  SYST_RVR = 0xFFFFFF;
  SYST_CVR = 0;
  SYST_CSR = 5;
  while (SYST_CVR == 0) {
  }
  /* calibration: 100000 iterations of a 6-instruction loop (see the disassembly) */
  a = SYST_CVR;
  for (volatile uint32_t i = 0; i < 100000; ++i) {
  }
  b = SYST_CVR;
  t0 = SYST_CVR;
  n = agl_context_encode(&m, img, H_, W_, work, out, sizeof out);
  t1 = SYST_CVR;
  printf("calibration: %lu ticks for 600000 instructions\n", (unsigned long)ticks(a, b));
  printf("context encode: %u indices -> %u bytes, %lu ticks = ~%lu instructions (%lu per index)\n",
         (unsigned)(H_ * W_ * R_), (unsigned)n, (unsigned long)ticks(t0, t1),
         (unsigned long)ticks(t0, t1) * 40, (unsigned long)ticks(t0, t1) * 40 / (H_ * W_ * R_));
  printf("payload %s the golden packet\n",
         n == GOLDEN_LEN && agl_crc32(0, out, n) == GOLDEN_CRC ? "matches" : "DIFFERS FROM");
  {
    const agl_static_context_model sm = {C_, R_, L_, G_, cdf};
    t0 = SYST_CVR;
    n = agl_context_encode_static(&sm, img, H_, W_, out, sizeof out);
    t1 = SYST_CVR;
    printf("static context encode: %u indices -> %u bytes, %lu ticks = ~%lu instructions "
           "(%lu per index)\n",
           (unsigned)(H_ * W_ * R_), (unsigned)n, (unsigned long)ticks(t0, t1),
           (unsigned long)ticks(t0, t1) * 40, (unsigned long)ticks(t0, t1) * 40 / (H_ * W_ * R_));
    printf("static payload %s the golden packet\n",
           n == GOLDEN_STATIC_LEN && agl_crc32(0, out, n) == GOLDEN_STATIC_CRC ? "matches"
                                                                                : "DIFFERS FROM");
  }
  return 0;
}
