async fn fetch(key: String, shard: u32) -> Result<Value, FetchError> {
    static __RESILIENCE_0: ::resilience::__private::CallSite<
        ::resilience::RetryConfig,
    > = {
        const __RESILIENCE_CONFIG: ::resilience::RetryConfig = ::resilience::RetryConfig::DEFAULT
            .max_attempts(2);
        const _: () = if let ::core::option::Option::Some(__resilience_message) = ::resilience::__private::refused(
            ::resilience::RetryConfig::DEFAULT.max_attempts(2).validate(),
            __RESILIENCE_CONFIG.validate(),
            "max_attempts",
            &["max_attempts"],
        ) {
            ::core::panic!("{}", __resilience_message)
        };
        const _: () = if let ::core::option::Option::Some(__resilience_message) = ::resilience::__private::refused_besides(
            __RESILIENCE_CONFIG.validate(),
            &[::resilience::RetryConfig::DEFAULT.max_attempts(2).validate()],
            &["max_attempts"],
        ) {
            ::core::panic!("{}", __resilience_message)
        };
        ::resilience::__private::CallSite::function(
            ::core::module_path!(),
            "fetch",
            __RESILIENCE_CONFIG,
            ::resilience::__private::Location::new(
                ::core::file!(),
                ::core::line!(),
                ::core::column!(),
            ),
        )
    };
    static __RESILIENCE_1: ::resilience::__private::CallSite<
        ::resilience::HedgeConfig,
    > = {
        const __RESILIENCE_CONFIG: ::resilience::HedgeConfig = ::resilience::HedgeConfig::DEFAULT
            .delay(::resilience::__private::Duration::new(0u64, 50000000u32));
        const _: () = if let ::core::option::Option::Some(__resilience_message) = ::resilience::__private::refused(
            ::resilience::HedgeConfig::DEFAULT
                .delay(::resilience::__private::Duration::new(0u64, 50000000u32))
                .validate(),
            __RESILIENCE_CONFIG.validate(),
            "delay",
            &["delay"],
        ) {
            ::core::panic!("{}", __resilience_message)
        };
        const _: () = if let ::core::option::Option::Some(__resilience_message) = ::resilience::__private::refused_besides(
            __RESILIENCE_CONFIG.validate(),
            &[
                ::resilience::HedgeConfig::DEFAULT
                    .delay(::resilience::__private::Duration::new(0u64, 50000000u32))
                    .validate(),
            ],
            &["delay"],
        ) {
            ::core::panic!("{}", __resilience_message)
        };
        ::resilience::__private::CallSite::function(
            ::core::module_path!(),
            "fetch",
            __RESILIENCE_CONFIG,
            ::resilience::__private::Location::new(
                ::core::file!(),
                ::core::line!(),
                ::core::column!(),
            ),
        )
    };
    static __RESILIENCE_2: ::resilience::__private::CallSite<
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
            "fetch",
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
    let mut key = key;
    let mut shard = shard;
    let __resilience_reborrow = (&mut key, &mut shard);
    let __resilience_outcome = __RESILIENCE_0
        .get()
        .layer(
            __resilience_reborrow,
            |_: &_| true,
            |_: &_| ::core::option::Option::None,
            |
                __resilience_error: &<Result<
                    Value,
                    FetchError,
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
                let __resilience_outcome = {
                    let __resilience_shared = (
                        &*__resilience_reborrow.0,
                        &*__resilience_reborrow.1,
                    );
                    __RESILIENCE_1
                        .get()
                        .layer(move |_| {
                            __RESILIENCE_2
                                .get()
                                .layer(
                                    (),
                                    |_: &_| true,
                                    |_: &_| ::core::option::Option::None,
                                    |
                                        __resilience_error: &<Result<
                                            Value,
                                            FetchError,
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
                                            ::resilience::__private::body_with(
                                                    async move {
                                                        let __resilience_ret = async move {
                                                            let (key, shard) = __resilience_shared;
                                                            #[allow(unused_imports)]
                                                            use ::resilience::__private::{
                                                                ShareCopy as _, ShareRef as _,
                                                            };
                                                            let key = (&&::resilience::__private::Share::of(key))
                                                                .how()(key);
                                                            let shard = (&&::resilience::__private::Share::of(shard))
                                                                .how()(shard);
                                                            if let ::core::option::Option::Some(__resilience_ret) = ::core::option::Option::None::<
                                                                Result<Value, FetchError>,
                                                            > {
                                                                #[allow(unreachable_code)] return __resilience_ret;
                                                            }
                                                            let __resilience_ret: Result<Value, FetchError> = {
                                                                store(shard).get(&key).await
                                                            };
                                                            #[allow(unreachable_code)] __resilience_ret
                                                        }
                                                            .await;
                                                        <Result<
                                                            Value,
                                                            FetchError,
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
                                                )
                                                .await,
                                        )
                                    },
                                )
                        })
                }
                    .await;
                (__resilience_lent, __resilience_outcome)
            },
        )
        .await;
    <Result<
        Value,
        FetchError,
    > as ::resilience::__private::Guarded>::from_outcome(__resilience_outcome)
}
