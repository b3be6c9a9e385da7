fn read(&mut self, path: &Path, label: String) -> Result<Vec<u8>, IoError> {
    static __RESILIENCE_0: ::resilience::__private::CallSite<
        ::resilience::CircuitBreakerConfig,
    > = {
        const __RESILIENCE_CONFIG: ::resilience::CircuitBreakerConfig = ::resilience::CircuitBreakerConfig::DEFAULT
            .failure_threshold(3);
        const _: () = if let ::core::option::Option::Some(__resilience_message) = ::resilience::__private::refused(
            ::resilience::CircuitBreakerConfig::DEFAULT.failure_threshold(3).validate(),
            __RESILIENCE_CONFIG.validate(),
            "failure_threshold",
            &["failure_threshold"],
        ) {
            ::core::panic!("{}", __resilience_message)
        };
        const _: () = if let ::core::option::Option::Some(__resilience_message) = ::resilience::__private::refused_besides(
            __RESILIENCE_CONFIG.validate(),
            &[
                ::resilience::CircuitBreakerConfig::DEFAULT
                    .failure_threshold(3)
                    .validate(),
            ],
            &["failure_threshold"],
        ) {
            ::core::panic!("{}", __resilience_message)
        };
        const _: () = if let ::core::option::Option::Some(__resilience_message) = ::resilience::__private::refused_name(
            "disk",
        ) {
            ::core::panic!("{}", __resilience_message)
        };
        ::resilience::__private::CallSite::shared(
            "disk",
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
            .base_delay(::resilience::__private::Duration::new(0u64, 10000000u32));
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
                .base_delay(::resilience::__private::Duration::new(0u64, 10000000u32))
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
                        ::resilience::__private::Duration::new(0u64, 10000000u32),
                    )
                    .validate(),
            ],
            &["max_attempts", "base_delay"],
        ) {
            ::core::panic!("{}", __resilience_message)
        };
        ::resilience::__private::CallSite::method(
            ::core::module_path!(),
            "read",
            __RESILIENCE_CONFIG,
            ::resilience::__private::Location::new(
                ::core::file!(),
                ::core::line!(),
                ::core::column!(),
            ),
        )
    };
    static __RESILIENCE_2: ::resilience::__private::CallSite<
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
        ::resilience::__private::CallSite::method(
            ::core::module_path!(),
            "read",
            __RESILIENCE_CONFIG,
            ::resilience::__private::Location::new(
                ::core::file!(),
                ::core::line!(),
                ::core::column!(),
            ),
        )
    };
    static __RESILIENCE_DECLARED: [::resilience::__private::Declaration; 3usize] = [
        ::resilience::__private::Declaration::new(&__RESILIENCE_0),
        ::resilience::__private::Declaration::new(&__RESILIENCE_1),
        ::resilience::__private::Declaration::new(&__RESILIENCE_2),
    ];
    ::resilience::__private::inventory::submit!(
        ::resilience::__private::Declarations::new(& __RESILIENCE_DECLARED)
    );
    let mut label = label;
    let __resilience_reborrow = (self, &mut label);
    let __resilience_outcome = __RESILIENCE_0
        .get_for::<Self>()
        .layer_blocking(
            |_: &_| true,
            move || {
                __RESILIENCE_1
                    .get_for::<Self>()
                    .layer_blocking(
                        __resilience_reborrow,
                        |_: &_| true,
                        |_: &_| ::core::option::Option::None,
                        |
                            __resilience_error: &<Result<
                                Vec<u8>,
                                IoError,
                            > as ::resilience::__private::Guarded>::Err,
                            __resilience_f: &mut ::core::fmt::Formatter<'_>|
                        {
                            use ::resilience::__private::{
                                DescribeDebug as _, DescribeDisplay as _, DescribeType as _,
                            };
                            (&&&::resilience::__private::Describe(__resilience_error))
                                .describe(__resilience_f)
                        },
                        move |__resilience_lent| {
                            let __resilience_reborrow = (
                                &mut *__resilience_lent.0,
                                &mut *__resilience_lent.1,
                            );
                            let __resilience_outcome = __RESILIENCE_2
                                .get_for::<Self>()
                                .layer_blocking(move || ::resilience::__private::body_with_blocking(
                                    move || {
                                        let __resilience_ret = (move || {
                                            let (__resilience_self, label) = __resilience_reborrow;
                                            #[allow(unused_imports)]
                                            use ::resilience::__private::{
                                                LendCopy as _, LendMut as _, LendShared as _,
                                            };
                                            let label = (&&&::resilience::__private::Lend::of(&*label))
                                                .how()(label);
                                            if let ::core::option::Option::Some(__resilience_ret) = ::core::option::Option::None::<
                                                Result<Vec<u8>, IoError>,
                                            > {
                                                #[allow(unreachable_code)] return __resilience_ret;
                                            }
                                            let __resilience_ret: Result<Vec<u8>, IoError> = {
                                                __resilience_self.reads += 1;
                                                let bytes = std::fs::read(path)?;
                                                tracing::debug!("{label}: {} bytes", bytes.len());
                                                Ok(bytes)
                                            };
                                            #[allow(unreachable_code)] __resilience_ret
                                        })();
                                        <Result<
                                            Vec<u8>,
                                            IoError,
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
                                ));
                            (__resilience_lent, __resilience_outcome)
                        },
                    )
            },
        );
    <Result<
        Vec<u8>,
        IoError,
    > as ::resilience::__private::Guarded>::from_outcome(__resilience_outcome)
}
