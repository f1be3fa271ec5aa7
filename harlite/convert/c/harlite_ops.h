/* Layer operations of the generated forward pass (float32 arithmetic; int8 weights with a
 * float scale per output channel when HARLITE_INT8_WEIGHTS). Sequences are T rows of
 * width C, `ld` floats apart (a row can be part of a wider buffer).
 *
 * A weight matrix of n inputs by m outputs (a Dense kernel, one Conv1D tap, an LSTM's input
 * or recurrent kernel) is packed by blocks of HL_BLOCK outputs: block b holds, for each
 * input j, the weights of outputs b*HL_BLOCK .. b*HL_BLOCK+HL_BLOCK-1 (zeros past m), so a
 * block is HL_BLOCK dot products reading its weights once, in order. */
#ifndef HARLITE_OPS_H
#define HARLITE_OPS_H

#include <stdint.h>

#include "harlite_config.h"

#define HL_BLOCK 32
/* Weights of a packed n-by-m matrix (m rounded up to whole blocks). */
#define hl_packed(n, m) ((size_t)(n) * (size_t)(((m) + HL_BLOCK - 1) / HL_BLOCK * HL_BLOCK))

#if HARLITE_INT8_WEIGHTS
typedef int8_t hl_weight;
#else
typedef float hl_weight;
#endif

void hl_normalize(float *y, int ldy, const float *x, int ldx, int T, int C, const float *sub,
                  const float *mul);
void hl_dense(float *y, int ldy, const float *x, int ldx, int T, int n, int m,
              const hl_weight *W, const float *scale, const float *b, int relu);
void hl_lstm(float *y, int ldy, const float *x, int ldx, int T, int n, int H,
             const hl_weight *Wx, const float *sx, const hl_weight *Wh, const float *sh,
             const float *b, int reverse, int sequences);
void hl_conv1d(float *y, int ldy, const float *x, int ldx, int T, int cin, int cout, int k,
               const hl_weight *W, const float *scale, const float *b, int relu);
void hl_maxpool(float *y, int ldy, const float *x, int ldx, int T, int C, int pool);
void hl_mean_time(float *y, const float *x, int ldx, int T, int C);
void hl_add(float *y, int ldy, const float *a, int lda, const float *b, int ldb, int T, int C);
void hl_copy(float *y, int ldy, const float *x, int ldx, int T, int C, int reverse);
void hl_relu(float *y, int ldy, int T, int C);
void hl_softmax(float *p, int K);
/* The LSTM's activations: float-only, within 2e-7 of the exact values (no libm call). */
float hl_sigmoid(float x);
float hl_tanh(float x);

#endif
