//! Resilience attributes for async Rust: `#[circuit_breaker]`, `#[retry]`, `#[timeout]`,
//! `#[bulkhead]`, `#[rate_limit]`, `#[fallback]` and `#[hedge]`.
//!
//! Each attribute turns an `async fn` into a call through a **named policy instance** held
//! in a process-wide [`registry`]: two functions that name the same instance share its
//! state, and operators can look instances up, configure them before first use and print
//! a snapshot of all of them.
//!
//! ```
//! use resilience::{circuit_breaker, retry, timeout};
//!
//! #[derive(Debug)]
//! enum PaymentError { Declined, Unavailable, Rejected(resilience::Error) }
//!
//! impl From<resilience::Error> for PaymentError {
//!     fn from(error: resilience::Error) -> Self { PaymentError::Rejected(error) }
//! }
//!
//! fn is_transient(error: &PaymentError) -> bool {
//!     matches!(error, PaymentError::Unavailable)
//! }
//!
//! #[circuit_breaker(name = "payments", failure_threshold = 5, recovery_timeout = "30s")]
//! #[retry(max_attempts = 3, base_delay = "100ms", retry_if = is_transient)]
//! #[timeout("10s")]
//! async fn charge(cents: u64) -> Result<String, PaymentError> {
//!     if cents == 0 { return Err(PaymentError::Declined) }
//!     Ok(format!("receipt for {cents}"))
//! }
//!
//! # #[tokio::main(flavor = "current_thread")] async fn main() {
//! assert_eq!(charge(250).await.unwrap(), "receipt for 250");
//! assert!(resilience::registry().circuit_breaker("payments").unwrap().is_closed());
//! # }
//! ```
//!
//! Attributes apply in the order written, top = outermost, like Python decorators. Inside
//! the stack, rejections stay rejections: a retry does not retry `CircuitOpen`, does retry
//! `Timeout` (unless its `retry_if` says no); a breaker counts an inner `Timeout` as a
//! failure but not an inner `RateLimited` or `BulkheadFull`. Only the outermost layer
//! converts a rejection into the function's error type with `From<resilience::Error>`.
//! Across guarded fns too: a caller whose error type implements [`AsRejection`]
//! (`resilience::Error`, `anyhow::Error` and boxed errors do) reads a callee's rejection
//! inside its error as that rejection, and still returns the error unchanged.
//!
//! Plain (non-async) fns take `#[circuit_breaker]`, `#[retry]`, `#[bulkhead]`,
//! `#[rate_limit]` and `#[fallback]` too: their waits block the thread, on the real clock,
//! and a plain fn shares a named instance with the `async fn`s that name it. `#[timeout]`
//! and `#[hedge]` refuse them, since a thread cannot be cancelled. By hand, each of those
//! policies has blocking counterparts of its async methods (`call_blocking`,
//! `layer_blocking`, [`Bulkhead::acquire_blocking`], [`RateLimiter::acquire_blocking`]).
//!
//! ```
//! use resilience::{bulkhead, retry};
//!
//! #[retry(max_attempts = 3, base_delay = "10ms")]
//! #[bulkhead(name = "legacy-db", max_concurrent = 4, max_wait = "1s")]
//! fn load(id: u64) -> Result<String, resilience::Error> {
//!     Ok(format!("row {id}"))
//! }
//!
//! assert_eq!(load(7).unwrap(), "row 7");
//! ```
//!
//! Every policy also works by hand, without the attributes: see [`CircuitBreaker`],
//! [`Retry`], [`Timeout`], [`Bulkhead`], [`RateLimiter`], [`Fallback`] and [`Hedge`]. With
//! the `tower` feature, `resilience::tower` has the first five as tower `Layer`s over the
//! same named instances. With the `config` feature, [`registry().apply`](Registry::apply)
//! configures them by name from a TOML file and the environment, at run time too,
//! keeping their state (see `resilience::config`). With the `redis` feature,
//! `resilience::redis` shares a breaker or a quota among every process of a service,
//! through Redis.
//!
//! What the policies do besides letting calls through (transitions, rejections, retries,
//! timeouts, waits) is reported as [`events`] to subscribers and as `tracing` events.
//!
//! # How the attributes expand
//!
//! The fn keeps its signature, visibility, attributes and docs; its body becomes a call
//! through one layer per attribute, outermost first, each layer's instance resolved once
//! and kept in a `static`:
//!
//! ```text
//! #[circuit_breaker(name = "payments")]
//! #[timeout("10s")]
//! async fn charge(order: &Order) -> Result<Receipt, PaymentError> { body }
//!
//! // becomes, in outline:
//! async fn charge(order: &Order) -> Result<Receipt, PaymentError> {
//!     static BREAKER: CallSite<CircuitBreakerConfig> = CallSite::shared("payments", ..);
//!     static TIMEOUT: CallSite<TimeoutConfig> = CallSite::private(module_path!(), "charge", ..);
//!     let outcome = BREAKER.get().layer(|_: &_| true, move || {
//!         TIMEOUT.get().layer(move || body(async move { let ret: Result<..> = { body }; ret }))
//!     }).await;
//!     Result::from_outcome(outcome) // a rejection becomes `PaymentError::from(Error)`
//! }
//! ```
//!
//! The same layers are public: [`pipeline`] composes them by hand.

#![warn(missing_docs)]

extern crate self as resilience;

pub use resilience_macros::{
    bulkhead, circuit_breaker, fallback, hedge, rate_limit, retry, timeout,
};
/// Breakers and limiters shared by a fleet of processes through Redis (feature `redis`).
#[cfg(feature = "redis")]
pub use resilience_redis as redis;
#[cfg(feature = "config")]
pub use resilience_runtime::config;
pub use resilience_runtime::shared;
#[cfg(feature = "tower")]
pub use resilience_runtime::tower;
pub use resilience_runtime::{
    events, metrics, parse_retry_after, pipeline, registry, Algorithm, AsRejection, Backoff,
    BlockingFallbackChain, Bulkhead, BulkheadConfig, BulkheadPermit, BulkheadStats, CallPermit,
    CircuitBreaker, CircuitBreakerConfig, CircuitBreakerStats, CircuitState, ConfigError, Conflict,
    Error, Fallback, FallbackChain, FallbackConfig, FallbackStats, Hedge, HedgeConfig, HedgeStats,
    Instance, InvalidConfig, Jitter, Kind, OwnedBulkheadPermit, OwnedCallPermit, Policy,
    PolicyConfig, RateLimiter, RateLimiterConfig, RateLimiterStats, Registry, Retry, RetryConfig,
    RetryStats, Snapshot, Stats, Timeout, TimeoutConfig, TimeoutStats,
};
pub use resilience_runtime::{
    InstanceKey, Keyed, KeyedCircuitBreaker, KeyedConfig, KeyedRateLimiter, KeyedStats, PerKey,
    WhenFull,
};
pub use resilience_runtime::{SlidingWindow, WindowStats};

/// Implements [`AsRejection`] for an error enum with a variant that wraps a
/// `resilience::Error`, in one line, so that its policies see a callee's rejection as one.
///
/// ```
/// #[derive(Debug)]
/// enum ApiError {
///     NotFound,
///     Rejected(resilience::Error),
/// }
///
/// resilience::as_rejection!(ApiError::Rejected);
///
/// use resilience::AsRejection;
/// let full = resilience::Error::BulkheadFull { name: "db".into(), max_concurrent: 4 };
/// assert_eq!(ApiError::Rejected(full).as_rejection().map(|e| e.name()), Some("db"));
/// assert!(ApiError::NotFound.as_rejection().is_none());
/// ```
#[macro_export]
macro_rules! as_rejection {
    ($error:ident :: $variant:ident) => {
        impl $crate::AsRejection for $error {
            fn as_rejection(&self) -> ::core::option::Option<&$crate::Error> {
                // An enum of that one variant makes the second arm unreachable.
                #[allow(unreachable_patterns)]
                match self {
                    $error::$variant(rejection) => ::core::option::Option::Some(rejection),
                    _ => ::core::option::Option::None,
                }
            }
        }
    };
}

/// Not public API. Used by resilience-macros.
#[doc(hidden)]
pub mod __private {
    pub use resilience_macros::stacked;
    pub use resilience_runtime::inventory;
    pub use resilience_runtime::pipeline::{
        body_with, body_with_blocking, hint, predicate, Guarded,
    };
    pub use resilience_runtime::{
        CallSite, Declaration, Declarations, KeyOf, KeyOfOwned, KeyOfRef, Location,
    };
    use std::fmt;
    pub use std::time::Duration;

    use resilience_runtime::InvalidConfig;

    /// Why the argument `field` is refused, if it is. `whole` is the verdict on the
    /// attribute's whole config, `alone` the verdict on the defaults with only this argument
    /// set, and `given` every argument the attribute sets. A whole config the runtime accepts
    /// refuses nothing, even where an argument alone would be refused beside a default
    /// (`base_delay = "2m", max_delay = "5m"`). Otherwise the argument is refused for what
    /// it breaks on its own, for a rule it breaks against a field left at its default, or
    /// for the whole config's refusal when that names it. The attributes panic with it in a
    /// `const`, which makes it a compile error there.
    pub const fn refused(
        alone: Result<(), InvalidConfig>,
        whole: Result<(), InvalidConfig>,
        field: &str,
        given: &[&str],
    ) -> Option<&'static str> {
        let Err(whole) = whole else {
            return None;
        };
        if let Err(alone) = alone {
            if alone.is_about(field) || (whole.is_about(alone.field()) && !names_any(&alone, given))
            {
                return Some(alone.message());
            }
        }
        match whole.is_about(field) {
            true => Some(whole.message()),
            false => None,
        }
    }

    /// Why a keyed setting, or an argument of an attribute whose other arguments could not
    /// be read, is refused on the defaults: with no whole config to weigh it against, any
    /// refusal is its doing.
    pub const fn refused_alone(alone: Result<(), InvalidConfig>) -> Option<&'static str> {
        match alone {
            Err(error) => Some(error.message()),
            Ok(()) => None,
        }
    }

    /// Why the whole config is refused, when no argument was refused for it: the refusal
    /// names none of `given` and no argument alone broke the same rule.
    pub const fn refused_besides(
        whole: Result<(), InvalidConfig>,
        alone: &[Result<(), InvalidConfig>],
        given: &[&str],
    ) -> Option<&'static str> {
        let Err(whole) = whole else {
            return None;
        };
        if names_any(&whole, given) {
            return None;
        }
        let mut i = 0;
        while i < alone.len() {
            if let Err(alone) = alone[i] {
                if whole.is_about(alone.field()) {
                    return None;
                }
            }
            i += 1;
        }
        Some(whole.message())
    }

    /// Whether `error` is about one of `fields`, in `const`.
    const fn names_any(error: &InvalidConfig, fields: &[&str]) -> bool {
        let mut i = 0;
        while i < fields.len() {
            if error.is_about(fields[i]) {
                return true;
            }
            i += 1;
        }
        false
    }

    /// Why `name` cannot name an instance, if it cannot: it is empty or blank.
    pub const fn refused_name(name: &str) -> Option<&'static str> {
        let bytes = name.as_bytes();
        let mut i = 0;
        while i < bytes.len() {
            if !bytes[i].is_ascii_whitespace() {
                return None;
            }
            i += 1;
        }
        Some("`name` must not be empty")
    }

    /// An argument on its way into one attempt of a retried body, lent as `&mut T`:
    /// `(&&&Lend::of(&*x)).how()(x)` gives the body a copy of `x` when `T: Copy`, a `&T`
    /// when `T: Sync`, and the `&mut T` otherwise, so the body's future stays `Send`
    /// (autoref specialization: method lookup tries `&&&Lend` before `&&Lend` before
    /// `&Lend`).
    pub struct Lend<T: ?Sized>(core::marker::PhantomData<fn(&T)>);

    impl<T: ?Sized> Lend<T> {
        pub fn of(_: &T) -> Self {
            Lend(core::marker::PhantomData)
        }
    }

    pub trait LendCopy<T> {
        fn how<'a>(self) -> fn(&'a mut T) -> T;
    }

    impl<T: Copy> LendCopy<T> for &&&Lend<T> {
        fn how<'a>(self) -> fn(&'a mut T) -> T {
            |x| *x
        }
    }

    pub trait LendShared<T: ?Sized> {
        fn how<'a>(self) -> fn(&'a mut T) -> &'a T;
    }

    impl<T: ?Sized + Sync> LendShared<T> for &&Lend<T> {
        fn how<'a>(self) -> fn(&'a mut T) -> &'a T {
            |x| x
        }
    }

    pub trait LendMut<T: ?Sized> {
        fn how<'a>(self) -> fn(&'a mut T) -> &'a mut T;
    }

    impl<T: ?Sized> LendMut<T> for &Lend<T> {
        fn how<'a>(self) -> fn(&'a mut T) -> &'a mut T {
            |x| x
        }
    }

    /// A fallback of a `#[fallback]`, called with the guarded fn's arguments and the error:
    /// `fallback_with::<Ret, _>((id, error)).to(from_cache)`. The arguments come first, so
    /// their types are known when the fallback's bound is checked: a fallback of the wrong
    /// shape fails it at its path, and the message names the arguments it should take.
    pub fn fallback_with<R, Args>(arguments: Args) -> FallbackArguments<R, Args> {
        FallbackArguments(arguments, core::marker::PhantomData)
    }

    pub struct FallbackArguments<R, Args>(Args, core::marker::PhantomData<fn() -> R>);

    impl<R, Args> FallbackArguments<R, Args> {
        pub fn to<F: FallbackFn<Args, R>>(self, fallback: F) -> F::Future {
            fallback.call(self.0)
        }

        /// [`to`](Self::to) for a plain fn's fallback, itself a plain fn.
        pub fn to_blocking<F: BlockingFallbackFn<Args, R>>(self, fallback: F) -> R {
            fallback.call_blocking(self.0)
        }
    }

    /// A plain fn taking `Args`, spread, and returning `R`: a plain guarded fn's fallback,
    /// checked as [`FallbackFn`] is.
    pub trait BlockingFallbackFn<Args, R> {
        fn call_blocking(self, arguments: Args) -> R;
    }

    /// An `async fn` taking `Args`, spread, and returning `R`. A fallback of the wrong
    /// shape fails one of an impl's bounds, and rustc's message names the bound: "expected
    /// function that takes 3 arguments", "expected ... to resolve to `Result<..>`", with
    /// the whole `FallbackFn<(arguments.., error), Result<..>>` it should implement.
    pub trait FallbackFn<Args, R> {
        type Future: core::future::Future<Output = R>;
        fn call(self, arguments: Args) -> Self::Future;
    }

    macro_rules! fallback_fns {
        ($($arg:ident $value:ident)*) => {
            impl<F, Fut, R, $($arg,)*> FallbackFn<($($arg,)*), R> for F
            where
                F: FnOnce($($arg),*) -> Fut,
                Fut: core::future::Future<Output = R>,
            {
                type Future = Fut;
                fn call(self, ($($value,)*): ($($arg,)*)) -> Fut {
                    self($($value),*)
                }
            }

            impl<F, R, $($arg,)*> BlockingFallbackFn<($($arg,)*), R> for F
            where
                F: FnOnce($($arg),*) -> R,
            {
                fn call_blocking(self, ($($value,)*): ($($arg,)*)) -> R {
                    self($($value),*)
                }
            }
        };
    }

    // The error alone, up to a receiver and eleven arguments.
    fallback_fns!(A a);
    fallback_fns!(A a B b);
    fallback_fns!(A a B b C c);
    fallback_fns!(A a B b C c D d);
    fallback_fns!(A a B b C c D d G g);
    fallback_fns!(A a B b C c D d G g H h);
    fallback_fns!(A a B b C c D d G g H h I i);
    fallback_fns!(A a B b C c D d G g H h I i J j);
    fallback_fns!(A a B b C c D d G g H h I i J j K k);
    fallback_fns!(A a B b C c D d G g H h I i J j K k L l);
    fallback_fns!(A a B b C c D d G g H h I i J j K k L l M m);
    fallback_fns!(A a B b C c D d G g H h I i J j K k L l M m N n);
    fallback_fns!(A a B b C c D d G g H h I i J j K k L l M m N n O o);

    /// An argument on its way into one attempt of a hedged body, shared with the others:
    /// `(&&Share::of(x)).how()(x)` gives the body a copy of `*x` when `T: Copy`, and the
    /// `&T` otherwise (autoref specialization, as `Lend`).
    pub struct Share<T: ?Sized>(core::marker::PhantomData<fn(&T)>);

    impl<T: ?Sized> Share<T> {
        pub fn of(_: &T) -> Self {
            Share(core::marker::PhantomData)
        }
    }

    pub trait ShareCopy<T> {
        fn how<'a>(self) -> fn(&'a T) -> T;
    }

    impl<T: Copy> ShareCopy<T> for &&Share<T> {
        fn how<'a>(self) -> fn(&'a T) -> T {
            |x| *x
        }
    }

    pub trait ShareRef<T: ?Sized> {
        fn how<'a>(self) -> fn(&'a T) -> &'a T;
    }

    impl<T: ?Sized> ShareRef<T> for &Share<T> {
        fn how<'a>(self) -> fn(&'a T) -> &'a T {
            |x| x
        }
    }

    /// A body's error on its way into the pipeline: `(&&Carry(&e)).rejection()` is what
    /// `AsRejection` says of `e` when its type implements it, `None` otherwise, so every
    /// error type compiles (autoref specialization, as `Lend`).
    pub struct Carry<'a, E>(pub &'a E);

    pub trait CarryRejection<'a> {
        fn rejection(self) -> Option<&'a crate::Error>;
    }

    impl<'a, E: crate::AsRejection> CarryRejection<'a> for &&Carry<'a, E> {
        fn rejection(self) -> Option<&'a crate::Error> {
            self.0.as_rejection()
        }
    }

    pub trait CarryNothing<'a> {
        fn rejection(self) -> Option<&'a crate::Error>;
    }

    impl<'a, E> CarryNothing<'a> for &Carry<'a, E> {
        fn rejection(self) -> Option<&'a crate::Error> {
            None
        }
    }

    /// A body's error written for a retry's events: `(&&&Describe(&e)).describe(f)` uses
    /// its `Display`, else its `Debug`, else its type's name, so every error type compiles
    /// (autoref specialization, as `Carry`).
    pub struct Describe<'a, E>(pub &'a E);

    pub trait DescribeDisplay {
        fn describe(self, f: &mut fmt::Formatter<'_>) -> fmt::Result;
    }

    impl<E: fmt::Display> DescribeDisplay for &&&Describe<'_, E> {
        fn describe(self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            fmt::Display::fmt(self.0, f)
        }
    }

    pub trait DescribeDebug {
        fn describe(self, f: &mut fmt::Formatter<'_>) -> fmt::Result;
    }

    impl<E: fmt::Debug> DescribeDebug for &&Describe<'_, E> {
        fn describe(self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            fmt::Debug::fmt(self.0, f)
        }
    }

    pub trait DescribeType {
        fn describe(self, f: &mut fmt::Formatter<'_>) -> fmt::Result;
    }

    impl<E> DescribeType for &Describe<'_, E> {
        fn describe(self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str(std::any::type_name::<E>())
        }
    }
}

#[cfg(test)]
mod tests {
    //! The checks the attributes run at compile time, which keep every invalid config from
    //! reaching the registry; run here on configs no attribute can spell today.

    use crate::__private::{refused, refused_alone, refused_besides, refused_name};
    use crate::{RateLimiterConfig, RetryConfig};
    use std::time::Duration;

    const MAX_DELAY_REFUSED: &str =
        "`max_delay` must not be shorter than `base_delay` (`max_delay` is 60s unless set)";

    #[test]
    fn an_argument_is_refused_only_when_the_whole_config_is() {
        let two_minutes = Duration::from_secs(120);
        let alone = RetryConfig::DEFAULT.base_delay(two_minutes).validate();
        // Alone, it breaks the rule against the default `max_delay`: reported at it.
        assert_eq!(
            refused(alone, alone, "base_delay", &["base_delay"]),
            Some(MAX_DELAY_REFUSED)
        );
        // Beside a `max_delay` that allows it, nothing is refused.
        let whole = RetryConfig::DEFAULT
            .base_delay(two_minutes)
            .max_delay(Duration::from_secs(300))
            .validate();
        let given = ["base_delay", "max_delay"];
        assert_eq!(whole, Ok(()));
        assert_eq!(refused(alone, whole, "base_delay", &given), None);
        // Beside one that does not, the refusal is `max_delay`'s, reported there alone.
        let whole = RetryConfig::DEFAULT
            .base_delay(two_minutes)
            .max_delay(Duration::from_secs(90))
            .validate();
        let fine = RetryConfig::DEFAULT.validate();
        assert_eq!(refused(alone, whole, "base_delay", &given), None);
        assert_eq!(
            refused(fine, whole, "max_delay", &given),
            Some(MAX_DELAY_REFUSED)
        );
        // A value refused on its own is reported beside any other refusal.
        let zero = RetryConfig::DEFAULT.max_attempts(0).validate();
        let whole = RetryConfig::DEFAULT
            .max_attempts(0)
            .exponential_base(0.5)
            .validate();
        let half = RetryConfig::DEFAULT.exponential_base(0.5).validate();
        let given = ["max_attempts", "exponential_base"];
        assert!(refused(zero, whole, "max_attempts", &given).is_some());
        assert!(refused(half, whole, "exponential_base", &given).is_some());
    }

    #[test]
    fn a_rule_between_arguments_is_reported_at_the_argument_it_names() {
        let whole = RateLimiterConfig::DEFAULT
            .algorithm(crate::Algorithm::FixedWindow)
            .burst(5)
            .validate();
        let fine = RateLimiterConfig::DEFAULT.validate();
        let given = ["algorithm", "burst"];
        assert!(refused(fine, whole, "burst", &given).is_some());
        assert_eq!(refused(fine, whole, "algorithm", &given), None);
    }

    #[test]
    fn without_a_whole_config_any_refusal_alone_is_the_argument_s() {
        let alone = RetryConfig::DEFAULT
            .base_delay(Duration::from_secs(120))
            .validate();
        assert_eq!(refused_alone(alone), Some(MAX_DELAY_REFUSED));
        assert_eq!(refused_alone(RetryConfig::DEFAULT.validate()), None);
    }

    #[test]
    fn a_refusal_of_a_field_no_argument_set_is_reported_once_at_the_attribute() {
        let whole = RetryConfig::DEFAULT
            .base_delay(Duration::from_secs(120))
            .validate();
        let fine = RetryConfig::DEFAULT.validate();
        // Names `max_delay`, which no argument set, and every argument passed alone.
        assert!(refused_besides(whole, &[fine, fine], &["base_delay", "jitter"]).is_some());
        // Reported at the argument instead when one was refused alone, or when it is named.
        assert_eq!(refused_besides(whole, &[whole], &["base_delay"]), None);
        assert_eq!(refused_besides(whole, &[fine], &["max_delay"]), None);
        assert_eq!(refused_besides(fine, &[fine], &["base_delay"]), None);
    }

    #[test]
    fn a_blank_name_is_refused() {
        assert_eq!(refused_name(""), Some("`name` must not be empty"));
        assert_eq!(refused_name(" \t"), Some("`name` must not be empty"));
        assert_eq!(refused_name("payments"), None);
    }
}
