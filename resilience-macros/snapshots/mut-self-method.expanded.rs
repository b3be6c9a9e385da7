async fn query(
    &mut self,
    sql: &str,
    rows: &mut Vec<u32>,
    label: String,
) -> Result<usize, DbError> {
    static __RESILIENCE_0: ::resilience::__private::CallSite<
        ::resilience::RetryConfig,
    > = {
        const __RESILIENCE_CONFIG: ::resilience::RetryConfig = ::resilience::RetryConfig::DEFAULT
            .max_attempts(ATTEMPTS)
            .backoff(::resilience::Backoff::Linear);
        const _: () = if let ::core::option::Option::Some(__resilience_message) = ::resilience::__private::refused(
            ::resilience::RetryConfig::DEFAULT.max_attempts(ATTEMPTS).validate(),
            __RESILIENCE_CONFIG.validate(),
            "max_attempts",
            &["max_attempts", "backoff"],
        ) {
            ::core::panic!("{}", __resilience_message)
        };
        const _: () = if let ::core::option::Option::Some(__resilience_message) = ::resilience::__private::refused(
            ::resilience::RetryConfig::DEFAULT
                .backoff(::resilience::Backoff::Linear)
                .validate(),
            __RESILIENCE_CONFIG.validate(),
            "backoff",
            &["max_attempts", "backoff"],
        ) {
            ::core::panic!("{}", __resilience_message)
        };
        const _: () = if let ::core::option::Option::Some(__resilience_message) = ::resilience::__private::refused_besides(
            __RESILIENCE_CONFIG.validate(),
            &[
                ::resilience::RetryConfig::DEFAULT.max_attempts(ATTEMPTS).validate(),
                ::resilience::RetryConfig::DEFAULT
                    .backoff(::resilience::Backoff::Linear)
                    .validate(),
            ],
            &["max_attempts", "backoff"],
        ) {
            ::core::panic!("{}", __resilience_message)
        };
        ::resilience::__private::CallSite::method(
            ::core::module_path!(),
            "query",
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
            .duration(::resilience::__private::Duration::new(0u64, 250000000u32));
        const _: () = if let ::core::option::Option::Some(__resilience_message) = ::resilience::__private::refused(
            ::resilience::TimeoutConfig::DEFAULT
                .duration(::resilience::__private::Duration::new(0u64, 250000000u32))
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
                    .duration(::resilience::__private::Duration::new(0u64, 250000000u32))
                    .validate(),
            ],
            &["duration"],
        ) {
            ::core::panic!("{}", __resilience_message)
        };
        ::resilience::__private::CallSite::method(
            ::core::module_path!(),
            "query",
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
    let mut label = label;
    let __resilience_reborrow = (self, rows, &mut label);
    let __resilience_outcome = __RESILIENCE_0
        .get_for::<Self>()
        .layer(
            __resilience_reborrow,
            |_: &_| true,
            |_: &_| ::core::option::Option::None,
            |
                __resilience_error: &<Result<
                    usize,
                    DbError,
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
                    &mut *__resilience_lent.2,
                );
                let __resilience_outcome = __RESILIENCE_1
                    .get_for::<Self>()
                    .layer(move || ::resilience::__private::body_with(
                        async move {
                            let __resilience_ret = async move {
                                let (__resilience_self, rows, label) = __resilience_reborrow;
                                #[allow(unused_imports)]
                                use ::resilience::__private::{
                                    LendCopy as _, LendMut as _, LendShared as _,
                                };
                                let label = (&&&::resilience::__private::Lend::of(&*label))
                                    .how()(label);
                                if let ::core::option::Option::Some(__resilience_ret) = ::core::option::Option::None::<
                                    Result<usize, DbError>,
                                > {
                                    #[allow(unreachable_code)] return __resilience_ret;
                                }
                                let __resilience_ret: Result<usize, DbError> = {
                                    __resilience_self.calls += 1;
                                    tracing::debug!(
                                        "{__resilience_self} runs {sql} for {label}"
                                    );
                                    rows.push(__resilience_self.calls);
                                    Ok(rows.len())
                                };
                                #[allow(unreachable_code)] __resilience_ret
                            }
                                .await;
                            <Result<
                                usize,
                                DbError,
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
        usize,
        DbError,
    > as ::resilience::__private::Guarded>::from_outcome(__resilience_outcome)
}
