#include <stdint.h>
extern int main(void);
extern void initialise_monitor_handles(void);
extern uint32_t __bss_start__, __bss_end__, __stack_top;
void Reset_Handler(void) {
  for (uint32_t* p = &__bss_start__; p < &__bss_end__; ++p) *p = 0;
  *(volatile uint32_t*)0xE000ED88 |= (0xFu << 20); /* enable FPU */
  __asm volatile("dsb; isb");
  initialise_monitor_handles();
  main();
  /* semihosting exit */
  register uint32_t r0 __asm("r0") = 0x18;
  register uint32_t r1 __asm("r1") = 0x20026;
  __asm volatile("bkpt 0xAB" : : "r"(r0), "r"(r1));
  for (;;) {}
}
void Default_Handler(void) { for (;;) {} }
__attribute__((section(".vectors"), used)) void (*const vectors[16])(void) = {
    (void (*)(void))&__stack_top, Reset_Handler, Default_Handler, Default_Handler,
    Default_Handler, Default_Handler, Default_Handler, 0, 0, 0, 0, Default_Handler,
    Default_Handler, 0, Default_Handler, Default_Handler};
