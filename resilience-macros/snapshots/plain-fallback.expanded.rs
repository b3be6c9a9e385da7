fn user(&self, id: UserId) -> Result<User, AppError> {
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
            "user",
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
    let __resilience_reborrow = (&mut id,);
    let __resilience_outcome = __RESILIENCE_0
        .get_for::<Self>()
        .layer_blocking(
            __resilience_reborrow,
            |_: &_| true,
            move |__resilience_lent| {
                let __resilience_reborrow = (&mut *__resilience_lent.0,);
                let __resilience_outcome = __RESILIENCE_1
                    .get_for::<Self>()
                    .layer_blocking(
                        |_: &_| true,
                        move || ::resilience::__private::body_with_blocking(
                            move || {
                                let __resilience_ret = (move || {
                                    let (id,) = __resilience_reborrow;
                                    #[allow(unused_imports)]
                                    use ::resilience::__private::{
                                        LendCopy as _, LendMut as _, LendShared as _,
                                    };
                                    let id = (&&&::resilience::__private::Lend::of(&*id))
                                        .how()(id);
                                    if let ::core::option::Option::Some(__resilience_ret) = ::core::option::Option::None::<
                                        Result<User, AppError>,
                                    > {
                                        #[allow(unreachable_code)] return __resilience_ret;
                                    }
                                    let __resilience_ret: Result<User, AppError> = {
                                        self.primary.get(id)
                                    };
                                    #[allow(unreachable_code)] __resilience_ret
                                })();
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
                    );
                (__resilience_lent, __resilience_outcome)
            },
        )
        .or_lent(move |__resilience_lent, __resilience_error| {
            let __resilience_reborrow = (&mut *__resilience_lent.0,);
            let __resilience_outcome = ::resilience::__private::body_with_blocking(
                move || {
                    let (id,) = __resilience_reborrow;
                    #[allow(unused_imports)]
                    use ::resilience::__private::{
                        LendCopy as _, LendMut as _, LendShared as _,
                    };
                    let id = (&&&::resilience::__private::Lend::of(&*id)).how()(id);
                    let __resilience_ret = ::resilience::__private::fallback_with::<
                        Result<User, AppError>,
                        _,
                    >((self, id, __resilience_error))
                        .to_blocking(from_cache);
                    <Result<
                        User,
                        AppError,
                    > as ::resilience::__private::Guarded>::into_result(__resilience_ret)
                },
                |__resilience_error| {
                    use ::resilience::__private::{
                        CarryNothing as _, CarryRejection as _,
                    };
                    (&&::resilience::__private::Carry(__resilience_error)).rejection()
                },
            );
            (__resilience_lent, __resilience_outcome)
        })
        .or_lent(move |__resilience_lent, __resilience_error| {
            let __resilience_reborrow = (&mut *__resilience_lent.0,);
            let __resilience_outcome = ::resilience::__private::body_with_blocking(
                move || {
                    let (id,) = __resilience_reborrow;
                    #[allow(unused_imports)]
                    use ::resilience::__private::{
                        LendCopy as _, LendMut as _, LendShared as _,
                    };
                    let id = (&&&::resilience::__private::Lend::of(&*id)).how()(id);
                    let __resilience_ret = ::resilience::__private::fallback_with::<
                        Result<User, AppError>,
                        _,
                    >((self, id, __resilience_error))
                        .to_blocking(from_replica);
                    <Result<
                        User,
                        AppError,
                    > as ::resilience::__private::Guarded>::into_result(__resilience_ret)
                },
                |__resilience_error| {
                    use ::resilience::__private::{
                        CarryNothing as _, CarryRejection as _,
                    };
                    (&&::resilience::__private::Carry(__resilience_error)).rejection()
                },
            );
            (__resilience_lent, __resilience_outcome)
        })
        .outcome();
    <Result<
        User,
        AppError,
    > as ::resilience::__private::Guarded>::from_outcome(__resilience_outcome)
}
