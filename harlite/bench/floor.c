/* The floor reference of `harlite bench`: a plain C forward pass of a stacked-LSTM
 * classifier (batch 1, float32, straightforward loops, no library but libm) and the chain of
 * dependent recurrent mat-vecs that no implementation can run in parallel.
 *
 * Weights come from the model's float32 TFLite graph (harlite/bench/floor.py packs them);
 * the forward pass is checked against the model's own outputs before it is timed.
 *
 * Layout of `w` (all float32, row-major):
 *   sub[C] mul[C]                    input normalisation: (x - sub) * mul
 *   W0[D][C] b0[D]                   per-step dense layer, ReLU
 *   per LSTM layer l (input n = D for the first, H[l-1] after; gates i, f, c, o):
 *     WxT[n][4H] WhT[H][4H] b[4H]    transposed, so each input adds a row (axpy form)
 *   Wout[K][H_last] bout[K]          the last step's output to the classes, softmax
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MAX_UNITS 512

static float sigmoidf(float x) { return 1.0f / (1.0f + expf(-x)); }

/* g[0..G) += M^T v for M stored as n rows of G (axpy form, four rows at a time). */
static void add_rows(float *g, const float *M, const float *v, int n, int G) {
    int j = 0;
    for (; j + 4 <= n; j += 4) {
        const float a0 = v[j], a1 = v[j + 1], a2 = v[j + 2], a3 = v[j + 3];
        const float *r0 = M + (size_t)j * G, *r1 = r0 + G, *r2 = r1 + G, *r3 = r2 + G;
        for (int k = 0; k < G; k++) g[k] += a0 * r0[k] + a1 * r1[k] + a2 * r2[k] + a3 * r3[k];
    }
    for (; j < n; j++) {
        const float a = v[j], *r = M + (size_t)j * G;
        for (int k = 0; k < G; k++) g[k] += a * r[k];
    }
}

static void lstm_step(const float *in, int n, const float *WxT, const float *WhT,
                      const float *b, int H, float *h, float *c) {
    float g[4 * MAX_UNITS];
    memcpy(g, b, sizeof(float) * 4 * H);
    add_rows(g, WxT, in, n, 4 * H);
    add_rows(g, WhT, h, H, 4 * H);
    for (int k = 0; k < H; k++) {
        const float i = sigmoidf(g[k]), f = sigmoidf(g[H + k]);
        const float u = tanhf(g[2 * H + k]), o = sigmoidf(g[3 * H + k]);
        c[k] = f * c[k] + i * u;
        h[k] = o * tanhf(c[k]);
    }
}

/* One window x[T][C] -> probabilities out[K]. Returns 0, or -1 for sizes it cannot hold. */
int forward(const float *x, int T, int C, int D, int L, const int *H, int K, const float *w,
            float *out) {
    if (C > MAX_UNITS || D > MAX_UNITS || K > MAX_UNITS) return -1;
    for (int l = 0; l < L; l++)
        if (H[l] > MAX_UNITS) return -1;
    const float *sub = w, *mul = w + C, *W0 = w + 2 * C, *b0 = W0 + (size_t)D * C;
    const float *p = b0 + D;
    int S = D;  /* the widest per-step vector: the row stride of the step buffers */
    for (int l = 0; l < L; l++)
        if (H[l] > S) S = H[l];
    float *seq = malloc(sizeof(float) * (size_t)T * S);
    float *next = malloc(sizeof(float) * (size_t)T * S);
    float h[MAX_UNITS], c[MAX_UNITS], xn[MAX_UNITS];
    if (!seq || !next) { free(seq); free(next); return -1; }
    for (int t = 0; t < T; t++) {
        for (int j = 0; j < C; j++) xn[j] = (x[t * C + j] - sub[j]) * mul[j];
        for (int k = 0; k < D; k++) {
            float s = b0[k];
            for (int j = 0; j < C; j++) s += W0[k * C + j] * xn[j];
            seq[(size_t)t * S + k] = s > 0.0f ? s : 0.0f;
        }
    }
    int n = D;
    for (int l = 0; l < L; l++) {
        const int units = H[l];
        const float *WxT = p, *WhT = WxT + (size_t)n * 4 * units, *b = WhT + (size_t)units * 4 * units;
        p = b + 4 * units;
        memset(h, 0, sizeof(h));
        memset(c, 0, sizeof(c));
        for (int t = 0; t < T; t++) {
            lstm_step(seq + (size_t)t * S, n, WxT, WhT, b, units, h, c);
            memcpy(next + (size_t)t * S, h, sizeof(float) * units);
        }
        float *swap = seq; seq = next; next = swap;
        n = units;
    }
    const float *Wout = p, *bout = p + (size_t)K * n, *last = seq + (size_t)(T - 1) * S;
    float top = -INFINITY, total = 0.0f;
    for (int k = 0; k < K; k++) {
        float s = bout[k];
        for (int j = 0; j < n; j++) s += Wout[k * n + j] * last[j];
        out[k] = s;
        if (s > top) top = s;
    }
    for (int k = 0; k < K; k++) { out[k] = expf(out[k] - top); total += out[k]; }
    for (int k = 0; k < K; k++) out[k] /= total;
    free(seq);
    free(next);
    return 0;
}

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* Best seconds of one forward pass over `repeats` passes. */
double time_forward(const float *x, int T, int C, int D, int L, const int *H, int K,
                    const float *w, float *out, int repeats) {
    double best = 1e30;
    for (int r = 0; r < repeats; r++) {
        double start = now_s();
        if (forward(x, T, C, D, L, H, K, w, out) != 0) return -1.0;
        double took = now_s() - start;
        if (took < best) best = took;
    }
    return best;
}

/* Best seconds for `steps` dependent mat-vecs g = WhT^T h (4H x H), h taken from g. */
double time_chain(const float *WhT, int H, int steps, int repeats, float *sink) {
    if (H > MAX_UNITS) return -1.0;
    double best = 1e30;
    float h[MAX_UNITS], g[4 * MAX_UNITS];
    for (int r = 0; r < repeats; r++) {
        for (int k = 0; k < H; k++) h[k] = 0.01f * (k + 1);
        double start = now_s();
        for (int s = 0; s < steps; s++) {
            memset(g, 0, sizeof(float) * 4 * H);
            add_rows(g, WhT, h, H, 4 * H);
            for (int k = 0; k < H; k++) {  /* the next step needs this one; kept bounded */
                const float v = 0.5f * g[k];
                h[k] = (v > 1.0f ? 1.0f : (v < -1.0f ? -1.0f : v)) + 1e-3f;
            }
        }
        double took = now_s() - start;
        if (took < best) best = took;
        *sink += h[0];
    }
    return best;
}
