/* Startup for QEMU's mps2-an386 (Cortex-M4F): the vector table, .data and .bss, the FPU on,
 * the stack painted (for its high-water mark), a SysTick tick counter, semihosting, and
 * main(argc, argv) with the command line semihosting gives (qemu -kernel ELF -append ARGS). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "board.h"

#define PAINT 0xA5C3E1F0u
#define MAX_ARGS 16

extern uint32_t _sidata, _sdata, _edata, _sbss, _ebss, _stack_bottom, _stack_top;
extern void initialise_monitor_handles(void) __attribute__((weak));  /* newlib's rdimon */
int main(int argc, char **argv);
void Reset_Handler(void);
void SysTick_Handler(void);
void Fault_Handler(void);

__attribute__((section(".vectors"), used)) static void (*const vectors[16])(void) = {
    (void (*)(void))&_stack_top, Reset_Handler, Fault_Handler, Fault_Handler, Fault_Handler,
    Fault_Handler, Fault_Handler, 0, 0, 0, 0, Fault_Handler, Fault_Handler, 0, Fault_Handler,
    SysTick_Handler,
};

#define SCB_CPACR (*(volatile uint32_t *)0xE000ED88u)
#define SYST_CSR (*(volatile uint32_t *)0xE000E010u)
#define SYST_RVR (*(volatile uint32_t *)0xE000E014u)
#define SYST_CVR (*(volatile uint32_t *)0xE000E018u)
#define SYST_RELOAD 0x00FFFFFFu

static volatile uint32_t wraps;

int board_semihost(int op, void *arg) {
    register int r0 __asm__("r0") = op;
    register void *r1 __asm__("r1") = arg;
    __asm__ volatile("bkpt 0xAB" : "+r"(r0) : "r"(r1) : "memory");
    return r0;
}

void board_exit(int status) {
    uint32_t block[2] = {0x20026u, (uint32_t)status};  /* ADP_Stopped_ApplicationExit */
    board_semihost(SH_EXIT_EXTENDED, block);
    for (;;) {}
}

void Fault_Handler(void) {
    board_semihost(SH_WRITE0, "harlite: hard fault\n");
    board_exit(3);
}

void SysTick_Handler(void) { wraps++; }

void _init(void) {}  /* newlib's init/fini hooks (crti.o's, which -nostartfiles leaves out) */
void _fini(void) {}

uint64_t board_ticks(void) {  /* SysTick counts down; read until no wrap came in between */
    uint32_t w, v;
    do {
        w = wraps;
        v = SYST_CVR;
    } while (w != wraps);
    return (uint64_t)w * (SYST_RELOAD + 1u) + (SYST_RELOAD - v);
}

uint32_t board_stack_size(void) {
    return (uint32_t)((uintptr_t)&_stack_top - (uintptr_t)&_stack_bottom);
}

uint32_t board_stack_used(void) {
    const uint32_t *p = &_stack_bottom;
    while (p < &_stack_top && *p == PAINT) p++;
    return (uint32_t)((uintptr_t)&_stack_top - (uintptr_t)p);
}

static int command_line(char **argv) {  /* split at spaces: paths with spaces are not taken */
    static char text[512];
    uint32_t block[2] = {(uint32_t)(uintptr_t)text, sizeof(text) - 1};
    int argc = 0;
    if (board_semihost(SH_GET_CMDLINE, block) != 0) return 0;
    text[block[1] < sizeof(text) ? block[1] : sizeof(text) - 1] = '\0';
    for (char *p = strtok(text, " "); p != NULL && argc < MAX_ARGS; p = strtok(NULL, " "))
        argv[argc++] = p;
    argv[argc] = NULL;
    return argc;
}

void Reset_Handler(void) {
    static char *argv[MAX_ARGS + 1];
    SCB_CPACR |= 0xFu << 20;  /* CP10 and CP11 (the FPU): full access, before any float */
    __asm__ volatile("dsb\n\tisb");
    memcpy(&_sdata, &_sidata, (size_t)((char *)&_edata - (char *)&_sdata));
    memset(&_sbss, 0, (size_t)((char *)&_ebss - (char *)&_sbss));
    uint32_t *sp;
    __asm__ volatile("mov %0, sp" : "=r"(sp));
    for (uint32_t *p = &_stack_bottom; p < sp - 16; p++) *p = PAINT;
    SYST_RVR = SYST_RELOAD;
    SYST_CVR = 0;
    SYST_CSR = 7;  /* processor clock, interrupt on wrap, enabled */
    if (initialise_monitor_handles) initialise_monitor_handles();
    const int argc = command_line(argv);
    exit(main(argc, argv));
}
