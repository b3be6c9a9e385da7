//! The tests against a real `redis-server`, in one binary: each test starts a server of
//! its own on a free loopback port, and a machine without one skips them all with one
//! line (a failure under `RESILIENCE_REQUIRE_REDIS=1`, as in CI).

mod breaker;
mod faults;
mod fleet;
mod keyed;
mod limiter;
mod metrics;
mod paths;
mod support;
mod tls;
