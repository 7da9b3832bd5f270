//! Open-model pacing. User `u` of `n` at `rate` requests/s owns global slots `u, u+n, u+2n, ...`,
//! global slot `j` being due at `start + j/rate`: together the users send evenly spaced
//! requests, each user on its own schedule of intended send times.
//!
//! tokio's timer has 1 ms granularity, which would add about a millisecond to every request
//! timed from its intended send time. So a dedicated metronome thread, with the kernel's timer
//! slack lowered to 1 ns, sleeps until each slot and wakes the user that owns it; a user that is
//! still busy with an earlier request when its slot comes sends as soon as it is free, and its
//! latency, measured from the intended time, shows the delay (no coordinated omission).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use tokio::sync::Notify;

/// When user `index` of `users` sends its `k`-th request.
#[derive(Debug, Clone, Copy)]
pub struct Schedule {
    start: Instant,
    rate: f64,
    users: u64,
    index: u64,
}

impl Schedule {
    /// The schedule of user `index` (0-based) of `users` sharing `rate` requests/s from `start`.
    pub fn new(start: Instant, rate: f64, users: u32, index: u32) -> Self {
        Self {
            start,
            rate,
            users: u64::from(users),
            index: u64::from(index),
        }
    }

    /// The global slot number of this user's `k`-th request.
    pub fn global_slot(&self, k: u64) -> u64 {
        self.index + k * self.users
    }

    /// Intended send time of this user's `k`-th request.
    pub fn intended(&self, k: u64) -> Instant {
        self.start + slot_offset(self.global_slot(k), self.rate)
    }

    /// The first `k` whose intended time is at or after `t`.
    pub fn first_at_or_after(&self, t: Instant) -> u64 {
        let Some(since) = t.checked_duration_since(self.start) else {
            return 0;
        };
        let global = (since.as_secs_f64() * self.rate).ceil() as u64;
        let mut k = global.saturating_sub(self.index).div_ceil(self.users);
        while k > 0 && self.intended(k - 1) >= t {
            k -= 1;
        }
        while self.intended(k) < t {
            k += 1;
        }
        k
    }
}

/// Offset of global slot `j` from the start at `rate` (computed in integer nanoseconds so the
/// schedule does not drift over long runs).
pub fn slot_offset(j: u64, rate: f64) -> Duration {
    Duration::from_nanos(((j as f64) * 1e9 / rate).round() as u64)
}

/// The metronome thread; stops when dropped or when `stop` is called.
#[derive(Debug)]
pub struct Metronome {
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Metronome {
    /// Starts waking `wakers[j % n]` at every global slot `j` from `start` until `end`.
    pub fn start(
        start: Instant,
        end: Instant,
        rate: f64,
        wakers: Vec<Arc<Notify>>,
    ) -> std::io::Result<Self> {
        let stop = Arc::new(AtomicBool::new(false));
        let stopped = stop.clone();
        let thread = std::thread::Builder::new()
            .name("otelbench-metronome".into())
            .spawn(move || {
                // Precise sleeps: the default 50 µs timer slack would add its own lag.
                let _ = nix::sys::prctl::set_timerslack(1);
                let n = wakers.len() as u64;
                let mut j: u64 = 0;
                while !stopped.load(Ordering::Relaxed) {
                    let due = start + slot_offset(j, rate);
                    if due >= end {
                        break;
                    }
                    let now = Instant::now();
                    if due > now {
                        // Sleep at most 100 ms at a time so that `stop` is noticed.
                        std::thread::sleep((due - now).min(Duration::from_millis(100)));
                        if Instant::now() < due {
                            continue;
                        }
                    }
                    wakers[(j % n) as usize].notify_one();
                    j += 1;
                }
            })?;
        Ok(Self {
            stop,
            thread: Some(thread),
        })
    }

    /// Stops the thread and waits for it.
    pub fn stop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Drop for Metronome {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Waits until `intended`, woken by the metronome (or at once when already late).
pub async fn wait_for(intended: Instant, waker: &Notify) {
    // A permit left by a slot missed while busy wakes us early: check the time and wait again.
    while Instant::now() < intended {
        waker.notified().await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn users_interleave_into_evenly_spaced_arrivals() {
        let start = Instant::now();
        let rate = 1000.0;
        let users = 4;
        let mut times: Vec<Instant> = (0..users)
            .flat_map(|u| {
                let s = Schedule::new(start, rate, users, u);
                (0..25).map(move |k| s.intended(k))
            })
            .collect();
        times.sort();
        assert_eq!(times.len(), 100);
        for pair in times.windows(2) {
            assert_eq!(pair[1] - pair[0], Duration::from_millis(1));
        }
        assert_eq!(
            Schedule::new(start, rate, users, 1).intended(2),
            start + Duration::from_millis(9)
        );
    }

    #[test]
    fn no_drift_over_a_long_run() {
        let start = Instant::now();
        let s = Schedule::new(start, 3.0, 1, 0);
        assert_eq!(
            s.intended(3_000_000) - start,
            Duration::from_secs(1_000_000)
        );
    }

    #[test]
    fn first_slot_at_or_after() {
        let start = Instant::now();
        let s = Schedule::new(start, 100.0, 4, 2);
        for t_ms in [0_u64, 1, 19, 20, 21, 59, 60, 61, 1000] {
            let t = start + Duration::from_millis(t_ms);
            let k = s.first_at_or_after(t);
            assert!(s.intended(k) >= t, "t={t_ms}");
            assert!(k == 0 || s.intended(k - 1) < t, "t={t_ms}");
        }
    }

    #[tokio::test]
    async fn the_metronome_wakes_each_owner_at_its_slot() {
        let start = Instant::now() + Duration::from_millis(20);
        let end = start + Duration::from_millis(100);
        let wakers: Vec<_> = (0..2).map(|_| Arc::new(Notify::new())).collect();
        let mut metronome = Metronome::start(start, end, 100.0, wakers.clone()).unwrap();
        let s = Schedule::new(start, 100.0, 2, 1);
        for k in 0..3 {
            let intended = s.intended(k);
            wait_for(intended, &wakers[1]).await;
            let lag = intended.elapsed();
            // A bound that only a broken metronome misses (e.g. one that never wakes user 1).
            assert!(lag < Duration::from_millis(50), "lag {lag:?}");
        }
        metronome.stop();
    }
}
