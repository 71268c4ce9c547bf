//! Dense matrix multiply of two N x N double matrices, ikj order (same as matmul.c).
const N: usize = 256;

#[no_mangle]
pub extern "C" fn run(n: u32) -> u64 {
    let (mut a, mut b, mut c) = (vec![0f64; N * N], vec![0f64; N * N], vec![0f64; N * N]);
    let mut state: u32 = 7;
    let mut next = || { state = state.wrapping_mul(1664525).wrapping_add(1013904223); state };
    for i in 0..N * N {
        a[i] = (next() % 1000) as f64 / 1000.0;
        b[i] = (next() % 1000) as f64 / 1000.0;
    }
    for _ in 0..n {
        c.iter_mut().for_each(|x| *x = 0.0);
        for i in 0..N {
            for k in 0..N {
                let x = a[i * N + k];
                let row = &b[k * N..k * N + N];
                let out = &mut c[i * N..i * N + N];
                for j in 0..N { out[j] += x * row[j]; }
            }
        }
        for i in 0..N * N { a[i] = c[i] / N as f64; }
    }
    (c.iter().sum::<f64>() * 1000.0) as u64
}
