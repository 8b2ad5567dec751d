/* Element-wise parts of the forward pass: RMSNorm and rotary embeddings. */

#include "shiftadd_ops.h"

#include <math.h>

void sa_rmsnorm(const float *x, const float *gain, float *y, int T, int width, float eps) {
    for (int t = 0; t < T; t++) {
        const float *xt = x + (size_t)t * width;
        float *yt = y + (size_t)t * width;
        float acc[8] = {0};
        int i = 0;
        for (; i + 8 <= width; i += 8)
            for (int k = 0; k < 8; k++) acc[k] += xt[i + k] * xt[i + k];
        float sum = 0;
        for (int k = 0; k < 8; k++) sum += acc[k];
        for (; i < width; i++) sum += xt[i] * xt[i];
        const float scale = 1.0f / sqrtf(sum / (float)width + eps);
        for (i = 0; i < width; i++) yt[i] = xt[i] * scale * gain[i];
    }
}

void sa_rope(float *v, int heads, int head_dim, const float *cos_table, const float *sin_table, int interleaved) {
    const int half = head_dim / 2;
    for (int h = 0; h < heads; h++) {
        float *base = v + (size_t)h * head_dim;
        for (int i = 0; i < half; i++) {
            const int a = interleaved ? 2 * i : i, b = interleaved ? 2 * i + 1 : i + half;
            const float x0 = base[a], x1 = base[b];
            base[a] = x0 * cos_table[i] - x1 * sin_table[i];
            base[b] = x0 * sin_table[i] + x1 * cos_table[i];
        }
    }
}
