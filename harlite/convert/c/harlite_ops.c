/* Layer operations. Matrix-vector products are dot products over packed weights
 * (harlite_ops.h: blocks of HL_BLOCK output rows, each input's HL_BLOCK weights adjacent):
 * one accumulator per output, kept in registers, and the weights read once, in order. */
#include <math.h>
#include <string.h>

#include "harlite_ops.h"

/* Sums computed at once: a block's HL_BLOCK (for a vector unit) or, on a 32-bit Arm core,
 * 8 (they and their weights fit a Cortex-M4's 32 float registers). Each output's sum is the
 * same sequence of operations whatever the choice, so the results are the same bits where
 * multiply-adds are fused alike (ISO C's -ffp-contract=off; under -ffp-contract=fast a
 * compiler may fuse some of one grouping's and not the other's: a last-bit difference). */
#ifndef HL_SUB
#if defined(__arm__) || defined(__thumb__)
#define HL_SUB 8
#else
#define HL_SUB HL_BLOCK
#endif
#endif

/* Cortex-M4F (GCC): the single-vector sums of a whole sub-block (8 rows, float weights) in
 * assembly, because GCC loads each weight with its own VLDR: here one VLDM loads a row's 8
 * weights and one VLDM two inputs, 1.44 instructions per multiply-add instead of about 2.4.
 * Each sum is the same sequence of fused multiply-adds as the C loop below (which GCC also
 * fuses under -ffp-contract=fast), so the results are the same bits. */
#if defined(__GNUC__) && defined(__ARM_ARCH_7EM__) && defined(__ARM_FP) && \
    !HARLITE_INT8_WEIGHTS && HL_SUB == 8 && HL_BLOCK == 32 && !defined(HL_NO_ASM)
#define HL_M4_SUMS 1
/* out[0..8) += 8 rows of a packed block (P: their first weight) times v[0..2 pairs). */
static void m4_sums8(float *out, const float *P, const float *v, int pairs) {
    __asm__ volatile(
        "vldmia %[o], {s16-s23}\n"
        "1:\n\t"
        "vldmia %[v]!, {s0-s1}\n\t"
        "vldmia %[p], {s8-s15}\n\t"
        "add %[p], %[p], #128\n\t"
        "vfma.f32 s16, s0, s8\n\t"
        "vfma.f32 s17, s0, s9\n\t"
        "vfma.f32 s18, s0, s10\n\t"
        "vfma.f32 s19, s0, s11\n\t"
        "vfma.f32 s20, s0, s12\n\t"
        "vfma.f32 s21, s0, s13\n\t"
        "vfma.f32 s22, s0, s14\n\t"
        "vfma.f32 s23, s0, s15\n\t"
        "vldmia %[p], {s8-s15}\n\t"
        "add %[p], %[p], #128\n\t"
        "vfma.f32 s16, s1, s8\n\t"
        "vfma.f32 s17, s1, s9\n\t"
        "vfma.f32 s18, s1, s10\n\t"
        "vfma.f32 s19, s1, s11\n\t"
        "vfma.f32 s20, s1, s12\n\t"
        "vfma.f32 s21, s1, s13\n\t"
        "vfma.f32 s22, s1, s14\n\t"
        "vfma.f32 s23, s1, s15\n\t"
        "subs %[n], %[n], #1\n\t"
        "bne 1b\n\t"
        "vstmia %[o], {s16-s23}\n"
        : [p] "+r"(P), [v] "+r"(v), [n] "+r"(pairs)
        : [o] "r"(out)
        : "s0", "s1", "s8", "s9", "s10", "s11", "s12", "s13", "s14", "s15", "s16", "s17", "s18",
          "s19", "s20", "s21", "s22", "s23", "cc", "memory");
}
/* The same for two vectors (two time steps): out0 += rows times v0, out1 += rows times v1,
 * each weight load serving both (1.25 instructions per multiply-add instead of about 1.9). */
static void m4_sums8x2(float *out0, float *out1, const float *P, const float *v0,
                       const float *v1, int pairs) {
    __asm__ volatile(
        "vldmia %[o0], {s16-s23}\n\t"
        "vldmia %[o1], {s24-s31}\n"
        "1:\n\t"
        "vldmia %[v0]!, {s0-s1}\n\t"
        "vldmia %[v1]!, {s2-s3}\n\t"
        "vldmia %[p], {s8-s15}\n\t"
        "add %[p], %[p], #128\n\t"
        "vfma.f32 s16, s0, s8\n\t"
        "vfma.f32 s17, s0, s9\n\t"
        "vfma.f32 s18, s0, s10\n\t"
        "vfma.f32 s19, s0, s11\n\t"
        "vfma.f32 s20, s0, s12\n\t"
        "vfma.f32 s21, s0, s13\n\t"
        "vfma.f32 s22, s0, s14\n\t"
        "vfma.f32 s23, s0, s15\n\t"
        "vfma.f32 s24, s2, s8\n\t"
        "vfma.f32 s25, s2, s9\n\t"
        "vfma.f32 s26, s2, s10\n\t"
        "vfma.f32 s27, s2, s11\n\t"
        "vfma.f32 s28, s2, s12\n\t"
        "vfma.f32 s29, s2, s13\n\t"
        "vfma.f32 s30, s2, s14\n\t"
        "vfma.f32 s31, s2, s15\n\t"
        "vldmia %[p], {s8-s15}\n\t"
        "add %[p], %[p], #128\n\t"
        "vfma.f32 s16, s1, s8\n\t"
        "vfma.f32 s17, s1, s9\n\t"
        "vfma.f32 s18, s1, s10\n\t"
        "vfma.f32 s19, s1, s11\n\t"
        "vfma.f32 s20, s1, s12\n\t"
        "vfma.f32 s21, s1, s13\n\t"
        "vfma.f32 s22, s1, s14\n\t"
        "vfma.f32 s23, s1, s15\n\t"
        "vfma.f32 s24, s3, s8\n\t"
        "vfma.f32 s25, s3, s9\n\t"
        "vfma.f32 s26, s3, s10\n\t"
        "vfma.f32 s27, s3, s11\n\t"
        "vfma.f32 s28, s3, s12\n\t"
        "vfma.f32 s29, s3, s13\n\t"
        "vfma.f32 s30, s3, s14\n\t"
        "vfma.f32 s31, s3, s15\n\t"
        "subs %[n], %[n], #1\n\t"
        "bne 1b\n\t"
        "vstmia %[o0], {s16-s23}\n\t"
        "vstmia %[o1], {s24-s31}\n"
        : [p] "+r"(P), [v0] "+r"(v0), [v1] "+r"(v1), [n] "+r"(pairs)
        : [o0] "r"(out0), [o1] "r"(out1)
        : "s0", "s1", "s2", "s3", "s8", "s9", "s10", "s11", "s12", "s13", "s14", "s15", "s16",
          "s17", "s18", "s19", "s20", "s21", "s22", "s23", "s24", "s25", "s26", "s27", "s28",
          "s29", "s30", "s31", "cc", "memory");
}
#endif

/* For each of V (1 or 2) vectors v[i]: out[i][0..count) += count (<= HL_SUB) rows of a
 * packed block (P: their first weight; n inputs) times v[i]; int8: the sums times the rows'
 * scales. Two vectors share each weight load (two time steps of a layer). Inlined with a
 * constant V, the sums live in registers: the loops that touch them have fixed lengths. */
static inline void sub_sums(float *const *out, const hl_weight *P, const float *scale,
                            const float *const *v, int n, int count, int V) {
    float a[2][HL_SUB], t[HL_SUB];
#ifdef HL_M4_SUMS
    if (count == HL_SUB && n >= 2) {  /* pairs of inputs in assembly, an odd last one here */
        if (V == 1)
            m4_sums8(out[0], P, v[0], n / 2);
        else
            m4_sums8x2(out[0], out[1], P, v[0], v[1], n / 2);
        if (n % 2)
            for (int i = 0; i < V; i++)
                for (int k = 0; k < HL_SUB; k++)
                    out[i][k] += v[i][n - 1] * P[(size_t)(n - 1) * HL_BLOCK + k];
        return;
    }
#endif
    for (int i = 0; i < V; i++) {
#if HARLITE_INT8_WEIGHTS
        for (int k = 0; k < HL_SUB; k++) a[i][k] = 0.0f;
#else
        const float *start = out[i];  /* the sums start from out */
        if (count < HL_SUB) {
            memset(t, 0, sizeof(t));
            memcpy(t, out[i], sizeof(float) * (size_t)count);
            start = t;
        }
        for (int k = 0; k < HL_SUB; k++) a[i][k] = start[k];
#endif
    }
    int j = 0;
    if (V == 1)
        for (; j + 2 <= n; j += 2, P += 2 * HL_BLOCK) {  /* two inputs a turn: less overhead */
            const float x0 = v[0][j], x1 = v[0][j + 1];
            for (int k = 0; k < HL_SUB; k++) a[0][k] += x0 * (float)P[k];
            for (int k = 0; k < HL_SUB; k++) a[0][k] += x1 * (float)P[HL_BLOCK + k];
        }
    for (; j < n; j++, P += HL_BLOCK)
        for (int i = 0; i < V; i++) {
            const float x = v[i][j];
            for (int k = 0; k < HL_SUB; k++) a[i][k] += x * (float)P[k];
        }
    for (int i = 0; i < V; i++) {
#if HARLITE_INT8_WEIGHTS
        for (int k = 0; k < HL_SUB; k++) t[k] = a[i][k];
        for (int k = 0; k < count; k++) out[i][k] += t[k] * scale[k];
#else
        (void)scale;
        if (count == HL_SUB) {
            for (int k = 0; k < HL_SUB; k++) out[i][k] = a[i][k];
        } else {
            for (int k = 0; k < HL_SUB; k++) t[k] = a[i][k];
            memcpy(out[i], t, sizeof(float) * (size_t)count);
        }
#endif
    }
}

/* For each of V (1 or 2) vectors: out[i][0..rows) += P v[i], P packed. */
static inline void matvec_n(float *const *out, const hl_weight *P, const float *scale,
                            const float *const *v, int n, int rows, int V) {
    for (int r = 0; r < rows; r += HL_BLOCK, P += (size_t)n * HL_BLOCK)
        for (int b = r; b < rows && b < r + HL_BLOCK; b += HL_SUB) {
            float *const o[2] = {out[0] + b, out[V - 1] + b};
            sub_sums(o, P + (b - r), scale + (scale ? b : 0), v, n,
                     rows - b < HL_SUB ? rows - b : HL_SUB, V);
        }
}

/* out[0..rows) += P v, P packed (int8: the sums times each row's scale, applied once). */
static void matvec(float *out, const hl_weight *P, const float *scale, const float *v, int n,
                   int rows) {
    float *const o[1] = {out};
    const float *const x[1] = {v};
    matvec_n(o, P, scale, x, n, rows, 1);
}

/* The same for two vectors at once (out0 += P v0, out1 += P v1). */
static void matvec2(float *out0, float *out1, const hl_weight *P, const float *scale,
                    const float *v0, const float *v1, int n, int rows) {
    float *const o[2] = {out0, out1};
    const float *const x[2] = {v0, v1};
    matvec_n(o, P, scale, x, n, rows, 2);
}

/* e^x in float: x = k ln2 + r, |r| <= ln2/2, e^r by a degree-5 polynomial (fitted for the
 * least largest relative error on that interval: 7.5e-8, 2.1e-7 with float rounding), 2^k
 * put into the exponent bits. x is clamped to [-86, 86] (2^k stays a normal float's
 * exponent). The sigmoid and tanh built on it stay within 2e-7 of the exact values
 * (absolute; tests/convert/test_export_c.py measures it). */
static float exp_approx(float x) {
    x = x < -86.0f ? -86.0f : (x > 86.0f ? 86.0f : x);
    /* k = round(x / ln 2): truncating a positive number (no libm call; safe with -ffast-math) */
    const int32_t n = (int32_t)(x * 1.44269504f + 128.5f) - 128;
    const float k = (float)n;
    const float r = (x - k * 0.693145752f) - k * 1.42860677e-6f;  /* ln 2 in two parts */
    float p = 8.29763804e-3f;
    p = p * r + 4.19153646e-2f;
    p = p * r + 1.66675746e-1f;
    p = p * r + 4.99988943e-1f;
    p = p * r + 9.99999702e-1f;
    p = p * r + 1.00000012f;
    int32_t bits;
    memcpy(&bits, &p, sizeof(bits));
    bits += n * (1 << 23);
    memcpy(&p, &bits, sizeof(p));
    return p;
}

static float sigmoid(float x) { return 1.0f / (1.0f + exp_approx(-x)); }

static float tanh_approx(float x) { return 2.0f / (1.0f + exp_approx(-2.0f * x)) - 1.0f; }

float hl_sigmoid(float x) { return sigmoid(x); }

float hl_tanh(float x) { return tanh_approx(x); }

void hl_normalize(float *y, int ldy, const float *x, int ldx, int T, int C, const float *sub,
                  const float *mul) {
    for (int t = 0; t < T; t++)
        for (int c = 0; c < C; c++) y[t * ldy + c] = (x[t * ldx + c] - sub[c]) * mul[c];
}

void hl_dense(float *y, int ldy, const float *x, int ldx, int T, int n, int m,
              const hl_weight *W, const float *scale, const float *b, int relu) {
    for (int t = 0; t < T; t++) memcpy(y + (size_t)t * ldy, b, sizeof(float) * (size_t)m);
    int t = 0;
    for (; t + 2 <= T; t += 2)  /* two steps share each weight load */
        matvec2(y + (size_t)t * ldy, y + (size_t)(t + 1) * ldy, W, scale, x + (size_t)t * ldx,
                x + (size_t)(t + 1) * ldx, n, m);
    if (t < T) matvec(y + (size_t)t * ldy, W, scale, x + (size_t)t * ldx, n, m);
    if (relu)
        for (t = 0; t < T; t++)
            for (int k = 0; k < m; k++) {
                float *row = y + (size_t)t * ldy;
                row[k] = row[k] > 0.0f ? row[k] : 0.0f;
            }
}

/* One LSTM step from its gates' pre-activations g (input and bias terms added): adds the
 * recurrent term, then updates c and h. */
static void lstm_step(float *g, float *c, float *h, int H, const hl_weight *Wh, const float *sh) {
    matvec(g, Wh, sh, h, H, 4 * H);
    for (int k = 0; k < H; k++) {
        const float i = sigmoid(g[k]), f = sigmoid(g[H + k]);
        const float u = tanh_approx(g[2 * H + k]), o = sigmoid(g[3 * H + k]);
        c[k] = f * c[k] + i * u;
        h[k] = o * tanh_approx(c[k]);
    }
}

/* Keras LSTM (gates i, f, c, o; tanh, sigmoid), from a zero state. `reverse` runs from the
 * last step to the first (a backward LSTM), writing each step's output at its input's row;
 * without `sequences`, y gets the last step's output only. The input terms of two steps are
 * computed together (they share each weight load); the recurrent one step at a time. */
void hl_lstm(float *y, int ldy, const float *x, int ldx, int T, int n, int H,
             const hl_weight *Wx, const float *sx, const hl_weight *Wh, const float *sh,
             const float *b, int reverse, int sequences) {
    float h[HL_MAX_UNITS], c[HL_MAX_UNITS], g[2][4 * HL_MAX_UNITS];
    const size_t gates = sizeof(float) * 4 * (size_t)H;
    memset(h, 0, sizeof(float) * (size_t)H);
    memset(c, 0, sizeof(float) * (size_t)H);
    for (int s = 0; s < T; s += 2) {
        const int pair = s + 1 < T, t0 = reverse ? T - 1 - s : s, t1 = reverse ? t0 - 1 : t0 + 1;
        memcpy(g[0], b, gates);
        if (pair) {
            memcpy(g[1], b, gates);
            matvec2(g[0], g[1], Wx, sx, x + (size_t)t0 * ldx, x + (size_t)t1 * ldx, n, 4 * H);
        } else {
            matvec(g[0], Wx, sx, x + (size_t)t0 * ldx, n, 4 * H);
        }
        for (int i = 0; i <= pair; i++) {
            lstm_step(g[i], c, h, H, Wh, sh);
            if (sequences) memcpy(y + (size_t)(i ? t1 : t0) * ldy, h, sizeof(float) * (size_t)H);
        }
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
            matvec(row, W + (size_t)d * hl_packed(cin, cout), scale, x + (size_t)tt * ldx, cin,
                   cout);
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
