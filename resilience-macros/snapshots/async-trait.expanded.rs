fn fetch<'life0, 'async_trait>(
    &'life0 self,
    id: u64,
) -> ::core::pin::Pin<
    Box<
        dyn ::core::future::Future<
            Output = Result<Item, Error>,
        > + ::core::marker::Send + 'async_trait,
    >,
>
where
    'life0: 'async_trait,
    Self: 'async_trait,
{
    ::std::boxed::Box::pin(async move {
        static __RESILIENCE_0: ::resilience::__private::CallSite<
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
            ::resilience::__private::CallSite::method(
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
        static __RESILIENCE_DECLARED: [::resilience::__private::Declaration; 1usize] = [
            ::resilience::__private::Declaration::new(&__RESILIENCE_0),
        ];
        ::resilience::__private::inventory::submit!(
            ::resilience::__private::Declarations::new(& __RESILIENCE_DECLARED)
        );
        let __resilience_outcome = __RESILIENCE_0
            .get_for::<Self>()
            .layer(
                |_: &_| true,
                move || ::resilience::__private::body_with(
                    async move {
                        let __resilience_ret = async move {
                            if let ::core::option::Option::Some(__resilience_ret) = ::core::option::Option::None::<
                                Result<Item, Error>,
                            > {
                                #[allow(unreachable_code)] return __resilience_ret;
                            }
                            let __resilience_ret: Result<Item, Error> = {
                                self.store.get(id).await
                            };
                            #[allow(unreachable_code)] __resilience_ret
                        }
                            .await;
                        <Result<
                            Item,
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
                ),
            )
            .await;
        <Result<
            Item,
            Error,
        > as ::resilience::__private::Guarded>::from_outcome(__resilience_outcome)
    })
}
