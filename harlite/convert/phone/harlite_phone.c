/* harlite_phone: Android's two sensors paired, iOS's sign turned; see harlite_phone.h. */
#include <string.h>

#include "harlite_phone.h"

#if HARLITE_PHONE_MAX_WAITING < 1 || HARLITE_PHONE_GYRO_KEPT < 1
#error "HARLITE_PHONE_MAX_WAITING and HARLITE_PHONE_GYRO_KEPT must be at least 1"
#endif

#define ACC_SCALE (1.0 / 9.80665)  /* m/s^2 to g: sensorcsv.py's ACC_UNITS["m/s2"] */
#define NS_TO_S 1e-9                /* sensorcsv.py's TIME_UNITS["ns"] */
#define MARGIN_NS (HARLITE_PHONE_EDGE_MARGIN_S / NS_TO_S)
#define MAX_WAIT_NS (HARLITE_PHONE_MAX_WAIT_S / NS_TO_S)

typedef struct { double t; double v[3]; } sample;  /* t: ns, as a double (as numpy has it) */

typedef struct { sample items[HARLITE_PHONE_GYRO_KEPT > HARLITE_PHONE_MAX_WAITING
                               ? HARLITE_PHONE_GYRO_KEPT : HARLITE_PHONE_MAX_WAITING];
                 int first, n, capacity; } ring;

static struct {
    ring waiting;           /* accelerometer samples not yet paired */
    ring gyro;              /* the latest gyroscope samples */
    int gyro_is_whole;      /* the gyroscope ring still holds the first sample ever */
    int has_acc, has_gyro;
    int64_t last_acc, last_gyro;
    harlite_phone_stats stats;
} P = {.waiting = {.capacity = HARLITE_PHONE_MAX_WAITING},
       .gyro = {.capacity = HARLITE_PHONE_GYRO_KEPT}, .gyro_is_whole = 1};

static sample *at(ring *r, int i) { return &r->items[(r->first + i) % r->capacity]; }

static void drop_oldest(ring *r) {
    r->first = (r->first + 1) % r->capacity;
    r->n--;
}

static void append(ring *r, const sample *s) {
    if (r->n == r->capacity) drop_oldest(r);
    *at(r, r->n) = *s;
    r->n++;
}

void harlite_phone_reset(void) {
    memset(&P, 0, sizeof(P));
    P.waiting.capacity = HARLITE_PHONE_MAX_WAITING;
    P.gyro.capacity = HARLITE_PHONE_GYRO_KEPT;
    P.gyro_is_whole = 1;
    harlite_reset();
}

int harlite_phone_init(const harlite_config *config) {
    const int status = harlite_init(config);
    if (status == 0) harlite_phone_reset();
    return status;
}

/* numpy.interp(t, gyro times, gyro values) over the kept samples; 0 when t lies before the
 * kept samples but after the first gyroscope sample ever (history let go: not paired). */
static int gyro_at(double t, double out[3]) {
    ring *g = &P.gyro;
    int j = g->n - 1;
    while (j >= 0 && at(g, j)->t > t) j--;
    if (j < 0 && !P.gyro_is_whole) return 0;
    const sample *left = at(g, j < 0 ? 0 : j);
    if (j < 0 || j == g->n - 1 || left->t == t) {  /* an edge held, or a sample's own time */
        memcpy(out, left->v, sizeof(left->v));
        return 1;
    }
    const sample *right = at(g, j + 1);
    for (int c = 0; c < 3; c++) {
        const double slope = (right->v[c] - left->v[c]) / (right->t - left->t);
        out[c] = slope * (t - left->t) + left->v[c];
    }
    return 1;
}

static void refuse_waiting(void) {
    drop_oldest(&P.waiting);
    P.stats.refused_unpaired++;
}

/* Pair the waiting accelerometer samples the gyroscope has reached (all of them: final). */
static int pair_waiting(int final, harlite_result *result) {
    int windows = 0;
    while (P.waiting.n > 0) {
        const sample *a = at(&P.waiting, 0);
        if (P.gyro.n == 0) {
            if (!final) break;
            refuse_waiting();
            continue;
        }
        const double newest = at(&P.gyro, P.gyro.n - 1)->t;
        if (!final && a->t > newest) break;
        double rate[3];
        const int before = P.gyro_is_whole && a->t < at(&P.gyro, 0)->t - MARGIN_NS;
        if (before || a->t > newest + MARGIN_NS || !gyro_at(a->t, rate)) {
            refuse_waiting();
            continue;
        }
        windows += harlite_push(a->t * NS_TO_S, a->v[0] * ACC_SCALE, a->v[1] * ACC_SCALE,
                                a->v[2] * ACC_SCALE, rate[0], rate[1], rate[2], result);
        drop_oldest(&P.waiting);
    }
    return windows;
}

int harlite_android_accelerometer(int64_t timestamp_ns, double x, double y, double z,
                                  harlite_result *result) {
    P.stats.accelerometer++;
    if (P.has_acc && timestamp_ns <= P.last_acc) {
        P.stats.refused_order++;
        return 0;
    }
    P.has_acc = 1;
    P.last_acc = timestamp_ns;
    const sample s = {(double)timestamp_ns, {x, y, z}};
    while (P.waiting.n > 0 && s.t - at(&P.waiting, 0)->t > MAX_WAIT_NS) refuse_waiting();
    if (P.waiting.n == P.waiting.capacity) refuse_waiting();
    append(&P.waiting, &s);
    return pair_waiting(0, result);
}

int harlite_android_gyroscope(int64_t timestamp_ns, double x, double y, double z,
                              harlite_result *result) {
    P.stats.gyroscope++;
    if (P.has_gyro && timestamp_ns <= P.last_gyro) {
        P.stats.refused_order++;
        return 0;
    }
    P.has_gyro = 1;
    P.last_gyro = timestamp_ns;
    const sample s = {(double)timestamp_ns, {x, y, z}};
    if (P.gyro.n == P.gyro.capacity) P.gyro_is_whole = 0;
    append(&P.gyro, &s);
    return pair_waiting(0, result);
}

int harlite_android_finish(harlite_result *result) {
    const int windows = pair_waiting(1, result);
    harlite_finish();
    return windows;
}

int harlite_push_ios(double timestamp_s, double user_x, double user_y, double user_z,
                     double gravity_x, double gravity_y, double gravity_z, double rate_x,
                     double rate_y, double rate_z, harlite_result *result) {
    /* Core Motion's acceleration is Android's negated, in g; the axes and rates agree. */
    return harlite_push(timestamp_s, -(user_x + gravity_x), -(user_y + gravity_y),
                        -(user_z + gravity_z), rate_x, rate_y, rate_z, result);
}

void harlite_phone_get_stats(harlite_phone_stats *stats) { *stats = P.stats; }
