/* Shared by the C kernels: `run` is exported by name in WebAssembly and visible natively. */
#ifndef KERNEL_H
#define KERNEL_H
#ifdef __wasm__
#define EXPORT __attribute__((export_name("run")))
#else
#define EXPORT __attribute__((visibility("default")))
#endif
typedef unsigned long long u64;
typedef unsigned int u32;
/* A fixed pseudo-random sequence (Numerical Recipes' LCG), the same in C, Rust and wasm. */
static inline u32 lcg(u32 *state) { *state = *state * 1664525u + 1013904223u; return *state; }
#endif
