async fn search(
    self: Arc<Self>,
    query: String,
    limit: u32,
    region: &str,
) -> Result<Hits, SearchError> {
    static __RESILIENCE_0: ::resilience::__private::CallSite<
        ::resilience::HedgeConfig,
    > = {
        const __RESILIENCE_CONFIG: ::resilience::HedgeConfig = ::resilience::HedgeConfig::DEFAULT
            .delay(::resilience::__private::Duration::new(0u64, 50000000u32))
            .max_attempts(3);
        const _: () = if let ::core::option::Option::Some(__resilience_message) = ::resilience::__private::refused(
            ::resilience::HedgeConfig::DEFAULT
                .delay(::resilience::__private::Duration::new(0u64, 50000000u32))
                .validate(),
            __RESILIENCE_CONFIG.validate(),
            "delay",
            &["delay", "max_attempts"],
        ) {
            ::core::panic!("{}", __resilience_message)
        };
        const _: () = if let ::core::option::Option::Some(__resilience_message) = ::resilience::__private::refused(
            ::resilience::HedgeConfig::DEFAULT.max_attempts(3).validate(),
            __RESILIENCE_CONFIG.validate(),
            "max_attempts",
            &["delay", "max_attempts"],
        ) {
            ::core::panic!("{}", __resilience_message)
        };
        const _: () = if let ::core::option::Option::Some(__resilience_message) = ::resilience::__private::refused_besides(
            __RESILIENCE_CONFIG.validate(),
            &[
                ::resilience::HedgeConfig::DEFAULT
                    .delay(::resilience::__private::Duration::new(0u64, 50000000u32))
                    .validate(),
                ::resilience::HedgeConfig::DEFAULT.max_attempts(3).validate(),
            ],
            &["delay", "max_attempts"],
        ) {
            ::core::panic!("{}", __resilience_message)
        };
        ::resilience::__private::CallSite::method(
            ::core::module_path!(),
            "search",
            __RESILIENCE_CONFIG,
            ::resilience::__private::Location::new(
                ::core::file!(),
                ::core::line!(),
                ::core::column!(),
            ),
        )
    };
    static __RESILIENCE_1: ::resilience::__private::CallSite<
        ::resilience::CircuitBreakerConfig,
    > = {
        const __RESILIENCE_CONFIG: ::resilience::CircuitBreakerConfig = ::resilience::CircuitBreakerConfig::DEFAULT;
        const _: () = if let ::core::option::Option::Some(__resilience_message) = ::resilience::__private::refused_besides(
            __RESILIENCE_CONFIG.validate(),
            &[],
            &[],
        ) {
            ::core::panic!("{}", __resilience_message)
        };
        const _: () = if let ::core::option::Option::Some(__resilience_message) = ::resilience::__private::refused_name(
            "search",
        ) {
            ::core::panic!("{}", __resilience_message)
        };
        ::resilience::__private::CallSite::shared(
            "search",
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
    let __resilience_shared = (&self, &query, &limit);
    let __resilience_outcome = __RESILIENCE_0
        .get_for::<Self>()
        .layer(move |_| {
            __RESILIENCE_1
                .get_for::<Self>()
                .layer(
                    |_: &_| true,
                    move || ::resilience::__private::body_with(
                        async move {
                            let __resilience_ret = async move {
                                let (__resilience_self, query, limit) = __resilience_shared;
                                #[allow(unused_imports)]
                                use ::resilience::__private::{
                                    ShareCopy as _, ShareRef as _,
                                };
                                let __resilience_self = (&&::resilience::__private::Share::of(
                                    __resilience_self,
                                ))
                                    .how()(__resilience_self);
                                let query = (&&::resilience::__private::Share::of(query))
                                    .how()(query);
                                let limit = (&&::resilience::__private::Share::of(limit))
                                    .how()(limit);
                                if let ::core::option::Option::Some(__resilience_ret) = ::core::option::Option::None::<
                                    Result<Hits, SearchError>,
                                > {
                                    #[allow(unreachable_code)] return __resilience_ret;
                                }
                                let __resilience_ret: Result<Hits, SearchError> = {
                                    __resilience_self
                                        .replica(region)
                                        .search(&query, limit)
                                        .await
                                };
                                #[allow(unreachable_code)] __resilience_ret
                            }
                                .await;
                            <Result<
                                Hits,
                                SearchError,
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
                    ),
                )
        })
        .await;
    <Result<
        Hits,
        SearchError,
    > as ::resilience::__private::Guarded>::from_outcome(__resilience_outcome)
}
