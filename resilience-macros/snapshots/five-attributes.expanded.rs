pub async fn charge(order: Order, cents: u64) -> Result<Receipt, PaymentError> {
    static __RESILIENCE_0: ::resilience::__private::CallSite<
        ::resilience::CircuitBreakerConfig,
    > = {
        const __RESILIENCE_CONFIG: ::resilience::CircuitBreakerConfig = ::resilience::CircuitBreakerConfig::DEFAULT
            .failure_threshold(5)
            .recovery_timeout(::resilience::__private::Duration::new(30u64, 0u32));
        const _: () = if let ::core::option::Option::Some(__resilience_message) = ::resilience::__private::refused(
            ::resilience::CircuitBreakerConfig::DEFAULT.failure_threshold(5).validate(),
            __RESILIENCE_CONFIG.validate(),
            "failure_threshold",
            &["failure_threshold", "recovery_timeout"],
        ) {
            ::core::panic!("{}", __resilience_message)
        };
        const _: () = if let ::core::option::Option::Some(__resilience_message) = ::resilience::__private::refused(
            ::resilience::CircuitBreakerConfig::DEFAULT
                .recovery_timeout(::resilience::__private::Duration::new(30u64, 0u32))
                .validate(),
            __RESILIENCE_CONFIG.validate(),
            "recovery_timeout",
            &["failure_threshold", "recovery_timeout"],
        ) {
            ::core::panic!("{}", __resilience_message)
        };
        const _: () = if let ::core::option::Option::Some(__resilience_message) = ::resilience::__private::refused_besides(
            __RESILIENCE_CONFIG.validate(),
            &[
                ::resilience::CircuitBreakerConfig::DEFAULT
                    .failure_threshold(5)
                    .validate(),
                ::resilience::CircuitBreakerConfig::DEFAULT
                    .recovery_timeout(
                        ::resilience::__private::Duration::new(30u64, 0u32),
                    )
                    .validate(),
            ],
            &["failure_threshold", "recovery_timeout"],
        ) {
            ::core::panic!("{}", __resilience_message)
        };
        const _: () = if let ::core::option::Option::Some(__resilience_message) = ::resilience::__private::refused_name(
            "payments",
        ) {
            ::core::panic!("{}", __resilience_message)
        };
        ::resilience::__private::CallSite::shared(
            "payments",
            __RESILIENCE_CONFIG,
            ::resilience::__private::Location::new(
                ::core::file!(),
                ::core::line!(),
                ::core::column!(),
            ),
        )
    };
    static __RESILIENCE_1: ::resilience::__private::CallSite<
        ::resilience::RetryConfig,
    > = {
        const __RESILIENCE_CONFIG: ::resilience::RetryConfig = ::resilience::RetryConfig::DEFAULT
            .max_attempts(3)
            .base_delay(::resilience::__private::Duration::new(0u64, 100000000u32));
        const _: () = if let ::core::option::Option::Some(__resilience_message) = ::resilience::__private::refused(
            ::resilience::RetryConfig::DEFAULT.max_attempts(3).validate(),
            __RESILIENCE_CONFIG.validate(),
            "max_attempts",
            &["max_attempts", "base_delay"],
        ) {
            ::core::panic!("{}", __resilience_message)
        };
        const _: () = if let ::core::option::Option::Some(__resilience_message) = ::resilience::__private::refused(
            ::resilience::RetryConfig::DEFAULT
                .base_delay(::resilience::__private::Duration::new(0u64, 100000000u32))
                .validate(),
            __RESILIENCE_CONFIG.validate(),
            "base_delay",
            &["max_attempts", "base_delay"],
        ) {
            ::core::panic!("{}", __resilience_message)
        };
        const _: () = if let ::core::option::Option::Some(__resilience_message) = ::resilience::__private::refused_besides(
            __RESILIENCE_CONFIG.validate(),
            &[
                ::resilience::RetryConfig::DEFAULT.max_attempts(3).validate(),
                ::resilience::RetryConfig::DEFAULT
                    .base_delay(
                        ::resilience::__private::Duration::new(0u64, 100000000u32),
                    )
                    .validate(),
            ],
            &["max_attempts", "base_delay"],
        ) {
            ::core::panic!("{}", __resilience_message)
        };
        ::resilience::__private::CallSite::function(
            ::core::module_path!(),
            "charge",
            __RESILIENCE_CONFIG,
            ::resilience::__private::Location::new(
                ::core::file!(),
                ::core::line!(),
                ::core::column!(),
            ),
        )
    };
    static __RESILIENCE_2: ::resilience::__private::CallSite<
        ::resilience::TimeoutConfig,
    > = {
        const __RESILIENCE_CONFIG: ::resilience::TimeoutConfig = ::resilience::TimeoutConfig::DEFAULT
            .duration(::resilience::__private::Duration::new(10u64, 0u32));
        const _: () = if let ::core::option::Option::Some(__resilience_message) = ::resilience::__private::refused(
            ::resilience::TimeoutConfig::DEFAULT
                .duration(::resilience::__private::Duration::new(10u64, 0u32))
                .validate(),
            __RESILIENCE_CONFIG.validate(),
            "duration",
            &["duration"],
        ) {
            ::core::panic!("{}", __resilience_message)
        };
        const _: () = if let ::core::option::Option::Some(__resilience_message) = ::resilience::__private::refused_besides(
            __RESILIENCE_CONFIG.validate(),
            &[
                ::resilience::TimeoutConfig::DEFAULT
                    .duration(::resilience::__private::Duration::new(10u64, 0u32))
                    .validate(),
            ],
            &["duration"],
        ) {
            ::core::panic!("{}", __resilience_message)
        };
        ::resilience::__private::CallSite::function(
            ::core::module_path!(),
            "charge",
            __RESILIENCE_CONFIG,
            ::resilience::__private::Location::new(
                ::core::file!(),
                ::core::line!(),
                ::core::column!(),
            ),
        )
    };
    static __RESILIENCE_3: ::resilience::__private::CallSite<
        ::resilience::BulkheadConfig,
    > = {
        const __RESILIENCE_CONFIG: ::resilience::BulkheadConfig = ::resilience::BulkheadConfig::DEFAULT
            .max_concurrent(4);
        const _: () = if let ::core::option::Option::Some(__resilience_message) = ::resilience::__private::refused(
            ::resilience::BulkheadConfig::DEFAULT.max_concurrent(4).validate(),
            __RESILIENCE_CONFIG.validate(),
            "max_concurrent",
            &["max_concurrent"],
        ) {
            ::core::panic!("{}", __resilience_message)
        };
        const _: () = if let ::core::option::Option::Some(__resilience_message) = ::resilience::__private::refused_besides(
            __RESILIENCE_CONFIG.validate(),
            &[::resilience::BulkheadConfig::DEFAULT.max_concurrent(4).validate()],
            &["max_concurrent"],
        ) {
            ::core::panic!("{}", __resilience_message)
        };
        ::resilience::__private::CallSite::function(
            ::core::module_path!(),
            "charge",
            __RESILIENCE_CONFIG,
            ::resilience::__private::Location::new(
                ::core::file!(),
                ::core::line!(),
                ::core::column!(),
            ),
        )
    };
    static __RESILIENCE_4: ::resilience::__private::CallSite<
        ::resilience::RateLimiterConfig,
    > = {
        const __RESILIENCE_CONFIG: ::resilience::RateLimiterConfig = ::resilience::RateLimiterConfig::DEFAULT
            .max_requests(100)
            .window(::resilience::__private::Duration::new(60u64, 0u32));
        const _: () = if let ::core::option::Option::Some(__resilience_message) = ::resilience::__private::refused(
            ::resilience::RateLimiterConfig::DEFAULT.max_requests(100).validate(),
            __RESILIENCE_CONFIG.validate(),
            "max_requests",
            &["max_requests", "window"],
        ) {
            ::core::panic!("{}", __resilience_message)
        };
        const _: () = if let ::core::option::Option::Some(__resilience_message) = ::resilience::__private::refused(
            ::resilience::RateLimiterConfig::DEFAULT
                .window(::resilience::__private::Duration::new(60u64, 0u32))
                .validate(),
            __RESILIENCE_CONFIG.validate(),
            "window",
            &["max_requests", "window"],
        ) {
            ::core::panic!("{}", __resilience_message)
        };
        const _: () = if let ::core::option::Option::Some(__resilience_message) = ::resilience::__private::refused_besides(
            __RESILIENCE_CONFIG.validate(),
            &[
                ::resilience::RateLimiterConfig::DEFAULT.max_requests(100).validate(),
                ::resilience::RateLimiterConfig::DEFAULT
                    .window(::resilience::__private::Duration::new(60u64, 0u32))
                    .validate(),
            ],
            &["max_requests", "window"],
        ) {
            ::core::panic!("{}", __resilience_message)
        };
        ::resilience::__private::CallSite::function(
            ::core::module_path!(),
            "charge",
            __RESILIENCE_CONFIG,
            ::resilience::__private::Location::new(
                ::core::file!(),
                ::core::line!(),
                ::core::column!(),
            ),
        )
    };
    static __RESILIENCE_DECLARED: [::resilience::__private::Declaration; 5usize] = [
        ::resilience::__private::Declaration::new(&__RESILIENCE_0),
        ::resilience::__private::Declaration::new(&__RESILIENCE_1),
        ::resilience::__private::Declaration::new(&__RESILIENCE_2),
        ::resilience::__private::Declaration::new(&__RESILIENCE_3),
        ::resilience::__private::Declaration::new(&__RESILIENCE_4),
    ];
    ::resilience::__private::inventory::submit!(
        ::resilience::__private::Declarations::new(& __RESILIENCE_DECLARED)
    );
    let mut order = order;
    let mut cents = cents;
    let __resilience_reborrow = (&mut order, &mut cents);
    let __resilience_outcome = __RESILIENCE_0
        .get()
        .layer(
            ::resilience::__private::predicate::<
                Result<Receipt, PaymentError>,
            >(is_outage),
            move || {
                __RESILIENCE_1
                    .get()
                    .layer(
                        __resilience_reborrow,
                        ::resilience::__private::predicate::<
                            Result<Receipt, PaymentError>,
                        >(is_transient),
                        |_: &_| ::core::option::Option::None,
                        |
                            __resilience_error: &<Result<
                                Receipt,
                                PaymentError,
                            > as ::resilience::__private::Guarded>::Err,
                            __resilience_f: &mut ::core::fmt::Formatter<'_>|
                        {
                            use ::resilience::__private::{
                                DescribeDebug as _, DescribeDisplay as _, DescribeType as _,
                            };
                            (&&&::resilience::__private::Describe(__resilience_error))
                                .describe(__resilience_f)
                        },
                        move |__resilience_lent| async move {
                            let __resilience_reborrow = (
                                &mut *__resilience_lent.0,
                                &mut *__resilience_lent.1,
                            );
                            let __resilience_outcome = __RESILIENCE_2
                                .get()
                                .layer(move || {
                                    __RESILIENCE_3
                                        .get()
                                        .layer(move || {
                                            __RESILIENCE_4
                                                .get()
                                                .layer(move || ::resilience::__private::body_with(
                                                    async move {
                                                        let __resilience_ret = async move {
                                                            let (order, cents) = __resilience_reborrow;
                                                            #[allow(unused_imports)]
                                                            use ::resilience::__private::{
                                                                LendCopy as _, LendMut as _, LendShared as _,
                                                            };
                                                            let order = (&&&::resilience::__private::Lend::of(&*order))
                                                                .how()(order);
                                                            let cents = (&&&::resilience::__private::Lend::of(&*cents))
                                                                .how()(cents);
                                                            if let ::core::option::Option::Some(__resilience_ret) = ::core::option::Option::None::<
                                                                Result<Receipt, PaymentError>,
                                                            > {
                                                                #[allow(unreachable_code)] return __resilience_ret;
                                                            }
                                                            let __resilience_ret: Result<Receipt, PaymentError> = {
                                                                client().charge(&order, cents).await
                                                            };
                                                            #[allow(unreachable_code)] __resilience_ret
                                                        }
                                                            .await;
                                                        <Result<
                                                            Receipt,
                                                            PaymentError,
                                                        > as ::resilience::__private::Guarded>::into_result(
                                                            __resilience_ret,
                                                        )
                                                    },
                                                    |__resilience_error| {
                                                        use ::resilience::__private::{
                                                            CarryNothing as _, CarryRejection as _,
                                                        };
                                                        (&&::resilience::__private::Carry(__resilience_error))
                                                            .rejection()
                                                    },
                                                ))
                                        })
                                })
                                .await;
                            (__resilience_lent, __resilience_outcome)
                        },
                    )
            },
        )
        .await;
    <Result<
        Receipt,
        PaymentError,
    > as ::resilience::__private::Guarded>::from_outcome(__resilience_outcome)
}
