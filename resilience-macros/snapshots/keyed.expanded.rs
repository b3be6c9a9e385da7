async fn handle(user: &User, request: Request) -> Result<Response, ApiError> {
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
            "handle",
            __RESILIENCE_CONFIG,
            ::resilience::__private::Location::new(
                ::core::file!(),
                ::core::line!(),
                ::core::column!(),
            ),
        )
    };
    static __RESILIENCE_1: ::resilience::__private::CallSite<
        ::resilience::KeyedConfig<::resilience::RateLimiterConfig>,
    > = {
        const __RESILIENCE_CONFIG: ::resilience::RateLimiterConfig = ::resilience::RateLimiterConfig::DEFAULT
            .max_requests(100)
            .window(::resilience::__private::Duration::new(60u64, 0u32));
        const __RESILIENCE_KEYED: ::resilience::KeyedConfig<
            ::resilience::RateLimiterConfig,
        > = ::resilience::KeyedConfig::new(__RESILIENCE_CONFIG).max_keys(50000);
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
        const _: () = if let ::core::option::Option::Some(__resilience_message) = ::resilience::__private::refused_name(
            "api",
        ) {
            ::core::panic!("{}", __resilience_message)
        };
        const _: () = if let ::core::option::Option::Some(__resilience_message) = ::resilience::__private::refused_alone(
            ::resilience::KeyedConfig::new(::resilience::RateLimiterConfig::DEFAULT)
                .max_keys(50000)
                .validate(),
        ) {
            ::core::panic!("{}", __resilience_message)
        };
        ::resilience::__private::CallSite::shared(
            "api",
            __RESILIENCE_KEYED,
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
    let __resilience_keyed_1 = {
        #[allow(unused_imports)]
        use ::resilience::__private::{KeyOfOwned as _, KeyOfRef as _};
        __RESILIENCE_1.get().begin((&&::resilience::__private::KeyOf(&(user.id))).key())
    };
    let __resilience_keyed_1 = &__resilience_keyed_1;
    let mut request = request;
    let __resilience_reborrow = (&mut request,);
    let __resilience_outcome = __RESILIENCE_0
        .get()
        .layer(
            __resilience_reborrow,
            |_: &_| true,
            |_: &_| ::core::option::Option::None,
            |
                __resilience_error: &<Result<
                    Response,
                    ApiError,
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
                let __resilience_reborrow = (&mut *__resilience_lent.0,);
                let __resilience_outcome = __resilience_keyed_1
                    .layer(move || ::resilience::__private::body_with(
                        async move {
                            let __resilience_ret = async move {
                                let (request,) = __resilience_reborrow;
                                #[allow(unused_imports)]
                                use ::resilience::__private::{
                                    LendCopy as _, LendMut as _, LendShared as _,
                                };
                                let request = (&&&::resilience::__private::Lend::of(
                                    &*request,
                                ))
                                    .how()(request);
                                let _ = &user;
                                if let ::core::option::Option::Some(__resilience_ret) = ::core::option::Option::None::<
                                    Result<Response, ApiError>,
                                > {
                                    #[allow(unreachable_code)] return __resilience_ret;
                                }
                                let __resilience_ret: Result<Response, ApiError> = {
                                    serve(user, request).await
                                };
                                #[allow(unreachable_code)] __resilience_ret
                            }
                                .await;
                            <Result<
                                Response,
                                ApiError,
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
                    .await;
                (__resilience_lent, __resilience_outcome)
            },
        )
        .await;
    <Result<
        Response,
        ApiError,
    > as ::resilience::__private::Guarded>::from_outcome(__resilience_outcome)
}
