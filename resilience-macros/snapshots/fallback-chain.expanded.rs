async fn get_user(&self, id: u64, region: String) -> Result<User, AppError> {
    static __RESILIENCE_0: ::resilience::__private::CallSite<
        ::resilience::FallbackConfig,
    > = {
        const __RESILIENCE_CONFIG: ::resilience::FallbackConfig = ::resilience::FallbackConfig::DEFAULT;
        const _: () = if let ::core::option::Option::Some(__resilience_message) = ::resilience::__private::refused_besides(
            __RESILIENCE_CONFIG.validate(),
            &[],
            &[],
        ) {
            ::core::panic!("{}", __resilience_message)
        };
        ::resilience::__private::CallSite::method(
            ::core::module_path!(),
            "get_user",
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
            "users",
        ) {
            ::core::panic!("{}", __resilience_message)
        };
        ::resilience::__private::CallSite::shared(
            "users",
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
    let mut id = id;
    let mut region = region;
    let __resilience_reborrow = (&mut id, &mut region);
    let __resilience_outcome = __RESILIENCE_0
        .get_for::<Self>()
        .layer(
            __resilience_reborrow,
            ::resilience::__private::predicate::<Result<User, AppError>>(is_outage),
            move |__resilience_lent| async move {
                let __resilience_reborrow = (
                    &mut *__resilience_lent.0,
                    &mut *__resilience_lent.1,
                );
                let __resilience_outcome = __RESILIENCE_1
                    .get_for::<Self>()
                    .layer(
                        |_: &_| true,
                        move || ::resilience::__private::body_with(
                            async move {
                                let __resilience_ret = async move {
                                    let (id, region) = __resilience_reborrow;
                                    #[allow(unused_imports)]
                                    use ::resilience::__private::{
                                        LendCopy as _, LendMut as _, LendShared as _,
                                    };
                                    let id = (&&&::resilience::__private::Lend::of(&*id))
                                        .how()(id);
                                    let region = (&&&::resilience::__private::Lend::of(
                                        &*region,
                                    ))
                                        .how()(region);
                                    if let ::core::option::Option::Some(__resilience_ret) = ::core::option::Option::None::<
                                        Result<User, AppError>,
                                    > {
                                        #[allow(unreachable_code)] return __resilience_ret;
                                    }
                                    let __resilience_ret: Result<User, AppError> = {
                                        self.primary.get(id, &region).await
                                    };
                                    #[allow(unreachable_code)] __resilience_ret
                                }
                                    .await;
                                <Result<
                                    User,
                                    AppError,
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
                    .await;
                (__resilience_lent, __resilience_outcome)
            },
        )
        .or_lent(move |__resilience_lent, __resilience_error| async move {
            let __resilience_reborrow = (
                &mut *__resilience_lent.0,
                &mut *__resilience_lent.1,
            );
            let __resilience_outcome = ::resilience::__private::body_with(
                    async move {
                        let (id, region) = __resilience_reborrow;
                        #[allow(unused_imports)]
                        use ::resilience::__private::{
                            LendCopy as _, LendMut as _, LendShared as _,
                        };
                        let id = (&&&::resilience::__private::Lend::of(&*id)).how()(id);
                        let region = (&&&::resilience::__private::Lend::of(&*region))
                            .how()(region);
                        let __resilience_ret = ::resilience::__private::fallback_with::<
                            Result<User, AppError>,
                            _,
                        >((self, id, region, __resilience_error))
                            .to(Self::from_cache)
                            .await;
                        <Result<
                            User,
                            AppError,
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
                .await;
            (__resilience_lent, __resilience_outcome)
        })
        .or_lent(move |__resilience_lent, __resilience_error| async move {
            let __resilience_reborrow = (
                &mut *__resilience_lent.0,
                &mut *__resilience_lent.1,
            );
            let __resilience_outcome = ::resilience::__private::body_with(
                    async move {
                        let (id, region) = __resilience_reborrow;
                        #[allow(unused_imports)]
                        use ::resilience::__private::{
                            LendCopy as _, LendMut as _, LendShared as _,
                        };
                        let id = (&&&::resilience::__private::Lend::of(&*id)).how()(id);
                        let region = (&&&::resilience::__private::Lend::of(&*region))
                            .how()(region);
                        let __resilience_ret = ::resilience::__private::fallback_with::<
                            Result<User, AppError>,
                            _,
                        >((self, id, region, __resilience_error))
                            .to(from_replica)
                            .await;
                        <Result<
                            User,
                            AppError,
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
                .await;
            (__resilience_lent, __resilience_outcome)
        })
        .outcome()
        .await;
    <Result<
        User,
        AppError,
    > as ::resilience::__private::Guarded>::from_outcome(__resilience_outcome)
}
