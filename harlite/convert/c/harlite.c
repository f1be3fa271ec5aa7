/* The stream core: checks, clock guard, resampling, filter bank, windows, placement and
 * smoothing, as harlite/runtime does them (windower.py, clock.py, resample.py,
 * preprocessing.py, windowing.py, placement.py, smoothing.py). The filters run in double,
 * like the Python runtime. -DHARLITE_FLOAT_FILTERS=1 (an FPU without double precision) runs
 * the median and the noise filter in float (hl_real); the gravity filter stays double (in
 * float its 0.3 Hz poles move the body acceleration by 5e-5 g); docs/deploy.md has the
 * figures. Windows are float32, like the model's input. */
#include <math.h>
#include <string.h>

#include "harlite.h"
#include "harlite_model.h"

#ifndef HARLITE_MAX_HELD
#define HARLITE_MAX_HELD 256  /* samples held while a clock change is judged (2 s at 128 Hz) */
#endif

#define ACC_LIMIT_G 40.0
#define GYRO_LIMIT_RAD_S 50.0
#define TIME_LIMIT_S 1e11
#define CONFIRM_SAMPLES 5     /* clock.py: samples that must agree before a jump is believed */
#define RESYNC_SECONDS 2.0    /* and the time they must span when the clock went back */
#define GRID_TOLERANCE 1e-6   /* resample.py: a grid point this close (in steps) is reached */
#define STRETCH_WINDOWS 3     /* placement.py: windows that must agree on a placement */
#define N_RAW 6
#define KEEP (HARLITE_MEDIAN - 1)

static struct {
    harlite_config cfg;
    /* clock guard */
    int has_last;
    double last;
    double held[HARLITE_MAX_HELD][1 + N_RAW];
    int held_first, held_n;
    /* resampler */
    int rs_has_last, rs_has_origin;
    double rs_t0, rs_v0[N_RAW], origin, step;
    int64_t next_k;
    /* filter bank */
    int pp_started;
    hl_real hist[KEEP > 0 ? KEEP : 1][N_RAW];
    hl_real noise_z[HARLITE_NOISE_SECTIONS][2][N_RAW];
    double gravity_z[HARLITE_GRAVITY_SECTIONS][2][3];  /* always double: its 0.3 Hz poles */
    /* windows */
    float window[HARLITE_WINDOW][HARLITE_CHANNELS];
    double times[HARLITE_WINDOW];
    int fill;
    /* smoothing */
    float recent[HARLITE_MAX_SMOOTH][HARLITE_N_LABELS];
    int recent_n, recent_next;
    /* placement */
    int placement, candidate, streak;
    harlite_stats stats;
    float probabilities[HARLITE_N_LABELS];
} S;

void harlite_default_config(harlite_config *config) {
    memset(config, 0, sizeof(*config));
    config->max_gap_s = 0.25;
    config->placement = HARLITE_PLACEMENT_AUTO;
    config->smooth_kind = HARLITE_SMOOTH_NONE;
    config->smooth_size = 1;
}

const char *const *harlite_labels(void) { return hl_labels; }

void harlite_get_stats(harlite_stats *stats) { *stats = S.stats; }

static void restart(void) {  /* a gap or a resync: filters, windows and smoothing start afresh */
    S.pp_started = 0;
    S.fill = 0;
    S.recent_n = S.recent_next = 0;
}

void harlite_reset(void) {
    harlite_config cfg = S.cfg;
    memset(&S, 0, sizeof(S));
    S.cfg = cfg;
    S.step = 1.0 / HARLITE_RATE_HZ;
    S.placement = cfg.placement == HARLITE_PLACEMENT_AUTO ? HARLITE_PLACEMENT_UNKNOWN
                                                          : cfg.placement;
}

int harlite_init(const harlite_config *config) {
    harlite_config cfg;
    if (config == NULL) harlite_default_config(&cfg); else cfg = *config;
    if (!(cfg.max_gap_s > 0 && cfg.max_gap_s <= 1e9)) return -1;
    if (cfg.placement < HARLITE_PLACEMENT_AUTO || cfg.placement > HARLITE_PLACEMENT_WAIST) return -1;
    if (cfg.smooth_kind < HARLITE_SMOOTH_NONE || cfg.smooth_kind > HARLITE_SMOOTH_VOTE) return -1;
    if (cfg.smooth_kind != HARLITE_SMOOTH_NONE &&
        (cfg.smooth_size < 1 || cfg.smooth_size > HARLITE_MAX_SMOOTH)) return -1;
    S.cfg = cfg;
    harlite_reset();
    return 0;
}

/* ---- placement (placement.py) ---- */

#define AXIS_TOLERANCE_DEG 30.0  /* gravity this close to a phone axis names the placement */
#define THIGH_UPRIGHT_DEG 30.0   /* a pocket phone's thigh this close to vertical: standing */
#define TORSO_LYING_DEG 65.0     /* a waist phone's torso beyond this from vertical: lying */
#define POCKET_SWING_RAD_S 0.7   /* a pocket phone swings with the thigh at least this fast */

static double tilt_deg(const float g[3], int axis) {  /* NAN for a zero or non-finite g */
    const float norm = sqrtf(g[0] * g[0] + g[1] * g[1] + g[2] * g[2]);
    if (!(norm > 0.0f) || !isfinite(norm)) return NAN;
    double ratio = fabs((double)g[axis]) / (double)norm;
    if (ratio > 1.0) ratio = 1.0;
    return acos(ratio) * (180.0 / 3.14159265358979323846);
}

static int placement_of(const float g[3], double swing) {
    if (tilt_deg(g, 0) <= AXIS_TOLERANCE_DEG) return HARLITE_PLACEMENT_WAIST;
    if (tilt_deg(g, 1) <= AXIS_TOLERANCE_DEG && swing >= POCKET_SWING_RAD_S)
        return HARLITE_PLACEMENT_POCKET;
    return HARLITE_PLACEMENT_UNKNOWN;
}

static int argmax(const float *p, int n) {
    int best = 0;
    for (int k = 1; k < n; k++)
        if (p[k] > p[best]) best = k;
    return best;
}

#if HARLITE_PLACEMENT_APPLIES
static void observe(int found) {  /* a stretch of agreeing windows settles the placement */
    if (found == HARLITE_PLACEMENT_UNKNOWN || S.cfg.placement != HARLITE_PLACEMENT_AUTO) {
        S.candidate = HARLITE_PLACEMENT_UNKNOWN;
        S.streak = 0;
        return;
    }
    S.streak = found == S.candidate ? S.streak + 1 : 1;
    S.candidate = found;
    if (S.streak >= STRETCH_WINDOWS) S.placement = found;
}

static void settle(float *p, double tilt) {  /* a still window's posture from the tilt */
    if (!isfinite(tilt)) return;
    const float still = p[HARLITE_SEATED] + p[HARLITE_STANDING] + p[HARLITE_LYING];
    const float upright = p[HARLITE_SEATED] + p[HARLITE_STANDING];
    int posture;
    if (S.placement == HARLITE_PLACEMENT_POCKET) {
        posture = tilt <= THIGH_UPRIGHT_DEG ? HARLITE_STANDING : HARLITE_SEATED;
    } else if (tilt > TORSO_LYING_DEG) {
        posture = HARLITE_LYING;
    } else {  /* upright torso: the model's own split between sitting and standing */
        const float share = upright > 0.0f ? p[HARLITE_SEATED] / upright : 0.5f;
        p[HARLITE_SEATED] = still * share;
        p[HARLITE_STANDING] = still * (1.0f - share);
        p[HARLITE_LYING] = 0.0f;
        return;
    }
    p[HARLITE_SEATED] = p[HARLITE_STANDING] = p[HARLITE_LYING] = 0.0f;
    p[posture] = still;
}
#endif

static void apply_placement(float *p) {
#if HARLITE_PLACEMENT_APPLIES
    double sum[3] = {0, 0, 0}, turning = 0;  /* gravity (total acceleration), angular rate */
    float g[3];
    for (int t = 0; t < HARLITE_WINDOW; t++)
        for (int a = 0; a < 3; a++) {
            sum[a] += S.window[t][6 + a];
            turning += (double)S.window[t][3 + a] * S.window[t][3 + a];
        }
    for (int a = 0; a < 3; a++) g[a] = (float)(sum[a] / HARLITE_WINDOW);
    const int found = placement_of(g, sqrt(turning / HARLITE_WINDOW));
    const int top = argmax(p, HARLITE_N_LABELS);
    if (hl_moving[top]) observe(found);
    else if (top == HARLITE_STANDING && found == HARLITE_PLACEMENT_WAIST)
        observe(HARLITE_PLACEMENT_WAIST);
    if (S.placement != HARLITE_PLACEMENT_UNKNOWN && !hl_moving[top])
        settle(p, tilt_deg(g, S.placement == HARLITE_PLACEMENT_WAIST ? 0 : 1));
#else
    (void)p;
#endif
}

/* ---- smoothing (smoothing.py) ---- */

static void smooth(harlite_result *r) {
    r->smoothed_label = -1;
    r->smoothed_confidence = 0.0f;
    if (S.cfg.smooth_kind == HARLITE_SMOOTH_NONE) return;
    const int size = S.cfg.smooth_size;
    memcpy(S.recent[S.recent_next], r->probabilities, sizeof(r->probabilities));
    S.recent_next = (S.recent_next + 1) % size;
    if (S.recent_n < size) S.recent_n++;
    const int oldest = (S.recent_next - S.recent_n + size) % size;
    if (S.cfg.smooth_kind == HARLITE_SMOOTH_MEAN) {
        float mean[HARLITE_N_LABELS] = {0};
        for (int i = 0; i < S.recent_n; i++)
            for (int k = 0; k < HARLITE_N_LABELS; k++) mean[k] += S.recent[(oldest + i) % size][k];
        for (int k = 0; k < HARLITE_N_LABELS; k++) mean[k] /= (float)S.recent_n;
        r->smoothed_label = argmax(mean, HARLITE_N_LABELS);
        r->smoothed_confidence = mean[r->smoothed_label];
        return;
    }
    int votes[HARLITE_MAX_SMOOTH], counts[HARLITE_N_LABELS] = {0}, top = 0;
    for (int i = 0; i < S.recent_n; i++) {
        votes[i] = argmax(S.recent[(oldest + i) % size], HARLITE_N_LABELS);
        if (++counts[votes[i]] > top) top = counts[votes[i]];
    }
    for (int i = S.recent_n - 1; i >= 0; i--)  /* ties: the most recent of the tied labels */
        if (counts[votes[i]] == top) { r->smoothed_label = votes[i]; break; }
    r->smoothed_confidence = (float)top / (float)S.recent_n;
}

/* ---- windows (windowing.py) ---- */

static int classify(harlite_result *out) {
    harlite_result r;
    harlite_classify_window(&S.window[0][0], r.probabilities);
    apply_placement(r.probabilities);
    r.index = S.stats.windows++;
    r.start_time = S.times[0];
    r.end_time = S.times[HARLITE_WINDOW - 1];
    r.label = argmax(r.probabilities, HARLITE_N_LABELS);
    r.confidence = r.probabilities[r.label];
    r.placement = S.placement;
    smooth(&r);
    if (out != NULL) *out = r;
    if (S.cfg.on_window != NULL) S.cfg.on_window(&r, S.cfg.user);
    return 1;
}

static int add_to_window(double t, const hl_real f[HARLITE_CHANNELS], harlite_result *out) {
    for (int c = 0; c < HARLITE_CHANNELS; c++) S.window[S.fill][c] = (float)f[c];
    S.times[S.fill] = t;
    if (++S.fill < HARLITE_WINDOW) return 0;
    const int n = classify(out);
    const int keep = HARLITE_WINDOW - HARLITE_HOP;
    memmove(S.window, S.window[HARLITE_HOP], sizeof(S.window[0]) * keep);
    memmove(S.times, S.times + HARLITE_HOP, sizeof(S.times[0]) * keep);
    S.fill = keep;
    return n;
}

/* ---- filter bank (preprocessing.py) ---- */

static hl_real median(const hl_real *history_and_x, int n) {
    hl_real v[HARLITE_MEDIAN];
    for (int i = 0; i < n; i++) {  /* insertion sort: the middle value is exact */
        hl_real x = history_and_x[i];
        int j = i;
        while (j > 0 && v[j - 1] > x) { v[j] = v[j - 1]; j--; }
        v[j] = x;
    }
    return v[n / 2];
}

static hl_real sos_step(const hl_real (*sos)[6], hl_real (*z)[2][N_RAW], int sections, int ch,
                        hl_real x) {
    for (int s = 0; s < sections; s++) {  /* scipy's sosfilt: direct form II transposed */
        const hl_real y = sos[s][0] * x + z[s][0][ch];
        z[s][0][ch] = sos[s][1] * x - sos[s][4] * y + z[s][1][ch];
        z[s][1][ch] = sos[s][2] * x - sos[s][5] * y;
        x = y;
    }
    return x;
}

static double gravity_step(int ch, double x) {
    for (int s = 0; s < HARLITE_GRAVITY_SECTIONS; s++) {
        const double (*sos)[6] = hl_gravity_sos;
        const double y = sos[s][0] * x + S.gravity_z[s][0][ch];
        S.gravity_z[s][0][ch] = sos[s][1] * x - sos[s][4] * y + S.gravity_z[s][1][ch];
        S.gravity_z[s][1][ch] = sos[s][2] * x - sos[s][5] * y;
        x = y;
    }
    return x;
}

static void start_filters(const hl_real v[N_RAW]) {  /* as if the signal had always been v */
    for (int i = 0; i < KEEP; i++) memcpy(S.hist[i], v, sizeof(S.hist[i]));
    for (int s = 0; s < HARLITE_NOISE_SECTIONS; s++)
        for (int j = 0; j < 2; j++)
            for (int c = 0; c < N_RAW; c++) S.noise_z[s][j][c] = hl_noise_zi[s][j] * v[c];
    for (int s = 0; s < HARLITE_GRAVITY_SECTIONS; s++)
        for (int j = 0; j < 2; j++)
            for (int c = 0; c < 3; c++) S.gravity_z[s][j][c] = hl_gravity_zi[s][j] * (double)v[c];
    S.pp_started = 1;
}

static int filter_sample(double t, const double sample[N_RAW], harlite_result *out) {
    hl_real v[N_RAW], f[N_RAW], model[HARLITE_CHANNELS];
    for (int c = 0; c < N_RAW; c++) v[c] = (hl_real)sample[c];
    if (!S.pp_started) start_filters(v);
    for (int c = 0; c < N_RAW; c++) {
        hl_real column[HARLITE_MEDIAN];
        for (int i = 0; i < KEEP; i++) column[i] = S.hist[i][c];
        column[KEEP] = v[c];
        f[c] = sos_step(hl_noise_sos, S.noise_z, HARLITE_NOISE_SECTIONS, c, median(column, HARLITE_MEDIAN));
    }
    if (KEEP > 0) {
        memmove(S.hist[0], S.hist[1], sizeof(S.hist[0]) * (KEEP - 1));
        memcpy(S.hist[KEEP - 1], v, sizeof(S.hist[0]));
    }
    for (int a = 0; a < 3; a++) {
        model[a] = (hl_real)((double)f[a] - gravity_step(a, (double)f[a]));
        model[3 + a] = f[3 + a];
        model[6 + a] = f[a];
    }
    return add_to_window(t, model, out);
}

/* ---- resampling (resample.py: numpy.interp, with samples on the grid taken as they are) ---- */

static void interpolate(double g, double t, const double v[N_RAW], double out[N_RAW]) {
    const double t0 = S.rs_t0, *v0 = S.rs_v0;
    for (int c = 0; c < N_RAW; c++) {
        if (!S.rs_has_last || g >= t) out[c] = v[c];
        else if (g <= t0) out[c] = v0[c];
        else {
            const double slope = (v[c] - v0[c]) / (t - t0);
            out[c] = slope * (g - t0) + v0[c];
        }
    }
    if (!S.rs_has_last) return;
    const int right = g <= t0 ? 0 : 1;  /* searchsorted([t0, t], g), clipped */
    const double tr = right ? t : t0;
    const int nearest_left = fabs(g - t0) <= fabs(tr - g);
    const double tn = nearest_left ? t0 : tr;
    if (fabs(tn - g) <= GRID_TOLERANCE * S.step)
        memcpy(out, nearest_left ? v0 : (right ? v : v0), sizeof(double) * N_RAW);
}

static int resample(double t, const double v[N_RAW], harlite_result *out) {
    int n = 0;
    if (S.rs_has_last && t - S.rs_t0 > S.cfg.max_gap_s) {  /* a gap: the grid starts again */
        S.stats.gaps++;
        S.rs_has_last = S.rs_has_origin = 0;
        restart();
    }
    if (!S.rs_has_origin) {
        S.origin = t;
        S.next_k = 0;
        S.rs_has_origin = 1;
    }
    const int64_t last_k = (int64_t)floor((t - S.origin) / S.step + GRID_TOLERANCE);
    for (int64_t k = S.next_k; k <= last_k; k++) {
        const double g = S.origin + (double)k * S.step;
        double value[N_RAW];
        interpolate(g, t, v, value);
        n += filter_sample(g, value, out);
    }
    if (last_k + 1 > S.next_k) S.next_k = last_k + 1;
    S.rs_t0 = t;
    memcpy(S.rs_v0, v, sizeof(S.rs_v0));
    S.rs_has_last = 1;
    return n;
}

/* ---- clock guard (clock.py) ---- */

static int accept(const double row[1 + N_RAW], int resync, harlite_result *out) {
    if (resync) {  /* the clock changed for good: start afresh */
        S.rs_has_last = S.rs_has_origin = 0;
        restart();
    }
    S.stats.accepted++;
    return resample(row[0], row + 1, out);
}

static double *held(int i) { return S.held[(S.held_first + i) % HARLITE_MAX_HELD]; }

static void refuse_held(void) {
    S.stats.refused_time += (uint32_t)S.held_n;
    S.held_n = 0;
    S.held_first = 0;
}

static void hold(const double row[1 + N_RAW]) {
    if (S.held_n == HARLITE_MAX_HELD) {  /* full: the oldest is refused (Python holds more) */
        S.held_first = (S.held_first + 1) % HARLITE_MAX_HELD;
        S.held_n--;
        S.stats.refused_time++;
    }
    memcpy(held(S.held_n), row, sizeof(S.held[0]));
    S.held_n++;
}

static int release_held(harlite_result *out) {
    const int resync = held(0)[0] <= S.last;
    double row[1 + N_RAW];
    int n = 0, count = S.held_n;
    if (resync) S.stats.resyncs++;
    S.last = held(count - 1)[0];
    for (int i = 0; i < count; i++) {
        memcpy(row, held(i), sizeof(row));
        n += accept(row, i == 0 && resync, out);
    }
    S.held_n = 0;
    S.held_first = 0;
    return n;
}

static int judge(const double row[1 + N_RAW], harlite_result *out) {
    const double t = row[0];
    if (!S.has_last || (t - S.last > 0 && t - S.last <= S.cfg.max_gap_s)) {
        refuse_held();  /* on the old clock: anything held was wrong */
        S.last = t;
        S.has_last = 1;
        return accept(row, 0, out);
    }
    if (S.held_n > 0 && t > held(S.held_n - 1)[0] && (t > S.last) == (held(0)[0] > S.last)) {
        hold(row);  /* continues the held samples' clock, on their side of the old one */
        const int ahead = held(0)[0] > S.last;
        if (S.held_n >= CONFIRM_SAMPLES &&
            (ahead || held(S.held_n - 1)[0] - held(0)[0] >= RESYNC_SECONDS))
            return release_held(out);
        return 0;
    }
    refuse_held();
    hold(row);
    return 0;
}

int harlite_push(double t, double ax, double ay, double az, double gx, double gy, double gz,
                 harlite_result *result) {
    const double row[1 + N_RAW] = {t, ax, ay, az, gx, gy, gz};
    for (int i = 0; i < 1 + N_RAW; i++)
        if (!isfinite(row[i])) { S.stats.refused_values++; return 0; }
    for (int i = 1; i <= 3; i++)
        if (fabs(row[i]) > ACC_LIMIT_G || fabs(row[i + 3]) > GYRO_LIMIT_RAD_S) {
            S.stats.refused_values++;
            return 0;
        }
    if (fabs(t) > TIME_LIMIT_S) { S.stats.refused_values++; return 0; }
    return judge(row, result);
}

void harlite_finish(void) { refuse_held(); }
