//! Quicksort (median of three, insertion sort below 16) of 1M pseudo-random integers (as sort.c).
const COUNT: usize = 1 << 20;

fn insertion(x: &mut [u32], lo: isize, hi: isize) {
    for i in lo + 1..=hi {
        let key = x[i as usize];
        let mut j = i - 1;
        while j >= lo && x[j as usize] > key { x[(j + 1) as usize] = x[j as usize]; j -= 1; }
        x[(j + 1) as usize] = key;
    }
}

fn quicksort(x: &mut [u32], mut lo: isize, mut hi: isize) {
    while hi - lo > 16 {
        let mid = lo + (hi - lo) / 2;
        let (p1, p2, p3) = (x[lo as usize], x[mid as usize], x[hi as usize]);
        let pivot = if p1 < p2 {
            if p2 < p3 { p2 } else if p1 < p3 { p3 } else { p1 }
        } else if p1 < p3 { p1 } else if p2 < p3 { p3 } else { p2 };
        let (mut i, mut j) = (lo, hi);
        while i <= j {
            while x[i as usize] < pivot { i += 1; }
            while x[j as usize] > pivot { j -= 1; }
            if i <= j { x.swap(i as usize, j as usize); i += 1; j -= 1; }
        }
        if j - lo < hi - i { quicksort(x, lo, j); lo = i; } else { quicksort(x, i, hi); hi = j; }
    }
    insertion(x, lo, hi);
}

#[no_mangle]
pub extern "C" fn run(n: u32) -> u64 {
    let mut v = vec![0u32; COUNT];
    let mut sum: u64 = 0;
    for round in 0..n {
        let mut state = round + 1;
        for x in v.iter_mut() { state = state.wrapping_mul(1664525).wrapping_add(1013904223); *x = state; }
        quicksort(&mut v, 0, COUNT as isize - 1);
        for i in (0..COUNT).step_by(4096) { sum = sum.wrapping_mul(31).wrapping_add(v[i] as u64); }
    }
    sum
}
