/* Layer operations: straightforward loops in the axpy form of harlite bench's floor (each
 * input adds a weight row to the outputs), so the compiler vectorises along the outputs. */
#include <math.h>
#include <string.h>

#include "harlite_ops.h"

#if HARLITE_INT8_WEIGHTS
static float acc[HL_MAX_WIDTH];  /* per-output sums before the channel's scale */
#endif

/* g[0..m) += W^T v, W stored as n rows of m (int8: times the output channel's scale). */
static void add_rows(float *g, const hl_weight *W, const float *scale, const float *v, int n,
                     int m) {
#if HARLITE_INT8_WEIGHTS
    float *out = acc;
    memset(acc, 0, sizeof(float) * (size_t)m);
#else
    float *out = g;
    (void)scale;
#endif
    int j = 0;
    for (; j + 4 <= n; j += 4) {
        const float a0 = v[j], a1 = v[j + 1], a2 = v[j + 2], a3 = v[j + 3];
        const hl_weight *r0 = W + (size_t)j * m, *r1 = r0 + m, *r2 = r1 + m, *r3 = r2 + m;
        for (int k = 0; k < m; k++)
            out[k] += a0 * (float)r0[k] + a1 * (float)r1[k] + a2 * (float)r2[k] + a3 * (float)r3[k];
    }
    for (; j < n; j++) {
        const float a = v[j];
        const hl_weight *r = W + (size_t)j * m;
        for (int k = 0; k < m; k++) out[k] += a * (float)r[k];
    }
#if HARLITE_INT8_WEIGHTS
    for (int k = 0; k < m; k++) g[k] += acc[k] * scale[k];
#endif
}

void hl_normalize(float *y, int ldy, const float *x, int ldx, int T, int C, const float *sub,
                  const float *mul) {
    for (int t = 0; t < T; t++)
        for (int c = 0; c < C; c++) y[t * ldy + c] = (x[t * ldx + c] - sub[c]) * mul[c];
}

void hl_dense(float *y, int ldy, const float *x, int ldx, int T, int n, int m,
              const hl_weight *W, const float *scale, const float *b, int relu) {
    for (int t = 0; t < T; t++) {
        float *row = y + (size_t)t * ldy;
        memcpy(row, b, sizeof(float) * (size_t)m);
        add_rows(row, W, scale, x + (size_t)t * ldx, n, m);
        if (relu)
            for (int k = 0; k < m; k++) row[k] = row[k] > 0.0f ? row[k] : 0.0f;
    }
}

static float sigmoid(float x) { return 1.0f / (1.0f + expf(-x)); }

/* Keras LSTM (gates i, f, c, o; tanh, sigmoid), from a zero state. `reverse` runs from the
 * last step to the first (a backward LSTM), writing each step's output at its input's row;
 * without `sequences`, y gets the last step's output only. */
void hl_lstm(float *y, int ldy, const float *x, int ldx, int T, int n, int H,
             const hl_weight *Wx, const float *sx, const hl_weight *Wh, const float *sh,
             const float *b, int reverse, int sequences) {
    float h[HL_MAX_UNITS], c[HL_MAX_UNITS], g[4 * HL_MAX_UNITS];
    memset(h, 0, sizeof(float) * (size_t)H);
    memset(c, 0, sizeof(float) * (size_t)H);
    for (int s = 0; s < T; s++) {
        const int t = reverse ? T - 1 - s : s;
        memcpy(g, b, sizeof(float) * 4 * (size_t)H);
        add_rows(g, Wx, sx, x + (size_t)t * ldx, n, 4 * H);
        add_rows(g, Wh, sh, h, H, 4 * H);
        for (int k = 0; k < H; k++) {
            const float i = sigmoid(g[k]), f = sigmoid(g[H + k]);
            const float u = tanhf(g[2 * H + k]), o = sigmoid(g[3 * H + k]);
            c[k] = f * c[k] + i * u;
            h[k] = o * tanhf(c[k]);
        }
        if (sequences) memcpy(y + (size_t)t * ldy, h, sizeof(float) * (size_t)H);
    }
    if (!sequences) memcpy(y, h, sizeof(float) * (size_t)H);
}

/* Conv1D, stride 1, 'same' padding (zeros), W as k taps of cin rows of cout. */
void hl_conv1d(float *y, int ldy, const float *x, int ldx, int T, int cin, int cout, int k,
               const hl_weight *W, const float *scale, const float *b, int relu) {
    const int pad = (k - 1) / 2;
    for (int t = 0; t < T; t++) {
        float *row = y + (size_t)t * ldy;
        memcpy(row, b, sizeof(float) * (size_t)cout);
        for (int d = 0; d < k; d++) {
            const int tt = t + d - pad;
            if (tt < 0 || tt >= T) continue;
            add_rows(row, W + (size_t)d * cin * cout, scale, x + (size_t)tt * ldx, cin, cout);
        }
        if (relu)
            for (int o = 0; o < cout; o++) row[o] = row[o] > 0.0f ? row[o] : 0.0f;
    }
}

void hl_maxpool(float *y, int ldy, const float *x, int ldx, int T, int C, int pool) {
    for (int t = 0; t < T / pool; t++)
        for (int c = 0; c < C; c++) {
            float best = x[(size_t)t * pool * ldx + c];
            for (int i = 1; i < pool; i++) {
                const float v = x[((size_t)t * pool + i) * ldx + c];
                if (v > best) best = v;
            }
            y[(size_t)t * ldy + c] = best;
        }
}

void hl_mean_time(float *y, const float *x, int ldx, int T, int C) {
    for (int c = 0; c < C; c++) {
        float s = 0.0f;
        for (int t = 0; t < T; t++) s += x[(size_t)t * ldx + c];
        y[c] = s / (float)T;
    }
}

void hl_add(float *y, int ldy, const float *a, int lda, const float *b, int ldb, int T, int C) {
    for (int t = 0; t < T; t++)
        for (int c = 0; c < C; c++) y[t * ldy + c] = a[t * lda + c] + b[t * ldb + c];
}

void hl_copy(float *y, int ldy, const float *x, int ldx, int T, int C, int reverse) {
    for (int t = 0; t < T; t++)
        memmove(y + (size_t)t * ldy, x + (size_t)(reverse ? T - 1 - t : t) * ldx,
                sizeof(float) * (size_t)C);
}

void hl_relu(float *y, int ldy, int T, int C) {
    for (int t = 0; t < T; t++)
        for (int c = 0; c < C; c++) y[t * ldy + c] = y[t * ldy + c] > 0.0f ? y[t * ldy + c] : 0.0f;
}

void hl_softmax(float *p, int K) {
    float top = p[0], total = 0.0f;
    for (int k = 1; k < K; k++)
        if (p[k] > top) top = p[k];
    for (int k = 0; k < K; k++) { p[k] = expf(p[k] - top); total += p[k]; }
    for (int k = 0; k < K; k++) p[k] /= total;
}
