/* Dense matrix multiply of two N x N double matrices (ikj order): floating point and cache. */
#include "kernel.h"
#define N 256
static double a[N * N], b[N * N], c[N * N];
/* C = A x B, n times (A <- C between rounds, scaled to stay finite); a checksum of C. */
EXPORT u64 run(u32 n) {
    u32 state = 7;
    for (int i = 0; i < N * N; i++) {
        a[i] = (double)(lcg(&state) % 1000) / 1000.0;
        b[i] = (double)(lcg(&state) % 1000) / 1000.0;
    }
    for (u32 round = 0; round < n; round++) {
        for (int i = 0; i < N * N; i++) c[i] = 0;
        for (int i = 0; i < N; i++)
            for (int k = 0; k < N; k++) {
                double x = a[i * N + k];
                for (int j = 0; j < N; j++) c[i * N + j] += x * b[k * N + j];
            }
        for (int i = 0; i < N * N; i++) a[i] = c[i] / N;
    }
    double sum = 0;
    for (int i = 0; i < N * N; i++) sum += c[i];
    return (u64)(sum * 1000.0);
}
