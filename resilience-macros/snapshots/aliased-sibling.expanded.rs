async fn call() -> Result<(), Error> {
    static __RESILIENCE_0: ::resilience::__private::CallSite<
        ::resilience::RetryConfig,
    > = {
        const __RESILIENCE_CONFIG: ::resilience::RetryConfig = ::resilience::RetryConfig::DEFAULT
            .max_attempts(3);
        const _: () = if let ::core::option::Option::Some(__resilience_message) = ::resilience::__private::refused(
            ::resilience::RetryConfig::DEFAULT.max_attempts(3).validate(),
            __RESILIENCE_CONFIG.validate(),
            "max_attempts",
            &["max_attempts"],
        ) {
            ::core::panic!("{}", __resilience_message)
        };
        const _: () = if let ::core::option::Option::Some(__resilience_message) = ::resilience::__private::refused_besides(
            __RESILIENCE_CONFIG.validate(),
            &[::resilience::RetryConfig::DEFAULT.max_attempts(3).validate()],
            &["max_attempts"],
        ) {
            ::core::panic!("{}", __resilience_message)
        };
        ::resilience::__private::CallSite::function(
            ::core::module_path!(),
            "call",
            __RESILIENCE_CONFIG,
            ::resilience::__private::Location::new(
                ::core::file!(),
                ::core::line!(),
                ::core::column!(),
            ),
        )
    };
    static __RESILIENCE_1: ::resilience::__private::CallSite<
        ::resilience::TimeoutConfig,
    > = {
        const __RESILIENCE_CONFIG: ::resilience::TimeoutConfig = ::resilience::TimeoutConfig::DEFAULT
            .duration(::resilience::__private::Duration::new(0u64, 100000000u32));
        const _: () = if let ::core::option::Option::Some(__resilience_message) = ::resilience::__private::refused(
            ::resilience::TimeoutConfig::DEFAULT
                .duration(::resilience::__private::Duration::new(0u64, 100000000u32))
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
                    .duration(::resilience::__private::Duration::new(0u64, 100000000u32))
                    .validate(),
            ],
            &["duration"],
        ) {
            ::core::panic!("{}", __resilience_message)
        };
        ::resilience::__private::CallSite::function(
            ::core::module_path!(),
            "call",
            __RESILIENCE_CONFIG,
            ::resilience::__private::Location::new(
                ::core::file!(),
                ::core::line!(),
                ::core::column!(),
            ),
        )
    };
    static __RESILIENCE_DECLARED: [::resilience::__private::Declaration; 2usize] = [
        ::resilience::__private::Declaration::new(&__RESILIENCE_0),
        ::resilience::__private::Declaration::new(&__RESILIENCE_1),
    ];
    ::resilience::__private::inventory::submit!(
        ::resilience::__private::Declarations::new(& __RESILIENCE_DECLARED)
    );
    let __resilience_outcome = __RESILIENCE_0
        .get()
        .layer(
            (),
            |_: &_| true,
            |_: &_| ::core::option::Option::None,
            |
                __resilience_error: &<Result<
                    (),
                    Error,
                > as ::resilience::__private::Guarded>::Err,
                __resilience_f: &mut ::core::fmt::Formatter<'_>|
            {
                use ::resilience::__private::{
                    DescribeDebug as _, DescribeDisplay as _, DescribeType as _,
                };
                (&&&::resilience::__private::Describe(__resilience_error))
                    .describe(__resilience_f)
            },
            move |()| async move {
                (
                    (),
                    __RESILIENCE_1
                        .get()
                        .layer(move || ::resilience::__private::body_with(
                            async move {
                                let __resilience_ret = async move {
                                    if let ::core::option::Option::Some(__resilience_ret) = ::core::option::Option::None::<
                                        Result<(), Error>,
                                    > {
                                        #[allow(unreachable_code)] return __resilience_ret;
                                    }
                                    let __resilience_ret: Result<(), Error> = { Ok(()) };
                                    #[allow(unreachable_code)] __resilience_ret
                                }
                                    .await;
                                <Result<
                                    (),
                                    Error,
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
                        .await,
                )
            },
        )
        .await;
    <Result<
        (),
        Error,
    > as ::resilience::__private::Guarded>::from_outcome(__resilience_outcome)
}
