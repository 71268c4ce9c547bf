//! Recursive Fibonacci: function calls and integer adds (same as fib.c).
fn fib(n: u32) -> u64 {
    if n < 2 { n as u64 } else { fib(n - 1) + fib(n - 2) }
}

#[no_mangle]
pub extern "C" fn run(n: u32) -> u64 {
    fib(n)
}
