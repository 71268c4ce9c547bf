/* Quicksort (median of three, insertion sort below 16) of 1M pseudo-random 32-bit integers. */
#include "kernel.h"
#define COUNT (1u << 20)
static u32 v[COUNT];
static void insertion(u32 *x, int lo, int hi) {
    for (int i = lo + 1; i <= hi; i++) {
        u32 key = x[i];
        int j = i - 1;
        while (j >= lo && x[j] > key) { x[j + 1] = x[j]; j--; }
        x[j + 1] = key;
    }
}
static void quicksort(u32 *x, int lo, int hi) {
    while (hi - lo > 16) {
        int mid = lo + (hi - lo) / 2;
        u32 p1 = x[lo], p2 = x[mid], p3 = x[hi];
        u32 pivot = p1 < p2 ? (p2 < p3 ? p2 : (p1 < p3 ? p3 : p1)) : (p1 < p3 ? p1 : (p2 < p3 ? p3 : p2));
        int i = lo, j = hi;
        while (i <= j) {
            while (x[i] < pivot) i++;
            while (x[j] > pivot) j--;
            if (i <= j) { u32 t = x[i]; x[i] = x[j]; x[j] = t; i++; j--; }
        }
        if (j - lo < hi - i) { quicksort(x, lo, j); lo = i; } else { quicksort(x, i, hi); hi = j; }
    }
    insertion(x, lo, hi);
}
/* Fill, sort and fold the sorted array into a checksum, n times with different seeds. */
EXPORT u64 run(u32 n) {
    u64 sum = 0;
    for (u32 round = 0; round < n; round++) {
        u32 state = round + 1;
        for (u32 i = 0; i < COUNT; i++) v[i] = lcg(&state);
        quicksort(v, 0, COUNT - 1);
        for (u32 i = 0; i < COUNT; i += 4096) sum = sum * 31 + v[i];
    }
    return sum;
}
