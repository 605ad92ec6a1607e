/* Minimal Cortex-M startup for QEMU mps2-an500 with newlib + semihosting (rdimon):
 * vector table, .data copy, .bss zeroing, FPU enable, libc init, exit(main()). */
#include <stdint.h>
#include <stdlib.h>

extern uint32_t _sidata, _sdata, _edata, _sbss, _ebss, _estack;
extern int main(void);
extern void initialise_monitor_handles(void);
extern void __libc_init_array(void);
void Reset_Handler(void);
void Default_Handler(void);
void _init(void);
void _fini(void);

void _init(void) {}
void _fini(void) {}

__attribute__((section(".isr_vector"), used)) void (*const agilenn_vectors[16])(void) = {
    (void (*)(void))(&_estack), Reset_Handler, Default_Handler, Default_Handler,
    Default_Handler, Default_Handler, Default_Handler, 0, 0, 0, 0, Default_Handler,
    Default_Handler, 0, Default_Handler, Default_Handler};

void Reset_Handler(void) {
  uint32_t *src = &_sidata, *dst = &_sdata;
  while (dst < &_edata) *dst++ = *src++;
  for (dst = &_sbss; dst < &_ebss;) *dst++ = 0u;
  *(volatile uint32_t *)0xE000ED88u |= 0xFu << 20; /* CPACR: full access to CP10/CP11 (FPU) */
  __asm volatile("dsb\n\tisb");
  initialise_monitor_handles();
  __libc_init_array();
  exit(main());
}

void Default_Handler(void) {
  for (;;) {
  }
}
