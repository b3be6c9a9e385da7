//! The attributes of the [`resilience`](https://docs.rs/resilience) crate. Depend on
//! `resilience`, which re-exports them; this crate only parses and expands.
//!
//! # How the attributes expand
//!
//! Each attribute turns an `async fn`, or a plain `fn` (see below), into a call through a
//! named policy instance of the process-wide `resilience::registry()`. The first of these attributes on a fn collects the
//! others on the same fn and emits **one** pipeline in written order, top = outermost, like
//! Python decorators. Each layer's instance is resolved once per call site and cached in a
//! `static`: a call looks up no name.
//!
//! The fn keeps its signature, visibility, attributes and docs. It must return
//! `Result<T, E>` with `E: From<resilience::Error>`: a rejection by a policy arrives as the
//! caller's error, like `?` converts errors.
//!
//! Every attribute takes `name = "..."`; without it the instance is private to the fn and
//! named after it: `module::fn`, or `module::Type::method` for a method or an associated fn
//! that says `Self` (one instance per `Self` type, so a trait's default method
//! has one per implementing type). Every attribute takes `crate = "path::to::resilience"`
//! for crates that re-export `resilience`. Each declared instance is registered at link
//! time: `resilience::registry()` knows it before its first call.
//!
//! Durations are written with a unit, quoted or not: `"250ms"` or `250ms`, `30s`, `2m`,
//! `1h30m`, `1.5s` (units `ns`, `us`, `ms`, `s`, `m`, `h`), or as a number of seconds, `30`
//! or `0.25`. Any value may be a constant or a `const fn` call instead of a literal
//! (`max_attempts = ATTEMPTS`, `window = Duration::from_secs(60)`, `name = PAYMENTS`).
//!
//! # Plain fns
//!
//! `#[circuit_breaker]`, `#[retry]`, `#[bulkhead]`, `#[rate_limit]` and `#[fallback]` also
//! guard a plain (non-async) `fn`, free or a method, with the same arguments and stacking
//! (a plain fn's fallbacks are plain fns). Its waits
//! block the thread on the real clock (std's, even inside a runtime whose clock is
//! paused): a retry's backoff sleeps, a rate limit's `max_wait` sleeps until the next
//! permit, and a bulkhead holds at most `max_concurrent` threads inside while the others
//! queue, parked, for up to `max_wait`. A plain fn and an `async fn` that name one
//! instance share it: one queue, one quota, one breaker state, one set of counters.
//! `#[timeout]` and `#[hedge]` refuse a plain fn: a thread cannot be cancelled, so nothing
//! could stop the call at its deadline, or the attempts that lose a race; make it an
//! `async fn`, or run it with `tokio::task::spawn_blocking` under `tokio::time::timeout`
//! (or a hedged `async fn`). Called from async code, a
//! guarded plain fn blocks the runtime's thread while it waits (and a bulkhead slot held
//! by a task of that runtime may not come back meanwhile): call it through
//! `spawn_blocking` there too.
//!
//! A value is checked at compile time by the runtime's own `validate`: a value the runtime
//! would refuse is a compile error in its words, on the argument, never a default at run
//! time. The attributes apply in the order written, whatever path names them (`#[retry]`,
//! `#[resilience::retry]`, `#[rl::retry]` through `use resilience as rl`, a re-export).

#![warn(missing_docs)]

mod args;
mod expand;
mod item;
mod keys;
mod lending;
mod plain;
mod rename;
mod sharing;
#[cfg(test)]
mod snapshots;
mod stack;

use proc_macro::TokenStream;

/// Stops calling a downstream that keeps failing, and probes it again after a while.
///
/// After `failure_threshold` consecutive failures the breaker opens: calls are rejected
/// with `resilience::Error::CircuitOpen { retry_after, .. }` without running the body.
/// After `recovery_timeout` it is half-open: up to `half_open_max_calls` probe calls run;
/// `success_threshold` consecutive successful probes close it, a failed probe opens it for
/// another `recovery_timeout`.
///
/// | argument | accepts | default |
/// |---|---|---|
/// | `name` | a string or a `&str` constant | the fn's path, private to it |
/// | `failure_threshold` | a whole number ≥ 1 | 5 |
/// | `success_threshold` | a whole number ≥ 1 | 2 |
/// | `recovery_timeout` | a duration > 0 | `"60s"` |
/// | `half_open_max_calls` | a whole number ≥ 1 | `success_threshold` |
/// | `failure_rate_threshold` | a percentage, 1 to 100 | none: consecutive failures |
/// | `slow_call_duration` | a duration > 0 | none |
/// | `slow_call_rate_threshold` | a percentage, 1 to 100 | none |
/// | `sliding_window` | calls, `100`, or whole seconds, `"60s"` | `100` |
/// | `minimum_calls` | a whole number ≥ 1 | 100 (at most the window's calls) |
/// | `recovery_backoff` | a number ≥ 1.0 | 1.0: no growth |
/// | `max_recovery_timeout` | a duration ≥ `recovery_timeout` | none; needed with a backoff |
/// | `failure_if` | a path to a `fn(&E) -> bool` | every `Err` is a failure |
/// | `key` | an expression over the fn's arguments | one breaker for every call |
/// | `max_keys` | a whole number ≥ 1; with `key` only | 10 000 |
/// | `when_full` | `"evict_least_recently_used"`, `"reject_new_key"`; with `key` only | `"evict_least_recently_used"` |
/// | `crate` | a path in a string | `"resilience"` |
///
/// An error for which `failure_if` returns `false` counts as a success: the downstream
/// answered. Inside a stack, an inner `#[timeout]` that fires counts as a failure; an inner
/// `#[rate_limit]` or `#[bulkhead]` rejection counts as neither (it is local load shedding).
/// A call that is dropped or panics counts as neither and gives its probe slot back.
///
/// # Failure rate and slow calls
///
/// `failure_rate_threshold` replaces the consecutive count with a rate: the breaker opens
/// when at least that percentage of the calls in `sliding_window` failed, once the window
/// holds `minimum_calls`. `sliding_window = 100` is the last 100 calls; `sliding_window =
/// "60s"` is the calls that ended in the last 60 seconds, in one-second buckets (a number
/// without a unit counts calls, as a duration always has one). `slow_call_duration` with
/// `slow_call_rate_threshold` adds a rule over the same window: a call longer than the
/// duration is slow, failed or not, and the breaker opens when at least that percentage
/// of the window was slow. Half-open, probes decide as in consecutive mode
/// (`success_threshold` successes close it; one failed or slow probe reopens it), and
/// `recovery_backoff` multiplies the open duration at each such reopening, up to
/// `max_recovery_timeout`, until the breaker closes again.
///
/// ```
/// use resilience::circuit_breaker;
///
/// #[circuit_breaker(
///     name = "docs::search",
///     failure_rate_threshold = 50,
///     slow_call_duration = "2s",
///     slow_call_rate_threshold = 80,
///     sliding_window = "60s",
///     minimum_calls = 20,
///     recovery_backoff = 2.0,
///     max_recovery_timeout = "10m",
/// )]
/// async fn search(query: &str) -> Result<Vec<String>, resilience::Error> {
///     Ok(vec![query.to_owned()])
/// }
///
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// assert_eq!(search("rust").await.unwrap(), ["rust"]);
/// let stats = resilience::registry().circuit_breaker("docs::search").unwrap().stats();
/// assert_eq!(stats.window.unwrap().calls, 1);
/// assert_eq!(stats.failure_rate(), None, "fewer calls than minimum_calls");
/// # }
/// ```
///
/// With `key = expr` the instance is keyed: one breaker per value of `expr` (per downstream
/// host, say), each opening and closing on its own, as the `#[rate_limit]` docs describe.
/// An open (or half-open) breaker's key is never dropped to make room;
/// `registry().keyed_circuit_breaker(name)` looks one up, and the snapshot lists the keys
/// that are open.
///
/// ```
/// use resilience::circuit_breaker;
///
/// #[circuit_breaker(name = "per_host", failure_threshold = 3, key = host)]
/// async fn fetch(host: &str, path: &str) -> Result<String, resilience::Error> {
///     Ok(format!("https://{host}{path}"))
/// }
///
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// fetch("a.example", "/").await.unwrap();
/// let hosts = resilience::registry().keyed_circuit_breaker("per_host").unwrap();
/// assert!(hosts.get("a.example").unwrap().is_closed());
/// # }
/// ```
///
/// On a plain `fn` it works the same, without waiting for anything; sync and async fns
/// that name one breaker share its state.
///
/// ```
/// use resilience::circuit_breaker;
///
/// #[derive(Debug)]
/// enum StockError { Unavailable, UnknownItem, Rejected(resilience::Error) }
///
/// impl From<resilience::Error> for StockError {
///     fn from(e: resilience::Error) -> Self { StockError::Rejected(e) }
/// }
///
/// fn is_outage(e: &StockError) -> bool { matches!(e, StockError::Unavailable) }
///
/// #[circuit_breaker(name = "inventory", failure_threshold = 3, recovery_timeout = "30s", failure_if = is_outage)]
/// async fn stock_level(sku: &str) -> Result<u32, StockError> {
///     match sku {
///         "" => Err(StockError::UnknownItem),
///         _ => Ok(12),
///     }
/// }
///
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// assert_eq!(stock_level("A-1").await.unwrap(), 12);
/// assert!(resilience::registry().circuit_breaker("inventory").unwrap().is_closed());
/// # }
/// ```
///
/// The fn keeps its signature; its body becomes a call through the named instance, held in
/// a per-call-site `static` (the `resilience` crate docs show the expansion in outline).
#[proc_macro_attribute]
pub fn circuit_breaker(args: TokenStream, item: TokenStream) -> TokenStream {
    expand::attribute(&args::circuit_breaker::TABLE, args.into(), item.into()).into()
}

/// Runs the body again after a failure, waiting longer each time, and gives back the last
/// error when attempts run out.
///
/// The wait after the `n`-th failure (0-based) is `base_delay · exponential_base^n`
/// (exponential), `base_delay · (n + 1)` (linear) or `base_delay` (constant), capped at
/// `max_delay`, then jittered.
///
/// | argument | accepts | default |
/// |---|---|---|
/// | `name` | a string or a `&str` constant | the fn's path, private to it |
/// | `max_attempts` | a whole number ≥ 1, counting the first call | 3 |
/// | `base_delay` | a duration | `"1s"` |
/// | `max_delay` | a duration ≥ `base_delay` | `"60s"` |
/// | `exponential_base` | a number ≥ 1.0 | 2.0 |
/// | `backoff` | `"exponential"`, `"linear"`, `"constant"` | `"exponential"` |
/// | `jitter` | `true` or `"full"` (uniform in `[0, d]`), `"equal"` (`d · uniform[0.5, 1.5]`), `false` or `"none"` | `true` |
/// | `retry_if` | a path to a `fn(&E) -> bool`; it decides for timeouts too | every `Err` is retried |
/// | `max_elapsed` | a duration: no attempt starts later after the call started | none |
/// | `retry_after` | a path to a `fn(&E) -> Option<Duration>`: a hint (a server's `Retry-After`, see `resilience::parse_retry_after`) that sets the next wait, capped at `max_delay` | none |
/// | `crate` | a path in a string | `"resilience"` |
///
/// Inside a stack, and across guarded fns whose error implements `resilience::AsRejection`:
/// `CircuitOpen` from an inner breaker is not retried (fail fast); an inner `Timeout` is
/// retried unless `retry_if`, given the timeout converted into `E`, says no; after an inner
/// `RateLimited` or `BulkheadFull` the retry waits at least its `retry_after`, and gives up
/// at once when that is longer than `max_delay` or what is left of `max_elapsed`.
///
/// **The body runs once per attempt, so it borrows the arguments.** An argument whose type
/// is `Copy` is copied into each attempt and keeps its type. Any other argument `x: T` is
/// `&T` in the body when `T: Sync`, and `&mut T` when it is not (`Cell`, `mpsc::Receiver`),
/// so the call's future stays `Send` whenever the body's is; a `mut x: T` argument, a
/// `&mut T` argument and `&mut self` are lent to each attempt in turn as `&mut T`. A body
/// that moves an argument out clones it first: "expected `Order`, found `&Order`" at an
/// argument means the body moves what a second attempt needs.
///
/// On a plain `fn` the waits between attempts put the thread to sleep (on the real clock),
/// and the arguments are lent the same way:
///
/// ```
/// use resilience::retry;
///
/// #[retry(max_attempts = 3, base_delay = "5ms")]
/// fn read_config(path: String) -> Result<String, resilience::Error> {
///     Ok(format!("contents of {path}")) // `path` is a `&String` here
/// }
///
/// assert_eq!(read_config("app.toml".into()).unwrap(), "contents of app.toml");
/// ```
///
/// ```
/// use resilience::retry;
///
/// #[derive(Debug)]
/// enum FetchError { Status(u16), Rejected(resilience::Error) }
///
/// impl From<resilience::Error> for FetchError {
///     fn from(e: resilience::Error) -> Self { FetchError::Rejected(e) }
/// }
///
/// fn is_transient(e: &FetchError) -> bool { matches!(e, FetchError::Status(500..)) }
///
/// struct Client { attempts: u32 }
///
/// impl Client {
///     #[retry(max_attempts = 4, base_delay = "100ms", max_delay = "2s", retry_if = is_transient)]
///     async fn fetch(&mut self, path: String) -> Result<String, FetchError> {
///         self.attempts += 1;
///         if self.attempts < 3 {
///             return Err(FetchError::Status(503));
///         }
///         Ok(format!("{path} after {} attempts", self.attempts)) // `path` is a `&String` here
///     }
/// }
///
/// # #[tokio::main(flavor = "current_thread", start_paused = true)] async fn main() {
/// let mut client = Client { attempts: 0 };
/// assert_eq!(client.fetch("/users".into()).await.unwrap(), "/users after 3 attempts");
/// # }
/// ```
///
/// The fn keeps its signature; its body becomes a call through the named instance, held in
/// a per-call-site `static` (the `resilience` crate docs show the expansion in outline).
#[proc_macro_attribute]
pub fn retry(args: TokenStream, item: TokenStream) -> TokenStream {
    expand::attribute(&args::retry::TABLE, args.into(), item.into()).into()
}

/// Gives up on a call that runs longer than a duration: its future is dropped, which cancels
/// whatever it was waiting on, and the call returns `resilience::Error::Timeout`.
///
/// | argument | accepts | default |
/// |---|---|---|
/// | the duration, first and unnamed, or `duration = ...` | a duration > 0 | required |
/// | `name` | a string or a `&str` constant | the fn's path, private to it |
/// | `crate` | a path in a string | `"resilience"` |
///
/// Below a `#[retry]` it bounds each attempt; above it, the whole call with its retries.
///
/// A plain `fn` is refused: a thread cannot be cancelled, so nothing could stop it at the
/// deadline. Make it an `async fn`, or run it with `tokio::task::spawn_blocking` under
/// `tokio::time::timeout` (which stops the waiting; the thread runs on to its end).
///
/// ```
/// use std::time::Duration;
/// use resilience::{retry, timeout};
///
/// #[timeout("2s")]            // the whole call, retries included
/// #[retry(max_attempts = 3)]
/// #[timeout("500ms")]         // each attempt
/// async fn report(id: u64) -> Result<String, anyhow::Error> {
///     tokio::time::sleep(Duration::from_millis(10)).await;
///     Ok(format!("report {id}"))
/// }
///
/// # #[tokio::main(flavor = "current_thread", start_paused = true)] async fn main() {
/// assert_eq!(report(7).await.unwrap(), "report 7");
/// # }
/// ```
///
/// The fn keeps its signature; its body becomes a call through the named instance, held in
/// a per-call-site `static` (the `resilience` crate docs show the expansion in outline).
#[proc_macro_attribute]
pub fn timeout(args: TokenStream, item: TokenStream) -> TokenStream {
    expand::attribute(&args::timeout::TABLE, args.into(), item.into()).into()
}

/// Runs at most `max_concurrent` calls at once; the others queue, first come first served,
/// for up to `max_wait`, then are rejected with `resilience::Error::BulkheadFull`.
///
/// | argument | accepts | default |
/// |---|---|---|
/// | `name` | a string or a `&str` constant | the fn's path, private to it |
/// | `max_concurrent` | a whole number ≥ 1 | 10 |
/// | `max_wait` | a duration; `0` rejects at once | `"5s"` |
/// | `max_queued` | a whole number; a call that finds this many queued is rejected at once | unbounded |
/// | `crate` | a path in a string | `"resilience"` |
///
/// A slot comes back when its call finishes, is dropped while running or queued, or panics.
///
/// On a plain `fn` it is a thread-pool bulkhead without the pool: at most `max_concurrent`
/// threads run the body at once, the others block, parked, in the same first-come queue
/// as async callers of the same name, for up to `max_wait` on the real clock.
///
/// ```
/// use resilience::bulkhead;
///
/// #[bulkhead(name = "legacy-driver", max_concurrent = 2, max_wait = "1s")]
/// fn query(sql: &str) -> Result<usize, resilience::Error> {
///     Ok(sql.len())
/// }
///
/// let rows = std::thread::scope(|scope| {
///     let threads: Vec<_> = (0..4).map(|_| scope.spawn(|| query("SELECT 1"))).collect();
///     threads.into_iter().map(|t| t.join().unwrap().unwrap()).sum::<usize>()
/// });
/// assert_eq!(rows, 32);
/// ```
///
/// ```
/// use resilience::bulkhead;
///
/// #[bulkhead(name = "thumbnails", max_concurrent = 4, max_wait = "1s")]
/// async fn render(image: Vec<u8>) -> Result<usize, resilience::Error> {
///     Ok(image.len() / 2)
/// }
///
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// assert_eq!(render(vec![0; 8]).await, Ok(4));
/// assert_eq!(resilience::registry().bulkhead("thumbnails").unwrap().available(), 4);
/// # }
/// ```
///
/// The fn keeps its signature; its body becomes a call through the named instance, held in
/// a per-call-site `static` (the `resilience` crate docs show the expansion in outline).
#[proc_macro_attribute]
pub fn bulkhead(args: TokenStream, item: TokenStream) -> TokenStream {
    expand::attribute(&args::bulkhead::TABLE, args.into(), item.into()).into()
}

/// Admits at most `max_requests` calls per `window`; a call over the quota waits up to
/// `max_wait` for a permit, then is rejected with `resilience::Error::RateLimited` saying
/// when a permit will be free. A call that gives up waiting takes no permit.
///
/// | argument | accepts | default |
/// |---|---|---|
/// | `max_requests` | a whole number ≥ 1 | required |
/// | `window` | a duration > 0 | required |
/// | `algorithm` | `"token_bucket"`, `"sliding_window"`, `"fixed_window"` | `"token_bucket"` |
/// | `burst` | a whole number ≥ 1; `token_bucket` only | `max_requests` |
/// | `max_wait` | a duration | `"0s"`: reject at once |
/// | `key` | an expression over the fn's arguments | one quota for every call |
/// | `max_keys` | a whole number ≥ 1; with `key` only | 10 000 |
/// | `when_full` | `"evict_least_recently_used"`, `"reject_new_key"`; with `key` only | `"evict_least_recently_used"` |
/// | `name` | a string or a `&str` constant | the fn's path, private to it |
/// | `crate` | a path in a string | `"resilience"` |
///
/// `token_bucket` admits bursts of up to `burst`, refilled evenly over the window, with one
/// atomic operation per call. `sliding_window` never admits more than `max_requests` in any
/// span of `window`. `fixed_window` counts per consecutive window.
///
/// # Keyed instances
///
/// `key = expr` gives each distinct value of `expr` a limiter of its own (per user, per
/// client address), all under one name and one config: a `resilience::KeyedRateLimiter`.
/// `expr` is any expression over the fn's arguments (`user.id`, `host.as_str()`,
/// `(tenant, user.id)`) whose value is `Hash + Eq` with a `Debug + Send + Sync + 'static`
/// owned form (`resilience::InstanceKey`). It is evaluated once per call, when the call
/// starts (before an outer `#[retry]`'s first attempt, never again for later ones), and
/// looked up by reference: a reference is followed (`host.as_str()` is looked up as a
/// `str`), and the value is cloned into an owned key (`String` for `str`) only the first
/// time it is seen. A `key` that names none of the fn's arguments is a compile error.
///
/// At most `max_keys` keys are held. A new key beyond that makes room: keys whose limiter
/// has its full quota again go first (they hold nothing), never a key a running call
/// holds; when every key holds something, `when_full` decides: drop the least recently
/// used key, or reject the call with `resilience::Error::KeysFull`. The stats of
/// `registry().keyed_rate_limiter(name)` count both; its `get(&key)` is one key's limiter.
///
/// ```
/// use resilience::rate_limit;
///
/// struct User { id: u64 }
///
/// #[rate_limit(name = "api", max_requests = 100, window = "1m", key = user.id)]
/// async fn handle(user: &User, request: &str) -> Result<usize, resilience::Error> {
///     Ok(request.len())
/// }
///
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// handle(&User { id: 7 }, "GET /").await.unwrap();
/// let api = resilience::registry().keyed_rate_limiter("api").unwrap();
/// assert_eq!(api.get(&7_u64).unwrap().stats().admitted, 1);
/// # }
/// ```
///
/// On a plain `fn` a call over the quota sleeps its thread until the next permit, within
/// `max_wait` on the real clock; sync and async fns that name one limiter share its quota.
///
/// ```
/// use resilience::rate_limit;
///
/// #[rate_limit(name = "geocoder", max_requests = 50, window = "1s", max_wait = "200ms")]
/// async fn geocode(address: &str) -> Result<(f64, f64), resilience::Error> {
///     Ok((address.len() as f64, 0.0))
/// }
///
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// assert_eq!(geocode("Main St 1").await, Ok((9.0, 0.0)));
/// # }
/// ```
///
/// The fn keeps its signature; its body becomes a call through the named instance, held in
/// a per-call-site `static` (the `resilience` crate docs show the expansion in outline).
#[proc_macro_attribute]
pub fn rate_limit(args: TokenStream, item: TokenStream) -> TokenStream {
    expand::attribute(&args::rate_limit::TABLE, args.into(), item.into()).into()
}

/// Answers a failed call with a fallback: `#[fallback(from_cache, from_replica)]` tries
/// each in written order until one succeeds (a fallback chain).
///
/// A fallback is an `async fn` that takes the guarded fn's arguments as its body sees them
/// under `#[retry]` (a copy of a `Copy` argument, `&T` of the others, `&mut T` of a `mut`
/// or `&mut` one; the receiver first), then the error, and returns the guarded fn's
/// `Result`. A fallback of another shape is a compile error at its path that says what is
/// expected. Each fallback is given the error of the step before it: the call's for the
/// first. When all fail, the last fallback's error is returned.
///
/// A `String` argument reaches a fallback as `&String` (clippy's `ptr_arg` will suggest
/// `&str`, which would not match): take `&str` in the guarded fn, or allow the lint on the
/// fallback.
///
/// On a plain `fn` the fallbacks are plain fns of the same shape, called on the same
/// thread; an `async fn` fallback there is a compile error at its path.
///
/// ```
/// use resilience::{circuit_breaker, fallback};
///
/// #[fallback(from_cache)]
/// #[circuit_breaker(name = "legacy-users")]
/// fn user(id: u64) -> Result<String, resilience::Error> {
///     Err(resilience::Error::Timeout { name: "legacy".into(), after: std::time::Duration::ZERO })
/// }
///
/// fn from_cache(id: u64, _: resilience::Error) -> Result<String, resilience::Error> {
///     Ok(format!("user {id} (cached)"))
/// }
///
/// assert_eq!(user(3).unwrap(), "user 3 (cached)");
/// ```
///
/// | argument | accepts | default |
/// |---|---|---|
/// | the fallbacks, first and unnamed | paths of `async fn`s, in the order they are tried | required |
/// | `fallback_if` | a path to a `fn(&E) -> bool` | every `Err` falls back |
/// | `name` | a string or a `&str` constant | the fn's path, private to it |
/// | `crate` | a path in a string | `"resilience"` |
///
/// `fallback_if` is asked of every error before it falls back, the call's and each
/// fallback's. Written above a `#[circuit_breaker]`, a fallback answers its
/// `CircuitOpen` too (converted into `E`, as the caller would get it); below it, the
/// breaker sees only what the fallbacks made of the call. The instance counts calls
/// answered by the call itself, by each fallback, and those where all failed
/// (`resilience::registry().fallback(name)`).
///
/// ```
/// use resilience::{circuit_breaker, fallback};
///
/// #[derive(Debug, PartialEq)]
/// enum UserError { Down, Rejected(resilience::Error) }
///
/// impl From<resilience::Error> for UserError {
///     fn from(e: resilience::Error) -> Self { UserError::Rejected(e) }
/// }
///
/// #[fallback(from_cache, from_replica)]
/// #[circuit_breaker(name = "docs::users")]
/// async fn user_name(id: u64) -> Result<String, UserError> {
///     Err(UserError::Down)
/// }
///
/// async fn from_cache(id: u64, _: UserError) -> Result<String, UserError> {
///     if id == 1 { Ok("ada (cached)".into()) } else { Err(UserError::Down) }
/// }
///
/// async fn from_replica(id: u64, _: UserError) -> Result<String, UserError> {
///     Ok(format!("user {id} (replica)"))
/// }
///
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// assert_eq!(user_name(1).await.unwrap(), "ada (cached)");
/// assert_eq!(user_name(2).await.unwrap(), "user 2 (replica)");
/// # }
/// ```
///
/// The fn keeps its signature; its body becomes a call through the named instance, held in
/// a per-call-site `static` (the `resilience` crate docs show the expansion in outline).
#[proc_macro_attribute]
pub fn fallback(args: TokenStream, item: TokenStream) -> TokenStream {
    expand::attribute(&args::fallback::TABLE, args.into(), item.into()).into()
}

/// Cuts tail latency: starts the call, and if no answer came after `delay` starts another
/// attempt beside it, up to `max_attempts`. The first success wins; the others are dropped,
/// which cancels them. A failed attempt starts the next at once; a rejection from a layer
/// below (`CircuitOpen`, `BulkheadFull`, `RateLimited`) starts none. When every attempt has
/// failed, the last error is returned.
///
/// | argument | accepts | default |
/// |---|---|---|
/// | `delay` | a duration; `0` starts every attempt at once | `"100ms"` |
/// | `max_attempts` | a whole number ≥ 1, counting the first | 2 |
/// | `name` | a string or a `&str` constant | the fn's path, private to it |
/// | `crate` | a path in a string | `"resilience"` |
///
/// **Attempts run at the same time, so they share the arguments**: the body sees a copy
/// of a `Copy` argument and `&T` of the others, and a hedged fn cannot take `&mut self`,
/// `&mut T` or `mut` arguments (a compile error that says why). Hedge only calls that are
/// safe to make twice (reads, idempotent writes). A `#[retry]` or `#[fallback]` above the
/// hedge retries or answers the hedged call as a whole; below it, each attempt on its
/// own, and a fallback there is given the arguments as the attempts share them.
///
/// A plain `fn` is refused: a thread cannot be cancelled, so the attempts that lose the
/// race could not be stopped. Hedge an `async fn` that runs the plain one with
/// `tokio::task::spawn_blocking` (the losing threads run on to their end).
///
/// ```
/// use std::time::Duration;
/// use resilience::hedge;
///
/// #[hedge(delay = "50ms", max_attempts = 3)]
/// async fn price(sku: String) -> Result<String, resilience::Error> {
///     tokio::time::sleep(Duration::from_millis(10)).await;
///     Ok(format!("{sku}: 12.50")) // `sku` is a `&String` here
/// }
///
/// # #[tokio::main(flavor = "current_thread", start_paused = true)] async fn main() {
/// assert_eq!(price("A-1".into()).await.unwrap(), "A-1: 12.50");
/// # }
/// ```
///
/// The fn keeps its signature; its body becomes a call through the named instance, held in
/// a per-call-site `static` (the `resilience` crate docs show the expansion in outline).
#[proc_macro_attribute]
pub fn hedge(args: TokenStream, item: TokenStream) -> TokenStream {
    expand::attribute(&args::hedge::TABLE, args.into(), item.into()).into()
}

/// Not public API. Used by the attributes themselves: carries the layers collected so far
/// to a sibling named through a path the first attribute could not tell was ours.
#[doc(hidden)]
#[proc_macro_attribute]
pub fn stacked(args: TokenStream, item: TokenStream) -> TokenStream {
    expand::stacked(args.into(), item.into()).into()
}
