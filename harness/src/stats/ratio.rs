//! The divisions every record makes: an amount per request, a count's share of a whole, CPU
//! time as cores over a wall time. Each is 0 (not NaN or infinity) where there is nothing to
//! divide by: a run without a request, a window without wall time.

/// `amount / count`, 0 when `count` is 0.
pub fn per(amount: f64, count: u64) -> f64 {
    if count == 0 {
        0.0
    } else {
        amount / count as f64
    }
}

/// `part / whole`, 0 when `whole` is 0.
pub fn share(part: u64, whole: u64) -> f64 {
    per(part as f64, whole)
}

/// CPU µs over `wall_s` seconds as cores, 0 when no wall time passed.
pub fn cores(cpu_us: f64, wall_s: f64) -> f64 {
    if wall_s > 0.0 {
        cpu_us / 1e6 / wall_s
    } else {
        0.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nothing_to_divide_by_is_zero() {
        assert!((per(1500.0, 3) - 500.0).abs() < 1e-12);
        assert!(per(1500.0, 0).abs() < 1e-12, "no requests");
        assert!((share(1, 4) - 0.25).abs() < 1e-12);
        assert!(share(3, 0).abs() < 1e-12, "no whole");
        assert!((cores(3e6, 2.0) - 1.5).abs() < 1e-12);
        assert!(cores(3e6, 0.0).abs() < 1e-12, "no wall time");
    }
}
