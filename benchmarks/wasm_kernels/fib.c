/* Recursive Fibonacci: function calls and integer adds. */
#include "kernel.h"
static u64 fib(u32 n) { return n < 2 ? n : fib(n - 1) + fib(n - 2); }
EXPORT u64 run(u32 n) { return fib(n); }
