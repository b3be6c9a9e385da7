//! The connection to Redis, the names shared through it, and the two tasks that keep
//! each process's view fresh: the pub/sub subscriber and the periodic refresh.

use std::collections::HashMap;
use std::fmt;
use std::future::Future;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use futures_util::StreamExt;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::{ScriptInvocation, Value};
use resilience_runtime::{
    registry, CircuitBreaker, KeyedRateLimiter, RateLimiter, RateLimiterConfig,
};
use tokio::runtime::Handle;

use crate::breaker::{self, Fleet, SharedBreaker};
use crate::limiter::{self, Health, KeyedHook, SharedLimiter};
use crate::{Error, ErrorKind, Settings, WhenUnavailable};

/// A connection to Redis through which breakers and limiters are shared by every process
/// that connects to the same Redis with the same [`key_prefix`](Settings::key_prefix).
///
/// Cloning is cheap: clones share the connection. Its tasks (the pub/sub subscriber and the
/// refresh) run on the tokio runtime it was connected in, for as long as that runtime runs,
/// whether or not a `Backend` is kept.
///
/// ```no_run
/// # #[tokio::main] async fn main() -> Result<(), resilience::redis::Error> {
/// use resilience::redis::Backend;
///
/// #[resilience::circuit_breaker(name = "payments", failure_threshold = 20)]
/// async fn charge() -> Result<(), resilience::Error> { Ok(()) }
///
/// let redis = Backend::connect("redis://127.0.0.1:6379").await?;
/// redis.share_circuit_breaker("payments")?; // every replica: one breaker
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct Backend {
    inner: Arc<Inner>,
}

struct Inner {
    shared: Arc<Shared>,
    breakers: Mutex<HashMap<Arc<str>, Arc<SharedBreaker>>>,
    /// One per shared limiter name, keyed or not: what the refresh tries again.
    limiters: Mutex<Vec<Arc<Health>>>,
    /// For `Debug`: the server, never the password.
    server: String,
    user: Option<String>,
    has_password: bool,
}

/// What the hooks hold: the connection and the settings.
pub(crate) struct Shared {
    connection: ConnectionManager,
    settings: Settings,
    channel: String,
    runtime: Handle,
}

impl Shared {
    /// Runs `invocation`, for at most the timeout: `None` if Redis did not answer in time
    /// or answered with an error.
    pub(crate) async fn run(&self, invocation: ScriptInvocation<'static>) -> Option<Value> {
        let mut connection = self.connection.clone();
        match tokio::time::timeout(
            self.settings.timeout,
            invocation.invoke_async(&mut connection),
        )
        .await
        {
            Ok(Ok(value)) => Some(value),
            Ok(Err(error)) => {
                tracing::debug!(target: "resilience::redis", %error, "redis call failed");
                None
            }
            Err(_) => None,
        }
    }

    pub(crate) fn spawn(&self, task: impl Future<Output = ()> + Send + 'static) {
        self.runtime.spawn(task);
    }

    pub(crate) fn prefix(&self) -> &str {
        self.settings.prefix()
    }

    pub(crate) fn channel(&self) -> &str {
        &self.channel
    }

    pub(crate) fn timeout(&self) -> Duration {
        self.settings.timeout
    }

    pub(crate) fn refresh(&self) -> Duration {
        self.settings.refresh
    }

    pub(crate) fn probe_lease(&self) -> Duration {
        self.settings.probe_lease
    }

    pub(crate) fn probe_lease_ms(&self) -> u64 {
        millis(self.settings.probe_lease)
    }

    pub(crate) fn ttl_ms(&self) -> u64 {
        millis(self.settings.ttl)
    }
}

fn millis(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}

impl Backend {
    /// Connects to the Redis at `url` (`redis://[user:password@]host:port[/db]`, or
    /// `rediss://` with this crate's `tls` feature) with the default [`Settings`].
    ///
    /// # Errors
    ///
    /// [`ErrorKind::Connect`] if the URL is malformed, Redis does not answer, or refuses
    /// the credentials, or TLS fails (a server certificate that does not chain to the
    /// trusted CAs, certificates set for a URL that is not `rediss://`); the error never
    /// shows the password.
    ///
    /// ```no_run
    /// # #[tokio::main] async fn main() -> Result<(), resilience::redis::Error> {
    /// let redis = resilience::redis::Backend::connect("redis://:s3cret@127.0.0.1:6379/0").await?;
    /// assert!(!format!("{redis:?}").contains("s3cret"));
    /// # Ok(()) }
    /// ```
    pub async fn connect(url: &str) -> Result<Self, Error> {
        Self::connect_with(url, Settings::DEFAULT).await
    }

    /// Connects to the Redis at `url` with `settings`.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::Settings`] for invalid settings, else as [`connect`](Self::connect).
    ///
    /// ```no_run
    /// # #[tokio::main] async fn main() -> Result<(), resilience::redis::Error> {
    /// use std::time::Duration;
    /// use resilience::redis::{Backend, Settings};
    /// let settings = Settings::DEFAULT.key_prefix("checkout:").timeout(Duration::from_millis(20));
    /// let redis = Backend::connect_with("redis://127.0.0.1:6379", settings).await?;
    /// # Ok(()) }
    /// ```
    pub async fn connect_with(url: &str, settings: Settings) -> Result<Self, Error> {
        settings
            .validate()
            .map_err(|message| Error::new(ErrorKind::Settings, message))?;
        // redis builds its TLS config from the process's default provider; one installed
        // by the application already stays.
        #[cfg(feature = "tls")]
        let _ = rustls::crypto::ring::default_provider().install_default();
        // The password is known only once the URL parsed; until then, anything between
        // the scheme and the host may be one.
        let secret = url
            .split_once("://")
            .and_then(|(_, rest)| rest.rsplit_once('@'))
            .map(|(credentials, _)| credentials);
        let client =
            client(url, &settings).map_err(|e| Error::redacted(ErrorKind::Connect, &e, secret))?;
        let info = client.get_connection_info();
        let password = info.redis.password.clone();
        let server = format!("{}/{}", info.addr, info.redis.db);
        let user = info.redis.username.clone();
        // Connecting may take longer than one call may wait: a call never waits for a
        // connection (`run` bounds it), only the start-up does.
        let starting = settings.timeout.max(Duration::from_secs(1));
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(starting)
            .set_response_timeout(settings.timeout)
            .set_number_of_retries(1);
        // Which server, and whether over TLS: a certificate error alone does not say.
        let scheme = match info.addr {
            redis::ConnectionAddr::TcpTls { .. } => "rediss",
            _ => "redis",
        };
        let failed = |e: &dyn fmt::Display| {
            let failed = format!("cannot connect to {scheme}://{server}: {e}");
            Error::redacted(ErrorKind::Connect, &failed, password.as_deref())
        };
        let connection = ConnectionManager::new_with_config(client.clone(), config)
            .await
            .map_err(|e| failed(&e))?;
        // Without credentials the connection sends no command, so a server that wants a
        // password would refuse only the first call: a URL missing one (an unset variable)
        // fails here, at start-up, like a wrong one.
        let mut pinged = connection.clone();
        let command = redis::cmd("PING");
        let ping = command.query_async::<String>(&mut pinged);
        match tokio::time::timeout(starting, ping).await {
            Ok(Ok(_)) => {}
            Ok(Err(e)) => return Err(failed(&e)),
            Err(_) => return Err(failed(&"no answer to PING")),
        }
        let shared = Arc::new(Shared {
            connection,
            channel: crate::keys::channel(settings.prefix()),
            settings,
            runtime: Handle::current(),
        });
        let inner = Arc::new(Inner {
            shared,
            breakers: Mutex::default(),
            limiters: Mutex::default(),
            server,
            user,
            has_password: password.is_some(),
        });
        tokio::spawn(subscribe(client, Arc::clone(&inner)));
        tokio::spawn(refresh(Arc::clone(&inner)));
        Ok(Self { inner })
    }

    /// Shares the registry's circuit breaker `name` (an attribute's, or one configured by
    /// name) with every process on this Redis and prefix, in the settings' fallback mode.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::Unknown`] if the registry has no breaker `name`;
    /// [`ErrorKind::Unsupported`] for a keyed breaker `name` (of a name declared both
    /// keyed and without a key, the plain breaker is shared and the keyed one stays in
    /// each process), and as [`share_breaker`](Self::share_breaker).
    ///
    /// ```no_run
    /// # #[tokio::main] async fn main() -> Result<(), resilience::redis::Error> {
    /// # let redis = resilience::redis::Backend::connect("redis://127.0.0.1:6379").await?;
    /// resilience::registry().get_or_create("inventory", resilience::CircuitBreakerConfig::default()).unwrap();
    /// redis.share_circuit_breaker("inventory")?;
    /// # Ok(()) }
    /// ```
    pub fn share_circuit_breaker(&self, name: &str) -> Result<(), Error> {
        let mode = self.inner.shared.settings.when_unavailable;
        let keyed = registry().keyed_circuit_breaker(name).is_some();
        self.share_breaker(
            &named(
                registry().circuit_breaker(name),
                "circuit breaker",
                name,
                keyed,
            )?,
            mode,
        )
    }

    /// Shares the registry's rate limiter `name`: one quota for every process on this
    /// Redis and prefix, in the settings' fallback mode. A keyed limiter `name` (an
    /// attribute with `key = ..`) is shared key by key, as
    /// [`share_keyed_limiter`](Self::share_keyed_limiter) says: one quota per key for the
    /// fleet. A name declared both keyed and without a key (two instances) has both
    /// shared, each its own way.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::Unknown`] if the registry has no limiter `name`, and as
    /// [`share_limiter`](Self::share_limiter) (for a name of two instances, neither is
    /// shared if either's config cannot be).
    ///
    /// ```no_run
    /// # #[tokio::main] async fn main() -> Result<(), resilience::redis::Error> {
    /// # let redis = resilience::redis::Backend::connect("redis://127.0.0.1:6379").await?;
    /// resilience::registry().get_or_create("partner-api", resilience::RateLimiterConfig::default()).unwrap();
    /// redis.share_rate_limiter("partner-api")?;
    /// # Ok(()) }
    /// ```
    pub fn share_rate_limiter(&self, name: &str) -> Result<(), Error> {
        let mode = self.inner.shared.settings.when_unavailable;
        let keyed = registry().keyed_rate_limiter(name);
        let Some(plain) = registry().rate_limiter(name) else {
            let keyed = named(keyed, "rate limiter", name, false)?;
            return self.share_keyed_limiter(&keyed, mode);
        };
        if let Some(keyed) = keyed {
            // Both configs checked before either is shared: all or nothing.
            shareable(plain.name(), plain.config())?;
            self.share_keyed_limiter(&keyed, mode)?;
        }
        self.share_limiter(&plain, mode)
    }

    /// Shares `breaker` under its name, falling back as `mode` says while Redis is
    /// unreachable. Until the fleet's state is first read (at once, in the background) it
    /// acts on its own.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::Unsupported`] for a breaker shared already, or one with a failure-rate
    /// or slow-call rule or a `recovery_backoff` (the fleet counts consecutive failures and
    /// opens for `recovery_timeout`).
    ///
    /// ```no_run
    /// # #[tokio::main] async fn main() -> Result<(), resilience::redis::Error> {
    /// # let redis = resilience::redis::Backend::connect("redis://127.0.0.1:6379").await?;
    /// use std::sync::Arc;
    /// use resilience::{CircuitBreaker, CircuitBreakerConfig};
    /// use resilience::redis::WhenUnavailable;
    /// let breaker = Arc::new(CircuitBreaker::new("ledger", CircuitBreakerConfig::default()).unwrap());
    /// redis.share_breaker(&breaker, WhenUnavailable::Reject)?;
    /// # Ok(()) }
    /// ```
    pub fn share_breaker(
        &self,
        breaker: &Arc<CircuitBreaker>,
        mode: WhenUnavailable,
    ) -> Result<(), Error> {
        if let Err(refused) = breaker.config().shareable() {
            return Err(Error::new(
                ErrorKind::Unsupported,
                format!(
                    "circuit breaker `{}` cannot be shared: {refused}",
                    breaker.name()
                ),
            ));
        }
        let shared = SharedBreaker::new(breaker, Arc::clone(&self.inner.shared), mode);
        breaker
            .share(Arc::new(breaker::Hook(Arc::clone(&shared))))
            .map_err(|e| Error::new(ErrorKind::Unsupported, e.to_string()))?;
        self.inner
            .breakers
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(breaker.name().into(), Arc::clone(&shared));
        self.inner
            .shared
            .spawn(async move { shared.refresh().await });
        Ok(())
    }

    /// Shares `limiter`'s quota under its name, falling back as `mode` says while Redis is
    /// unreachable.
    ///
    /// Every admission path takes the fleet's permits:
    /// - async calls ([`acquire`](RateLimiter::acquire), [`call`](RateLimiter::call), the
    ///   attribute, the tower layer's response future): one script per admission, awaited
    ///   for at most [`Settings::timeout`], waiting for the fleet's next permit as
    ///   `max_wait` allows;
    /// - plain fns ([`acquire_blocking`](RateLimiter::acquire_blocking) and what is built on
    ///   it): the same script, run on this backend's runtime while the calling thread waits
    ///   for its answer for at most the timeout. Any thread may call, one without a runtime
    ///   too; but a plain fn called straight from a task of a current-thread runtime this
    ///   backend lives on blocks the very thread the script would run on, so its answer
    ///   cannot come: the timeout passes and `mode` decides, as for a slow Redis (call
    ///   plain fns on `spawn_blocking` threads in async code);
    /// - [`try_acquire`](RateLimiter::try_acquire): the same round trip where a thread may
    ///   block for it, a thread of no runtime or a multi-thread runtime's worker (through
    ///   `tokio::task::block_in_place`, which hands the worker's other tasks on first), so
    ///   the fleet's exact answer. A current-thread runtime's only thread cannot wait for a
    ///   script that must run on it, so there it hands out permits *leased* from the
    ///   fleet: a lease is one script that takes as many permits as calls came since the
    ///   last one (at least one, at most a tenth of the burst) in one go; a call that finds
    ///   the lease empty is turned away with `retry_after` = the last lease's round trip
    ///   (the timeout before the first; the fleet's wait for its next permit when it has
    ///   none) and fetches the next lease in the background. Every permit handed out was
    ///   counted by the fleet first, so leases never admit more than the quota; they only
    ///   admit later than the fleet granted. A lease expires once the quota has earned its
    ///   permits back (`k` permits: `k` emission intervals after it was asked for), so any
    ///   window admits at most `k` more than the token bucket's own bound, and a whole run
    ///   that starts without leases none more. The cost is under-admission: the call that
    ///   finds the lease empty, permits that expire unused, and a caller slower than a
    ///   lease's life, which finds it expired each time (call `acquire().await` there). A
    ///   lease's permits are used while Redis is unreachable too: the fleet granted them.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::Unsupported`] for a limiter shared already, one whose algorithm is not
    /// the token bucket (the shared quota is GCRA, the token bucket's exact equivalent), or
    /// one with more than a million permits per second.
    ///
    /// ```no_run
    /// # #[tokio::main] async fn main() -> Result<(), resilience::redis::Error> {
    /// # let redis = resilience::redis::Backend::connect("redis://127.0.0.1:6379").await?;
    /// use std::sync::Arc;
    /// use resilience::{RateLimiter, RateLimiterConfig};
    /// use resilience::redis::WhenUnavailable;
    /// let limiter = Arc::new(RateLimiter::new("sms", RateLimiterConfig::DEFAULT.max_requests(5)).unwrap());
    /// redis.share_limiter(&limiter, WhenUnavailable::Local)?;
    /// # Ok(()) }
    /// ```
    pub fn share_limiter(
        &self,
        limiter: &Arc<RateLimiter>,
        mode: WhenUnavailable,
    ) -> Result<(), Error> {
        shareable(limiter.name(), limiter.config())?;
        let health = Arc::new(Health::default());
        let shared = SharedLimiter::new(
            limiter,
            crate::keys::quota(self.inner.shared.prefix(), limiter.name()),
            Arc::clone(&self.inner.shared),
            mode,
            Arc::clone(&health),
        );
        limiter
            .share(Arc::new(limiter::Hook(Arc::new(shared))))
            .map_err(|e| Error::new(ErrorKind::Unsupported, e.to_string()))?;
        self.watch(health);
        Ok(())
    }

    /// Shares each key's quota of `keyed`, as [`share_limiter`](Self::share_limiter)
    /// shares one limiter's: every key's limiter draws on the fleet's quota of that key,
    /// on every path, and follows `mode` while Redis is unreachable (one event and one
    /// warning for the name, not one per key).
    ///
    /// Each user key has a Redis key of its own, `<prefix>{<name>:<key>}:keyed-quota`,
    /// where `<key>` is the user key's `Debug` text: std's `Hash` is seeded per process
    /// and may change between Rust versions, so it cannot name a key for a fleet. So a
    /// key's `Debug` must write it the same in every process, and tell it from every other
    /// key: integers, strings, IP addresses and tuples or derived `Debug`s of these do
    /// (see [`SharedKeys`](resilience_runtime::shared::SharedKeys)). Like every key, it
    /// expires once its quota is full again, so a flood of keys leaves nothing behind in
    /// Redis either. The keys `keyed` holds now are dropped and made again, shared.
    ///
    /// # Errors
    ///
    /// As [`share_limiter`](Self::share_limiter), for the keys' config.
    ///
    /// ```no_run
    /// # #[tokio::main] async fn main() -> Result<(), resilience::redis::Error> {
    /// # let redis = resilience::redis::Backend::connect("redis://127.0.0.1:6379").await?;
    /// use std::sync::Arc;
    /// use resilience::{KeyedConfig, KeyedRateLimiter, RateLimiterConfig};
    /// use resilience::redis::WhenUnavailable;
    /// let per_user = KeyedConfig::new(RateLimiterConfig::DEFAULT.max_requests(5));
    /// let per_user = Arc::new(KeyedRateLimiter::new("sms", per_user).unwrap());
    /// redis.share_keyed_limiter(&per_user, WhenUnavailable::Local)?;
    /// per_user.try_acquire(&42_u64).ok(); // user 42's quota, for the whole fleet
    /// # Ok(()) }
    /// ```
    pub fn share_keyed_limiter(
        &self,
        keyed: &Arc<KeyedRateLimiter>,
        mode: WhenUnavailable,
    ) -> Result<(), Error> {
        shareable(keyed.name(), &keyed.config().config)?;
        let health = Arc::new(Health::default());
        health.of_keyed(keyed);
        let hook = KeyedHook {
            name: keyed.name().to_owned(),
            backend: Arc::clone(&self.inner.shared),
            mode,
            health: Arc::clone(&health),
        };
        keyed
            .share(Arc::new(hook))
            .map_err(|e| Error::new(ErrorKind::Unsupported, e.to_string()))?;
        self.watch(health);
        Ok(())
    }

    /// Has the refresh try `health`'s name again while it is unreachable.
    fn watch(&self, health: Arc<Health>) {
        self.inner
            .limiters
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(health);
    }
}

/// Whether a limiter of `config` can be shared: a token bucket GCRA can hold.
fn shareable(name: &str, config: &RateLimiterConfig) -> Result<(), Error> {
    let unsupported = |why: &str| {
        Error::new(
            ErrorKind::Unsupported,
            format!("rate limiter `{name}` cannot be shared: {why}"),
        )
    };
    if config.algorithm != resilience_runtime::Algorithm::TokenBucket {
        return Err(unsupported("a shared quota is a token bucket (GCRA)"));
    }
    if limiter::gcra(config).is_none() {
        return Err(unsupported("more than one permit per microsecond"));
    }
    Ok(())
}

/// The client of `url`, with the settings' certificates when there are any.
fn client(url: &str, settings: &Settings) -> redis::RedisResult<redis::Client> {
    #[cfg(feature = "tls")]
    if let Some(certificates) = settings.tls.certificates() {
        return redis::Client::build_with_tls(url, certificates);
    }
    #[cfg(not(feature = "tls"))]
    let _ = settings;
    redis::Client::open(url)
}

/// The instance the registry found, or why there is none to share: a keyed breaker of
/// that name (one instance per key, in each process) is not shared yet, and says so.
fn named<T>(found: Option<Arc<T>>, kind: &str, name: &str, keyed: bool) -> Result<Arc<T>, Error> {
    found.ok_or_else(|| match keyed {
        true => Error::new(
            ErrorKind::Unsupported,
            format!("the keyed {kind} `{name}` cannot be shared: its instances, one per key, stay in each process"),
        ),
        false => Error::new(
            ErrorKind::Unknown,
            format!("no {kind} named `{name}` in the registry"),
        ),
    })
}

impl fmt::Debug for Backend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let inner = &self.inner;
        f.debug_struct("Backend")
            .field("server", &inner.server)
            .field("user", &inner.user)
            .field(
                "password",
                &if inner.has_password {
                    "<redacted>"
                } else {
                    "<none>"
                },
            )
            .field("settings", &inner.shared.settings)
            .finish_non_exhaustive()
    }
}

/// Reads every shared breaker's state each `refresh`, and tries an unreachable quota
/// again: the backstop of the push, and how a name goes back to shared state by itself.
async fn refresh(inner: Arc<Inner>) {
    let mut tick = tokio::time::interval(inner.shared.settings.refresh);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        let breakers: Vec<_> = inner
            .breakers
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .values()
            .cloned()
            .collect();
        for breaker in breakers {
            breaker.refresh().await;
        }
        let down: Vec<_> = inner
            .limiters
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .iter()
            .filter(|health| health.is_down())
            .cloned()
            .collect();
        for health in down {
            if holds_a_quota(&inner.shared, &health.lost_key()).await {
                health.found();
            }
        }
    }
}

/// Whether Redis answers for the quota under `key` again: the key reads as one (a number,
/// or nothing yet), as the admission script will read it. Not a `PING`: a server that
/// answers, with a wrong type or garbage under the key, would have the name found at each
/// refresh and lost at its next admission, over and over.
async fn holds_a_quota(shared: &Shared, key: &str) -> bool {
    let mut connection = shared.connection.clone();
    let mut command = redis::cmd("GET");
    let get = command
        .arg(key)
        .query_async::<Option<String>>(&mut connection);
    match tokio::time::timeout(shared.settings.timeout, get).await {
        Ok(Ok(None)) => true,
        Ok(Ok(Some(tat))) => tat.trim().parse::<f64>().is_ok_and(f64::is_finite),
        _ => false,
    }
}

/// Listens for the breakers' transitions, reconnecting whenever the connection drops.
async fn subscribe(client: redis::Client, inner: Arc<Inner>) {
    let wait = inner.shared.settings.refresh;
    loop {
        let connected =
            tokio::time::timeout(wait.max(Duration::from_secs(1)), client.get_async_pubsub()).await;
        let mut pubsub = match connected {
            Ok(Ok(pubsub)) => pubsub,
            _ => {
                tokio::time::sleep(wait).await;
                continue;
            }
        };
        if pubsub.subscribe(inner.shared.channel()).await.is_err() {
            tokio::time::sleep(wait).await;
            continue;
        }
        let mut messages = pubsub.on_message();
        while let Some(message) = messages.next().await {
            let Ok(payload) = message.get_payload::<String>() else {
                continue;
            };
            let Some((name, fleet)) = Fleet::from_message(&payload) else {
                continue;
            };
            let breaker = inner
                .breakers
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .get(name)
                .cloned();
            if let Some(breaker) = breaker {
                breaker.pushed(fleet);
            }
        }
    }
}
