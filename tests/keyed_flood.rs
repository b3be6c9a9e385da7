//! A flood of a million new keys (an attacker rotating addresses) against a keyed limiter:
//! memory stays within `max_keys`, no key ever gets more than its quota, and when the
//! least recently used key makes room, every active key still gets exactly its quota.
//!
//! A binary of its own: the allocator below counts every live byte of the process, which
//! only means something while nothing else runs.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicIsize, Ordering::Relaxed};
use std::time::Duration;

use resilience::{Algorithm, Keyed, KeyedConfig, KeyedRateLimiter, RateLimiterConfig, WhenFull};
use tokio::time::advance;

/// The system allocator, counting the bytes live.
struct Counting;

static LIVE: AtomicIsize = AtomicIsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        LIVE.fetch_add(layout.size() as isize, Relaxed);
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size() as isize, Relaxed);
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        LIVE.fetch_add(new_size as isize - layout.size() as isize, Relaxed);
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

const MAX_KEYS: usize = 256;
const FLOOD: u64 = 1_000_000;
const ACTIVE: u64 = 10;
const QUOTA: u32 = 3;
/// New keys between two rounds of calls by the active keys: far fewer than a shard holds
/// (the keys are spread over up to four shards of 64), so an active key is always used
/// more recently than most flood keys of its shard.
const ROUND: u64 = 100;
const WINDOW: Duration = Duration::from_secs(1);
/// The clock moves one millisecond a round: 10 000 rounds, ten windows.
const TICK: Duration = Duration::from_millis(1);

fn limiter(when_full: WhenFull) -> KeyedRateLimiter {
    // Fixed windows: "exactly its quota" is exactly `QUOTA` per window, whatever the calls'
    // timing inside it. A key evicted and made again would start its window over and be
    // admitted again: more than its quota.
    let per_key = RateLimiterConfig::DEFAULT
        .max_requests(QUOTA)
        .window(WINDOW)
        .algorithm(Algorithm::FixedWindow);
    let config = KeyedConfig::new(per_key)
        .max_keys(MAX_KEYS)
        .when_full(when_full);
    Keyed::new("flood", config).unwrap()
}

/// Floods `limiter` and checks every active key's admissions per window: exactly its quota
/// when `exact`, never more otherwise; returns the most bytes live beyond `base` at any
/// round.
async fn flood(limiter: &KeyedRateLimiter, base: isize, exact: bool) -> isize {
    let mut admitted = [0_u32; ACTIVE as usize];
    let mut peak = 0;
    let mut window_started = tokio::time::Instant::now();
    for round in 0..FLOOD / ROUND {
        for key in round * ROUND..(round + 1) * ROUND {
            // The flood: each key once, never again; rejected or not, it is not counted.
            let _ = limiter.try_acquire(&(ACTIVE + key));
        }
        for (key, count) in admitted.iter_mut().enumerate() {
            if limiter.try_acquire(&(key as u64)).is_ok() {
                *count += 1;
            }
        }
        peak = peak.max(LIVE.load(Relaxed) - base);
        assert!(limiter.len() <= MAX_KEYS);
        advance(TICK).await;
        if window_started.elapsed() >= WINDOW {
            if exact {
                assert_eq!(admitted, [QUOTA; ACTIVE as usize], "round {round}");
            } else {
                assert!(
                    admitted.iter().all(|&n| n <= QUOTA),
                    "round {round}: {admitted:?}"
                );
            }
            admitted = [0; ACTIVE as usize];
            window_started += WINDOW;
        }
    }
    peak
}

#[tokio::test(start_paused = true)]
async fn a_million_new_keys_keep_memory_bounded_and_every_active_key_its_exact_quota() {
    for when_full in [WhenFull::EvictLeastRecentlyUsed, WhenFull::RejectNewKey] {
        let base = LIVE.load(Relaxed);
        let limiter = limiter(when_full);
        // Bytes per key: the limiter filled to its bound with keys of the flood's type (its
        // shards fill unevenly: twice as many keys as it holds fill each one).
        for key in 0..2 * MAX_KEYS as u64 {
            let _ = limiter.try_acquire(&key);
        }
        assert_eq!(limiter.len(), MAX_KEYS);
        let full = LIVE.load(Relaxed) - base;
        let per_key = full / MAX_KEYS as isize;
        // Each key's limiter counts with one cell, not the 2 KiB of stripes a shared
        // instance has: about half a kilobyte a key in all.
        assert!(per_key < 1024, "{when_full:?}: {per_key} bytes per key");
        limiter.reset();
        advance(WINDOW).await;

        // Rejecting new keys keeps every busy key, but an active key whose window just ended
        // is idle, so it gives up its place like any idle key and comes back as a new key,
        // which a flood that filled the instance with busy keys leaves no room for.
        let exact = when_full == WhenFull::EvictLeastRecentlyUsed;
        let peak = flood(&limiter, base, exact).await;
        let stats = limiter.stats();
        eprintln!(
            "{when_full:?}: {per_key} bytes per key, {full} bytes at {MAX_KEYS} keys, peak {peak} bytes over {FLOOD} new keys; {stats:?}"
        );
        assert!(
            peak <= full + full / 4,
            "{when_full:?}: peak {peak} bytes against {full} for a full limiter"
        );
        assert_eq!(stats.max_keys, MAX_KEYS);
        match when_full {
            WhenFull::EvictLeastRecentlyUsed => {
                assert!(stats.evictions >= FLOOD - MAX_KEYS as u64, "{stats:?}")
            }
            _ => assert!(stats.rejected_keys > 0, "{stats:?}"),
        }
        drop(limiter);
    }
}
