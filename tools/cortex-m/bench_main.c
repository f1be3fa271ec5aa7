/* Instructions, stack and windows on the board, without stdio: a recording as rows of 7
 * little-endian float64 (t, ax, ay, az, gx, gy, gz; benchmarks/bench_mcu.py writes them) read
 * through semihosting and pushed through harlite_push, as firmware would push its sensor's
 * samples. The forward pass is timed alone by wrapping it (harlite_model.c is compiled with
 * harlite_classify_window renamed hl_forward). Prints one JSON line per window (its label),
 * then a summary line. Times are SysTick ticks; calibrate() measures the instructions per
 * tick of the emulation (run it under qemu -icount shift=0, where the clock follows the
 * instructions executed: 1 ns each), so ticks convert to instructions executed. */
#include <stdint.h>
#include <string.h>

#include "board.h"
#include "harlite.h"

#define N_FIELDS 7

void hl_forward(const float *window, float *probabilities);

static uint64_t model_ticks, model_max;
static char text[160];
static int used, console = -1;

static void flush(void) {  /* to the console's stdout (":tt" opened for writing) */
    uint32_t block[3] = {(uint32_t)console, (uint32_t)(uintptr_t)text, (uint32_t)used};
    if (used) board_semihost(SH_WRITE, block);
    used = 0;
}

static void put(const char *s) {
    const size_t n = strlen(s);
    if (used + n >= sizeof(text)) flush();
    memcpy(text + used, s, n);
    used += (int)n;
}

static void put_u64(uint64_t v) {
    char digits[24];
    int i = sizeof(digits) - 1;
    digits[i] = '\0';
    do { digits[--i] = (char)('0' + v % 10); v /= 10; } while (v);
    put(digits + i);
}

static void put_field(const char *name, uint64_t v) {
    put(", \"");
    put(name);
    put("\": ");
    put_u64(v);
}

void harlite_classify_window(const float *window, float *probabilities) {
    const uint64_t start = board_ticks();
    hl_forward(window, probabilities);
    const uint64_t spent = board_ticks() - start;
    model_ticks += spent;
    if (spent > model_max) model_max = spent;
}

static void print_window(const harlite_result *r, void *user) {
    (void)user;
    put("{\"window\": ");
    put_u64(r->index);
    put(", \"label\": \"");
    put(harlite_labels()[r->label]);
    put("\"}\n");
    flush();
}

static uint64_t loop_ticks(uint32_t n) {  /* 2 instructions per turn */
    const uint64_t start = board_ticks();
    __asm__ volatile("1: subs %0, %0, #1\n\tbne 1b" : "+r"(n) : : "cc");
    return board_ticks() - start;
}

static int open_file(const char *path, uint32_t mode) {  /* mode 1: "rb", 4: "w" */
    uint32_t block[3] = {(uint32_t)(uintptr_t)path, mode, (uint32_t)strlen(path)};
    return board_semihost(SH_OPEN, block);
}

static int read_row(int handle, double *row) {
    uint32_t block[3] = {(uint32_t)handle, (uint32_t)(uintptr_t)row, N_FIELDS * sizeof(double)};
    return board_semihost(SH_READ, block) == 0;  /* returns the bytes NOT read */
}

int main(int argc, char **argv) {
    harlite_config config;
    harlite_default_config(&config);
    config.on_window = print_window;
    if (argc < 2 || harlite_init(&config) != 0) board_exit(2);
    console = open_file(":tt", 4);
    const int handle = open_file(argv[argc - 1], 1);
    if (handle < 0) {
        board_semihost(SH_WRITE0, "harlite_bench: cannot open the input\n");
        board_exit(2);
    }
    const uint64_t calibration = loop_ticks(2000000) - loop_ticks(1000000);
    uint64_t push_ticks = 0, samples = 0;
    double row[N_FIELDS];
    while (read_row(handle, row)) {
        const uint64_t start = board_ticks();
        harlite_push(row[0], row[1], row[2], row[3], row[4], row[5], row[6], NULL);
        push_ticks += board_ticks() - start;
        samples++;
    }
    harlite_finish();
    harlite_stats stats;
    harlite_get_stats(&stats);
    put("{\"summary\": 1");
    put_field("samples", samples);
    put_field("windows", stats.windows);
    put_field("push_ticks", push_ticks);
    put_field("model_ticks", model_ticks);
    flush();
    put_field("model_max_ticks", model_max);
    put_field("calibration_instructions", 2000000);
    put_field("calibration_ticks", calibration);
    put_field("tick_hz", BOARD_CLOCK_HZ);
    flush();
    put_field("stack_used", board_stack_used());
    put_field("stack_size", board_stack_size());
    put("}\n");
    flush();
    board_exit(0);
}
