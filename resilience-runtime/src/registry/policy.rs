//! What the registry holds: the five policies and their configs, sealed.

use std::fmt;
use std::sync::Arc;

use super::{Namespace, Registry, Stats};
use crate::error::InvalidConfig;
use crate::{
    Bulkhead, BulkheadConfig, CircuitBreaker, CircuitBreakerConfig, ConfigError, Fallback,
    FallbackConfig, Hedge, HedgeConfig, Keyed, KeyedConfig, Kind, PerKey, RateLimiter,
    RateLimiterConfig, Retry, RetryConfig, Timeout, TimeoutConfig,
};

/// A policy the registry can hold. Implemented by the policies of this crate only.
///
/// ```
/// use resilience::{CircuitBreaker, Kind, Policy};
/// assert_eq!(<CircuitBreaker as Policy>::KIND, Kind::CircuitBreaker);
/// ```
pub trait Policy: Send + Sync + Sized + 'static + sealed::Sealed {
    /// Its configuration.
    type Config: PolicyConfig<Policy = Self>;
    /// Its kind.
    const KIND: Kind;
    /// Whether it is a keyed instance, one state per key.
    #[doc(hidden)]
    const KEYED: bool = false;
    #[doc(hidden)]
    fn build(name: Arc<str>, config: Self::Config) -> Result<Self, ConfigError>;
    #[doc(hidden)]
    fn namespace(registry: &Registry) -> &Namespace<Self>;
    /// Its counters, and its state where it has one.
    fn snapshot(&self) -> Stats;
    /// Back to its initial state: what the policy's own `reset` does.
    fn reset(&self);
    /// The keys of a keyed breaker that are open, for the snapshot; none for the rest.
    #[doc(hidden)]
    fn open_keys(&self) -> Vec<String> {
        Vec::new()
    }
}

/// A policy's configuration; names the policy it configures, so
/// [`Registry::configure`] needs no type annotation.
///
/// ```
/// use resilience::{registry, retry, RetryConfig};
///
/// #[retry(name = "docs::policy_config")]
/// async fn fetch() -> Result<(), resilience::Error> { Ok(()) }
///
/// // The config's type says which kind of instance it configures: a retry.
/// registry().configure("docs::policy_config", RetryConfig::DEFAULT.max_attempts(5)).unwrap();
/// ```
pub trait PolicyConfig:
    Clone + PartialEq + Default + fmt::Debug + Send + Sync + 'static + sealed::Sealed
{
    /// The policy this configures.
    type Policy: Policy<Config = Self>;
    #[doc(hidden)]
    fn check(&self) -> Result<(), InvalidConfig>;
}

mod sealed {
    pub trait Sealed {}
}

macro_rules! policies {
    ($($policy:ident $config:ident $field:ident,)*) => {$(
        impl sealed::Sealed for $policy {}
        impl sealed::Sealed for $config {}
        impl PolicyConfig for $config {
            type Policy = $policy;
            fn check(&self) -> Result<(), InvalidConfig> {
                self.validate()
            }
        }
        impl Policy for $policy {
            type Config = $config;
            const KIND: Kind = Kind::$policy;
            fn build(name: Arc<str>, config: $config) -> Result<Self, ConfigError> {
                $policy::new(name, config)
            }
            fn namespace(registry: &Registry) -> &Namespace<Self> {
                &registry.$field
            }
            fn snapshot(&self) -> Stats {
                Stats::$policy(self.stats())
            }
            fn reset(&self) {
                $policy::reset(self)
            }
        }
    )*};
}

policies! {
    CircuitBreaker CircuitBreakerConfig circuit_breakers,
    Retry RetryConfig retries,
    Timeout TimeoutConfig timeouts,
    Bulkhead BulkheadConfig bulkheads,
    RateLimiter RateLimiterConfig rate_limiters,
    Fallback FallbackConfig fallbacks,
    Hedge HedgeConfig hedges,
}

// A keyed instance is a policy of its own, with a namespace of its own: `name` may be both
// a plain limiter and a keyed one, which the snapshot tells apart by their stats.
impl<P: PerKey> sealed::Sealed for Keyed<P> {}
impl<C: PolicyConfig> sealed::Sealed for KeyedConfig<C> where C::Policy: PerKey {}

impl<C: PolicyConfig> PolicyConfig for KeyedConfig<C>
where
    C::Policy: PerKey,
{
    type Policy = Keyed<C::Policy>;
    fn check(&self) -> Result<(), InvalidConfig> {
        self.validate()?;
        self.config.check()
    }
}

impl<P: PerKey> Policy for Keyed<P> {
    type Config = KeyedConfig<P::Config>;
    const KIND: Kind = P::KIND;
    const KEYED: bool = true;
    fn build(name: Arc<str>, config: Self::Config) -> Result<Self, ConfigError> {
        Keyed::new(name, config)
    }
    fn namespace(registry: &Registry) -> &Namespace<Self> {
        P::keyed_namespace(registry)
    }
    fn snapshot(&self) -> Stats {
        self.snapshot_stats()
    }
    fn reset(&self) {
        Keyed::reset(self)
    }
    fn open_keys(&self) -> Vec<String> {
        self.snapshot_open_keys()
    }
}
