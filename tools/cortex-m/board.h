/* The emulated board (QEMU mps2-an386, Cortex-M4F at 25 MHz): startup, semihosting, SysTick
 * clock and the stack's high-water mark, for the Cortex-M programs of tools/cortex-m. */
#ifndef HARLITE_BOARD_H
#define HARLITE_BOARD_H

#include <stdint.h>

#define BOARD_CLOCK_HZ 25000000u  /* mps2's SYSCLK: SysTick counts these with CLKSOURCE=1 */

/* Semihosting operations used here (Arm's semihosting specification). */
enum {
    SH_OPEN = 0x01, SH_CLOSE = 0x02, SH_WRITE0 = 0x04, SH_WRITE = 0x05, SH_READ = 0x06,
    SH_GET_CMDLINE = 0x15, SH_EXIT = 0x18, SH_EXIT_EXTENDED = 0x20
};

int board_semihost(int op, void *arg);
/* SysTick periods (1 / BOARD_CLOCK_HZ s each) since reset; 64 bits, wraps counted. */
uint64_t board_ticks(void);
/* Bytes of the stack ever used (the painted words overwritten), and its size. */
uint32_t board_stack_used(void);
uint32_t board_stack_size(void);
/* End the emulation with an exit status (semihosting SYS_EXIT_EXTENDED). */
void board_exit(int status) __attribute__((noreturn));

#endif
