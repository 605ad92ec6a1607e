/* Driver for the whole-network layer table (agilenn_whole.h): copies the test image into the
 * arena, runs every op timed with CMSDK timer0 (QEMU; 0 ticks on the host), prints
 *   T <op> <ticks>   per op,   L <logit> ...   and   O <ticks of an empty call>, DONE. */
#include <stdio.h>
#include <string.h>

#include "agilenn_whole.h"

extern const agl_whole_op agl_whole_ops[];
extern const int agl_whole_op_count, agl_whole_classes;
extern const size_t agl_whole_image_bytes;
extern const uint8_t agl_whole_image[];
extern uint8_t agl_whole_arena[];

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

__attribute__((noipa)) static void run_op(const agl_whole_op* op) {
  agl_whole_run_op(op, agl_whole_arena);
}
__attribute__((noipa)) static void run_empty(const agl_whole_op* op) {
  (void)op;
}

int main(void) {
  uint32_t t0, t1;
  int i;
  const agl_whole_op* last = &agl_whole_ops[agl_whole_op_count - 1];
#ifdef AGILENN_QEMU
  TIMER0_CTRL = 0u;
  TIMER0_RELOAD = 0xFFFFFFFFu;
  TIMER0_VALUE = 0xFFFFFFFFu;
  TIMER0_CTRL = 1u;
#endif
  memcpy(agl_whole_arena + agl_whole_ops[0].in0, agl_whole_image, agl_whole_image_bytes);
  for (i = 0; i < agl_whole_op_count; ++i) {
    t0 = timer_now();
    run_op(&agl_whole_ops[i]);
    t1 = timer_now();
    printf("T %d %lu\n", i, (unsigned long)(t0 - t1));
  }
  printf("L");
  for (i = 0; i < agl_whole_classes; ++i) {
    int32_t v;
    memcpy(&v, agl_whole_arena + last->out + (size_t)i * sizeof(int32_t), sizeof v);
    printf(" %ld", (long)v);
  }
  printf("\n");
  t0 = timer_now();
  run_empty(last);
  t1 = timer_now();
  printf("O %lu\nDONE\n", (unsigned long)(t0 - t1));
  return 0;
}
