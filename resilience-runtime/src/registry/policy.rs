//! What the registry holds: the five policies and their configs, sealed.

use std::fmt;
use std::sync::Arc;

use super::{Namespace, Registry, Stats};
use crate::error::InvalidConfig;
use crate::{
    Bulkhead, BulkheadConfig, CircuitBreaker, CircuitBreakerConfig, ConfigError, Fallback,
    FallbackConfig, Hedge, HedgeConfig, Kind, RateLimiter, RateLimiterConfig, Retry, RetryConfig,
    Timeout, TimeoutConfig,
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
    #[doc(hidden)]
    fn build(name: Arc<str>, config: Self::Config) -> Result<Self, ConfigError>;
    #[doc(hidden)]
    fn namespace(registry: &Registry) -> &Namespace<Self>;
    /// Its counters, and its state where it has one.
    fn snapshot(&self) -> Stats;
    /// Back to its initial state: what the policy's own `reset` does.
    fn reset(&self);
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
