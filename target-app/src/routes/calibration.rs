//! The calibration knob (`CALIBRATION_CPU_US`): every API request spends a known amount of CPU
//! time on nothing, so that anyone can measure what otelbench detects. Run a variant with the knob
//! against one without, in one plan, and the measured difference in CPU per request should be
//! the setting (the README gives the figures).
//!
//! The cost is counted on the thread's CPU clock, not the wall clock: a thread descheduled while
//! it spins (a busy VM) still spends exactly the setting, no more.

use std::time::Duration;

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::Response;
use nix::time::{ClockId, clock_gettime};

/// The middleware: spends `cost` of CPU, then serves the request.
pub async fn spend(State(cost): State<Duration>, request: Request, next: Next) -> Response {
    spend_cpu(cost);
    next.run(request).await
}

/// This thread's CPU time so far, or `None` where the clock cannot be read.
fn thread_cpu() -> Option<Duration> {
    let t = clock_gettime(ClockId::CLOCK_THREAD_CPUTIME_ID).ok()?;
    Some(Duration::from(t))
}

/// Spins until this thread has used `cost` of CPU (at once when the clock cannot be read).
pub fn spend_cpu(cost: Duration) {
    let Some(start) = thread_cpu() else {
        return;
    };
    let mut x = 0_u64;
    while thread_cpu().is_some_and(|now| now.saturating_sub(start) < cost) {
        // A little work between readings, kept by `black_box`.
        for i in 0..64 {
            x = std::hint::black_box(x.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(i));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spends_the_cpu_it_is_told_to() {
        for cost in [Duration::from_micros(50), Duration::from_millis(20)] {
            let start = thread_cpu().unwrap();
            spend_cpu(cost);
            let used = thread_cpu().unwrap().saturating_sub(start);
            // CPU time, not wall time: a loaded test machine cannot make it spend less, and
            // the overshoot is one reading and 64 multiplications.
            assert!(used >= cost, "asked {cost:?}, spent {used:?}");
            assert!(
                used < cost + Duration::from_millis(5),
                "asked {cost:?}, spent {used:?}"
            );
        }
        let start = thread_cpu().unwrap();
        spend_cpu(Duration::ZERO);
        assert!(thread_cpu().unwrap().saturating_sub(start) < Duration::from_millis(5));
    }
}
