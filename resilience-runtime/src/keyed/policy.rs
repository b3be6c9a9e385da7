//! The keyed instance itself: its keys in shards, lookups, and the per-policy calls.

use std::fmt;
use std::future::Future;
use std::hash::{BuildHasher, RandomState};
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, OnceLock};

use super::config::KeyedConfig;
use super::key::InstanceKey;
use super::shard::{Lookup, Shard};
use super::stats::KeyedStats;
use crate::pipeline::{self, Failure, Outcome};
use crate::registry::{Namespace, Policy, Registry, Stats};
use crate::shared::{AlreadyShared, Link, SharedKeys};
use crate::{
    CircuitBreaker, CircuitBreakerConfig, CircuitState, ConfigError, Error, OwnedCallPermit,
    PolicyConfig, RateLimiter, RateLimiterConfig,
};

/// One [`RateLimiter`] per key (per user, per IP address), under one name and one config:
/// see [`Keyed`].
///
/// ```
/// # use resilience::{KeyedConfig, KeyedRateLimiter, RateLimiterConfig};
/// let per_ip = KeyedRateLimiter::new("login", KeyedConfig::new(RateLimiterConfig::DEFAULT.max_requests(5))).unwrap();
/// let ip: std::net::IpAddr = "192.0.2.1".parse().unwrap();
/// assert!(per_ip.try_acquire(&ip).is_ok());
/// ```
pub type KeyedRateLimiter = Keyed<RateLimiter>;

/// One [`CircuitBreaker`] per key (per downstream host), under one name and one config:
/// see [`Keyed`].
///
/// ```
/// # use resilience::{CircuitBreakerConfig, KeyedCircuitBreaker, KeyedConfig};
/// let per_host = KeyedCircuitBreaker::new("upstream", KeyedConfig::new(CircuitBreakerConfig::DEFAULT)).unwrap();
/// per_host.try_acquire("a.example").unwrap().success();
/// assert!(per_host.get("a.example").unwrap().is_closed());
/// ```
pub type KeyedCircuitBreaker = Keyed<CircuitBreaker>;

/// A policy that can be kept per key: [`RateLimiter`] and [`CircuitBreaker`]. Sealed.
///
/// ```
/// use resilience::{Keyed, PerKey, RateLimiter};
/// fn keys<P: PerKey>(keyed: &Keyed<P>) -> usize { keyed.len() }
/// # let limiter: Keyed<RateLimiter> = Keyed::new("k", Default::default()).unwrap();
/// # assert_eq!(keys(&limiter), 0);
/// ```
pub trait PerKey: Policy + per_key::Sealed {}

impl PerKey for RateLimiter {}
impl PerKey for CircuitBreaker {}

/// Where a key's instance stands when room is needed.
pub(super) use per_key::Standing;

pub(crate) mod per_key {
    use super::{Keyed, Namespace, Registry};
    use crate::registry::Stats;

    /// Where a key's instance stands when room is needed for a new key.
    pub enum Standing {
        /// Back to its initial state: dropping it loses nothing.
        Idle,
        /// Holds state (a count, a partly used quota); dropped only as least recently used.
        Busy,
        /// Never dropped: a breaker that is open, half-open, forced open or disabled.
        Pinned,
    }

    pub trait Sealed: Sized {
        /// One key's instance: its hot-path counters single cells, not 2 KiB of stripes,
        /// since a keyed instance holds thousands and each key sees few calls at once.
        fn one_of_many(
            name: std::sync::Arc<str>,
            config: <Self as crate::Policy>::Config,
        ) -> Result<Self, crate::ConfigError>
        where
            Self: crate::Policy;
        /// Where the instance stands at `now` (read once for a whole sweep of a shard).
        fn standing(&self, now: crate::time::Tick) -> Standing;
        /// Whether the key is listed as open in the snapshot.
        fn is_open(&self) -> bool;
        fn keyed_namespace(registry: &Registry) -> &Namespace<Keyed<Self>>
        where
            Self: super::PerKey;
        fn keyed_stats(stats: super::KeyedStats) -> Stats;
    }
}

impl per_key::Sealed for RateLimiter {
    fn one_of_many(name: Arc<str>, config: RateLimiterConfig) -> Result<Self, ConfigError> {
        RateLimiter::one_of_many(name, config)
    }

    fn standing(&self, now: crate::time::Tick) -> Standing {
        if self.is_full(now) {
            Standing::Idle
        } else {
            Standing::Busy
        }
    }

    fn is_open(&self) -> bool {
        false
    }

    fn keyed_namespace(registry: &Registry) -> &Namespace<Keyed<Self>> {
        registry.keyed_rate_limiters()
    }

    fn keyed_stats(stats: KeyedStats) -> Stats {
        Stats::KeyedRateLimiter(stats)
    }
}

impl per_key::Sealed for CircuitBreaker {
    fn one_of_many(name: Arc<str>, config: CircuitBreakerConfig) -> Result<Self, ConfigError> {
        CircuitBreaker::one_of_many(name, config)
    }

    fn standing(&self, _: crate::time::Tick) -> Standing {
        if self.is_clean_closed() {
            Standing::Idle
        } else if self.is_closed() {
            Standing::Busy
        } else {
            Standing::Pinned
        }
    }

    fn is_open(&self) -> bool {
        matches!(
            self.state(),
            CircuitState::Open | CircuitState::HalfOpen | CircuitState::ForcedOpen
        )
    }

    fn keyed_namespace(registry: &Registry) -> &Namespace<Keyed<Self>> {
        registry.keyed_circuit_breakers()
    }

    fn keyed_stats(stats: KeyedStats) -> Stats {
        Stats::KeyedCircuitBreaker(stats)
    }
}

/// One policy instance per key, under one name and one [`KeyedConfig`]: per-user rate
/// limits, per-host circuit breakers. A key's instance is made from the config when the key
/// is first seen, and every later call with that key uses it, independent of every other
/// key's.
///
/// Memory is bounded: at most `max_keys` keys are held. When a new key arrives at the
/// bound, keys whose instance is back to its initial state (a limiter with its full quota
/// again, a closed breaker with no failure counted) are dropped first, since they carry no
/// information; a key in use by a running call or by a handle a caller holds (the `Arc`
/// from [`get`](Self::get) or [`entry`](Self::entry)), or whose breaker is open,
/// half-open, forced open or disabled, is never dropped. When no key is idle,
/// [`WhenFull`] decides: drop the least recently used key, or turn the new key away with
/// [`Error::KeysFull`]. [`stats`](Self::stats) counts both.
///
/// Keys are spread over shards, each with its own lock and its share of `max_keys`: calls
/// with keys already known share read locks only. Room is made in the new key's shard, so
/// with a large bound (several shards) an instance starts making room below `max_keys`,
/// when one shard holds its share before the others: with random keys, at 87 to 94 % of a
/// bound of 1 000 and 95 to 98 % of 10 000 on a 2-core host, lower with more cores (more
/// shards). A bound below 128 is one shard, exact. Any value that is `Hash + Eq` with a
/// `Debug + Send + Sync + 'static` owned form keys an instance ([`InstanceKey`]); it is
/// looked up by reference and cloned (`to_owned`) once, when first seen.
///
/// With the attributes, `key = expr` makes the instance keyed: see
/// [`rate_limit`](https://docs.rs/resilience/latest/resilience/attr.rate_limit.html).
///
/// [`WhenFull`]: crate::WhenFull
///
/// ```
/// # #[tokio::main(flavor = "current_thread", start_paused = true)] async fn main() {
/// use std::time::Duration;
/// use resilience::{KeyedConfig, KeyedRateLimiter, RateLimiterConfig};
///
/// let per_user = RateLimiterConfig::DEFAULT.max_requests(2).window(Duration::from_secs(60));
/// let limiter = KeyedRateLimiter::new("api", KeyedConfig::new(per_user)).unwrap();
/// assert!(limiter.try_acquire("ada").is_ok());
/// assert!(limiter.try_acquire("ada").is_ok());
/// assert!(limiter.try_acquire("ada").is_err()); // ada's quota is spent...
/// assert!(limiter.try_acquire("bob").is_ok()); // ...bob's is his own
/// assert_eq!(limiter.get("ada").unwrap().stats().rejections, 1);
/// # }
/// ```
pub struct Keyed<P: PerKey> {
    name: Arc<str>,
    config: KeyedConfig<P::Config>,
    /// SipHash with a random key: keys often come from outside (user ids, addresses), and a
    /// flood crafted to collide in one shard must not be possible.
    hasher: RandomState,
    shards: Box<[Shard<P>]>,
    evictions: AtomicU64,
    rejected_keys: AtomicU64,
    /// The fleet's state of every key, once [`share`](Self::share) installed it.
    shared: OnceLock<Arc<dyn SharedKeys<P>>>,
    /// Whether the fleet's state of the keys is reachable, as the store reports it for the
    /// whole name: for the stats.
    link: Link,
}

/// Keys per shard below which there is one shard less: room is made in the new key's
/// shard, so a small bound stays one table and its eviction order is exact across all its
/// keys.
const MIN_KEYS_PER_SHARD: usize = 64;

impl<P: PerKey> Keyed<P> {
    /// A keyed instance named `name`, holding no key yet.
    ///
    /// # Errors
    ///
    /// The [`ConfigError`] of [`KeyedConfig::validate`] or of the config of each key's
    /// instance.
    ///
    /// ```
    /// # use resilience::{CircuitBreakerConfig, KeyedCircuitBreaker, KeyedConfig};
    /// let hosts = KeyedCircuitBreaker::new("hosts", KeyedConfig::new(CircuitBreakerConfig::DEFAULT)).unwrap();
    /// assert_eq!((hosts.name(), hosts.len()), ("hosts", 0));
    /// assert!(KeyedCircuitBreaker::new("bad", KeyedConfig::new(CircuitBreakerConfig::DEFAULT).max_keys(0)).is_err());
    /// ```
    pub fn new(
        name: impl Into<Arc<str>>,
        config: KeyedConfig<P::Config>,
    ) -> Result<Self, ConfigError> {
        config.check()?;
        // Asked once per process: on Linux it reads the cgroup files, and a snapshot builds a
        // throwaway instance of each keyed instance declared but not yet used.
        static PARALLELISM: OnceLock<usize> = OnceLock::new();
        let parallelism = *PARALLELISM
            .get_or_init(|| std::thread::available_parallelism().map_or(1, usize::from));
        // Enough shards that threads rarely meet on one lock, few enough that each holds a
        // useful share of the bound; a power of two, to pick one by masking the hash.
        let wanted = (parallelism * 4).next_power_of_two();
        let affordable = prev_power_of_two((config.max_keys / MIN_KEYS_PER_SHARD).max(1));
        let count = wanted.min(affordable);
        let shards = (0..count)
            .map(|i| {
                // The bound split exactly: the first `max_keys % count` shards hold one more.
                let share = config.max_keys / count + usize::from(i < config.max_keys % count);
                Shard::new(share)
            })
            .collect();
        Ok(Self {
            name: name.into(),
            hasher: RandomState::new(),
            shards,
            config,
            evictions: AtomicU64::new(0),
            rejected_keys: AtomicU64::new(0),
            shared: OnceLock::new(),
            link: Link::default(),
        })
    }

    /// Makes every key's instance one view of the fleet's state of that key: from now on,
    /// each key's instance is handed to `shared` as it is made (see [`SharedKeys`] for
    /// how keys are written for the fleet). The keys held now are dropped, so that each is
    /// made again, shared, when next used; calls running go on with the instance they
    /// hold. Called by a store such as `resilience-redis`, once.
    ///
    /// # Errors
    ///
    /// [`AlreadyShared`] if a hook is installed already.
    ///
    /// The [`SharedKeys`] trait's example installs a hook.
    pub fn share(&self, shared: Arc<dyn SharedKeys<P>>) -> Result<(), AlreadyShared> {
        self.shared.set(shared).map_err(|_| AlreadyShared {
            name: Arc::clone(&self.name),
        })?;
        for shard in &self.shards {
            shard.clear();
        }
        Ok(())
    }

    /// Reports that the fleet's state of the keys became unreachable (`available ==
    /// false`: every key follows its store's fallback mode) or reachable again, for the
    /// whole name: [`stats`](Self::stats)`().shared` follows. A report that changes nothing
    /// is ignored, and so is any report to an instance not [`share`](Self::share)d. Called
    /// by a store such as `resilience-redis`, which tells the event and the warning
    /// through the limiter of the key whose call found the change.
    ///
    /// ```
    /// # use resilience::{KeyedConfig, KeyedRateLimiter, RateLimiterConfig};
    /// let limiter = KeyedRateLimiter::new("alone", KeyedConfig::new(RateLimiterConfig::DEFAULT)).unwrap();
    /// limiter.shared_availability(false); // not shared: nothing happens
    /// assert_eq!(limiter.stats().shared, None);
    /// ```
    pub fn shared_availability(&self, available: bool) {
        if self.shared.get().is_some() {
            self.link.report(available);
        }
    }

    /// The instance's name, which every key's instance shares.
    ///
    /// ```
    /// # use resilience::{KeyedConfig, KeyedRateLimiter, RateLimiterConfig};
    /// let limiter = KeyedRateLimiter::new("api", KeyedConfig::new(RateLimiterConfig::DEFAULT)).unwrap();
    /// assert_eq!(limiter.name(), "api");
    /// ```
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The instance's configuration.
    ///
    /// ```
    /// # use resilience::{KeyedConfig, KeyedRateLimiter, RateLimiterConfig};
    /// let limiter = KeyedRateLimiter::new("api", KeyedConfig::new(RateLimiterConfig::DEFAULT).max_keys(5)).unwrap();
    /// assert_eq!(limiter.config().max_keys, 5);
    /// ```
    pub fn config(&self) -> &KeyedConfig<P::Config> {
        &self.config
    }

    /// The instance of `key`, made now if the key is new: how every call finds its key's
    /// state. Counts as a use of the key (it becomes the most recently used).
    ///
    /// # Errors
    ///
    /// [`Error::KeysFull`] when the key is new, `max_keys` keys are held and none may be
    /// dropped for it.
    ///
    /// ```
    /// # use resilience::{CircuitBreakerConfig, KeyedCircuitBreaker, KeyedConfig};
    /// let hosts = KeyedCircuitBreaker::new("hosts", KeyedConfig::new(CircuitBreakerConfig::DEFAULT.failure_threshold(1))).unwrap();
    /// hosts.entry("db-1").unwrap().record_failure();
    /// assert!(hosts.entry("db-1").unwrap().is_open());
    /// assert!(hosts.entry("db-2").unwrap().is_closed());
    /// ```
    #[inline]
    pub fn entry<Q: InstanceKey + ?Sized>(&self, key: &Q) -> Result<Arc<P>, Error> {
        let hash = self.hasher.hash_one(key);
        let make = || {
            // The config was checked in `new`, so building cannot fail.
            let policy = P::one_of_many(Arc::clone(&self.name), self.config.config.clone())
                .expect("a keyed instance's config is checked when it is made");
            let policy = Arc::new(policy);
            if let Some(shared) = self.shared.get() {
                shared.share_key(&format!("{:?}", key.to_owned()), &policy);
            }
            policy
        };
        match self
            .shard(hash)
            .entry(hash, key, self.config.when_full, make)
        {
            Lookup::Found { policy, evicted } => {
                if evicted > 0 {
                    self.evictions.fetch_add(evicted, Relaxed);
                }
                Ok(policy)
            }
            Lookup::Full => {
                self.rejected_keys.fetch_add(1, Relaxed);
                Err(Error::KeysFull {
                    name: Arc::clone(&self.name),
                    max_keys: self.config.max_keys,
                })
            }
        }
    }

    /// The instance of `key` if the key is held, for a look at its state and counters;
    /// makes nothing, and does not count as a use of the key. While the returned `Arc`
    /// is held, the key is not dropped to make room for others: drop it once read.
    ///
    /// ```
    /// # use resilience::{KeyedConfig, KeyedRateLimiter, RateLimiterConfig};
    /// let limiter = KeyedRateLimiter::new("api", KeyedConfig::new(RateLimiterConfig::DEFAULT)).unwrap();
    /// assert!(limiter.get(&7_u64).is_none());
    /// limiter.try_acquire(&7_u64).unwrap();
    /// assert_eq!(limiter.get(&7_u64).unwrap().stats().admitted, 1);
    /// ```
    pub fn get<Q: InstanceKey + ?Sized>(&self, key: &Q) -> Option<Arc<P>> {
        let hash = self.hasher.hash_one(key);
        self.shard(hash).get(hash, key)
    }

    /// The number of keys held.
    ///
    /// ```
    /// # use resilience::{KeyedConfig, KeyedRateLimiter, RateLimiterConfig};
    /// let limiter = KeyedRateLimiter::new("api", KeyedConfig::new(RateLimiterConfig::DEFAULT)).unwrap();
    /// limiter.try_acquire("ada").unwrap();
    /// assert_eq!(limiter.len(), 1);
    /// ```
    pub fn len(&self) -> usize {
        self.shards.iter().map(Shard::len).sum()
    }

    /// Whether no key is held.
    ///
    /// ```
    /// # use resilience::{KeyedConfig, KeyedRateLimiter, RateLimiterConfig};
    /// let limiter = KeyedRateLimiter::new("api", KeyedConfig::new(RateLimiterConfig::DEFAULT)).unwrap();
    /// assert!(limiter.is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The keys held now and what became of new keys at the bound.
    ///
    /// ```
    /// # use resilience::{KeyedConfig, KeyedRateLimiter, RateLimiterConfig};
    /// let limiter = KeyedRateLimiter::new("api", KeyedConfig::new(RateLimiterConfig::DEFAULT)).unwrap();
    /// limiter.try_acquire("ada").unwrap();
    /// assert_eq!((limiter.stats().keys, limiter.stats().max_keys), (1, 10_000));
    /// ```
    pub fn stats(&self) -> KeyedStats {
        let mut keys = 0;
        let mut open_keys = 0;
        for shard in &self.shards {
            shard.for_each(|_, policy| {
                keys += 1;
                open_keys += usize::from(policy.is_open());
            });
        }
        KeyedStats {
            keys,
            max_keys: self.config.max_keys,
            open_keys,
            evictions: self.evictions.load(Relaxed),
            rejected_keys: self.rejected_keys.load(Relaxed),
            shared: self.shared.get().map(|_| self.link.stats()),
        }
    }

    /// Drops every key, so each starts over in its initial state when next used, and sets
    /// the counters to zero. Calls running go on with the instance they hold.
    ///
    /// ```
    /// # use resilience::{KeyedConfig, KeyedRateLimiter, RateLimiterConfig};
    /// let limiter = KeyedRateLimiter::new("api", KeyedConfig::new(RateLimiterConfig::DEFAULT)).unwrap();
    /// limiter.try_acquire("ada").unwrap();
    /// limiter.reset();
    /// assert!(limiter.is_empty());
    /// ```
    pub fn reset(&self) {
        for shard in &self.shards {
            shard.clear();
        }
        self.evictions.store(0, Relaxed);
        self.rejected_keys.store(0, Relaxed);
    }

    /// The keys whose instance is open (breakers that are open, half-open or forced open),
    /// each written with its `Debug`, sorted.
    fn open_keys(&self) -> Vec<String> {
        let mut open = Vec::new();
        for shard in &self.shards {
            shard.for_each(|describe, policy| {
                if policy.is_open() {
                    open.push(describe());
                }
            });
        }
        open.sort();
        open
    }

    fn shard(&self, hash: u64) -> &Shard<P> {
        // The table uses the hash's low bits and its top seven: shards take bits between.
        &self.shards[(hash >> 32) as usize & (self.shards.len() - 1)]
    }

    /// Not public API. Used by resilience-macros: the key's instance, looked up once when a
    /// call starts, before the body (which may take the arguments the key borrows) runs.
    #[doc(hidden)]
    pub fn begin<Q: InstanceKey + ?Sized>(&self, key: &Q) -> KeyedCall<P> {
        KeyedCall(self.entry(key))
    }
}

fn prev_power_of_two(n: usize) -> usize {
    1 << (usize::BITS - 1 - n.max(1).leading_zeros())
}

impl Keyed<RateLimiter> {
    /// Takes a permit from `key`'s limiter now, without waiting, as
    /// [`RateLimiter::try_acquire`] does.
    ///
    /// # Errors
    ///
    /// [`Error::RateLimited`] when the key's quota is spent; [`Error::KeysFull`] when the
    /// key is new and there is no room for it.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread", start_paused = true)] async fn main() {
    /// # use std::time::Duration;
    /// # use resilience::{KeyedConfig, KeyedRateLimiter, RateLimiterConfig};
    /// let limiter = KeyedRateLimiter::new("api", KeyedConfig::new(RateLimiterConfig::DEFAULT.max_requests(1))).unwrap();
    /// assert!(limiter.try_acquire(&1_u64).is_ok());
    /// assert!(limiter.try_acquire(&1_u64).is_err());
    /// assert!(limiter.try_acquire(&2_u64).is_ok());
    /// # }
    /// ```
    #[inline]
    pub fn try_acquire<Q: InstanceKey + ?Sized>(&self, key: &Q) -> Result<(), Error> {
        let hash = self.hasher.hash_one(key);
        // A known key: admitted under the shard's read lock, no `Arc` cloned. A refusal
        // clones it (so the key stays in use, and is not evicted) and makes its `Error`
        // outside the lock: a result as wide as an `Error`, carried out of the lookup, was
        // copied on every call, admitted or not.
        let known = self.shard(hash).with(hash, key, |limiter| {
            limiter
                .acquire_now()
                .map_err(|wait| (wait, Arc::clone(limiter)))
        });
        match known {
            Some(Ok(())) => return Ok(()),
            Some(Err((wait, limiter))) => return Err(limiter.limited(wait)),
            None => {}
        }
        self.entry(key)?.try_acquire()
    }

    /// Runs `f` once `key`'s limiter gives a permit, waiting up to `max_wait`, as
    /// [`RateLimiter::call`] does.
    ///
    /// # Errors
    ///
    /// [`Error::RateLimited`] or [`Error::KeysFull`], converted into `E`; otherwise what
    /// `f` returns.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread", start_paused = true)] async fn main() {
    /// # use resilience::{Error, KeyedConfig, KeyedRateLimiter, RateLimiterConfig};
    /// let limiter = KeyedRateLimiter::new("api", KeyedConfig::new(RateLimiterConfig::DEFAULT)).unwrap();
    /// let answer: Result<u32, Error> = limiter.call("ada", || async { Ok(42) }).await;
    /// assert_eq!(answer, Ok(42));
    /// # }
    /// ```
    pub async fn call<Q, T, E, F, Fut>(&self, key: &Q, f: F) -> Result<T, E>
    where
        Q: InstanceKey + ?Sized,
        E: From<Error>,
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<T, E>>,
    {
        let call = self.begin(key);
        pipeline::finish(call.layer(|| pipeline::body(f())).await)
    }
}

impl Keyed<CircuitBreaker> {
    /// Admits one call through `key`'s breaker, as [`CircuitBreaker::try_acquire_owned`]
    /// does: report its outcome on the permit.
    ///
    /// # Errors
    ///
    /// [`Error::CircuitOpen`] when the key's breaker rejects the call; [`Error::KeysFull`]
    /// when the key is new and there is no room for it.
    ///
    /// ```
    /// # use resilience::{CircuitBreakerConfig, KeyedCircuitBreaker, KeyedConfig};
    /// let hosts = KeyedCircuitBreaker::new("hosts", KeyedConfig::new(CircuitBreakerConfig::DEFAULT.failure_threshold(1))).unwrap();
    /// hosts.try_acquire("db-1").unwrap().failure();
    /// assert!(hosts.try_acquire("db-1").is_err());
    /// assert!(hosts.try_acquire("db-2").is_ok());
    /// ```
    pub fn try_acquire<Q: InstanceKey + ?Sized>(&self, key: &Q) -> Result<OwnedCallPermit, Error> {
        self.entry(key)?.try_acquire_owned()
    }

    /// Runs `f` if `key`'s breaker admits the call, as [`CircuitBreaker::call`] does:
    /// every `Err` counts as a failure of that key only.
    ///
    /// # Errors
    ///
    /// [`Error::CircuitOpen`] or [`Error::KeysFull`], converted into `E`; otherwise what
    /// `f` returns.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// # use resilience::{CircuitBreakerConfig, Error, KeyedCircuitBreaker, KeyedConfig};
    /// let hosts = KeyedCircuitBreaker::new("hosts", KeyedConfig::new(CircuitBreakerConfig::DEFAULT)).unwrap();
    /// let rows: Result<u32, Error> = hosts.call("db-1", || async { Ok(3) }).await;
    /// assert_eq!(rows, Ok(3));
    /// # }
    /// ```
    pub async fn call<Q, T, E, F, Fut>(&self, key: &Q, f: F) -> Result<T, E>
    where
        Q: InstanceKey + ?Sized,
        E: From<Error>,
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<T, E>>,
    {
        let call = self.begin(key);
        pipeline::finish(call.layer(|_: &E| true, || pipeline::body(f())).await)
    }

    /// The keys whose breaker is open, half-open or forced open, each written with its
    /// `Debug`, sorted: the downstreams being shed now.
    ///
    /// ```
    /// # use resilience::{CircuitBreakerConfig, KeyedCircuitBreaker, KeyedConfig};
    /// let hosts = KeyedCircuitBreaker::new("hosts", KeyedConfig::new(CircuitBreakerConfig::DEFAULT.failure_threshold(1))).unwrap();
    /// hosts.entry("db-2").unwrap().record_failure();
    /// hosts.entry("db-1").unwrap().record_success();
    /// assert_eq!(hosts.open(), ["\"db-2\""]);
    /// ```
    pub fn open(&self) -> Vec<String> {
        self.open_keys()
    }
}

/// Not public API. Used by resilience-macros.
///
/// One call's key instance, looked up when the call started: the layer runs the call
/// through it, or rejects the call with the lookup's error when the key found no room.
#[doc(hidden)]
pub struct KeyedCall<P>(Result<Arc<P>, Error>);

impl KeyedCall<RateLimiter> {
    /// The key's limiter as one layer of a stack, as [`RateLimiter::layer`].
    pub async fn layer<T, E, F, Fut>(&self, next: F) -> Outcome<T, E>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Outcome<T, E>>,
    {
        match &self.0 {
            Ok(limiter) => limiter.layer(next).await,
            Err(full) => Err(Failure::Rejected(full.clone())),
        }
    }
}

impl KeyedCall<CircuitBreaker> {
    /// The key's breaker as one layer of a stack, as [`CircuitBreaker::layer`].
    pub async fn layer<T, E, F, Fut>(
        &self,
        failure_if: impl Fn(&E) -> bool,
        next: F,
    ) -> Outcome<T, E>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Outcome<T, E>>,
    {
        match &self.0 {
            Ok(breaker) => breaker.layer(failure_if, next).await,
            Err(full) => Err(Failure::Rejected(full.clone())),
        }
    }
}

impl<P: PerKey> fmt::Debug for Keyed<P> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Keyed")
            .field("name", &self.name)
            .field("config", &self.config)
            .field("keys", &self.len())
            .finish_non_exhaustive()
    }
}

impl<P: PerKey> Keyed<P> {
    /// What the registry's snapshot shows of this instance.
    pub(crate) fn snapshot_stats(&self) -> Stats {
        P::keyed_stats(self.stats())
    }

    /// The open keys, for the registry's snapshot.
    pub(crate) fn snapshot_open_keys(&self) -> Vec<String> {
        self.open_keys()
    }
}
