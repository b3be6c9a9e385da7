#[circuit_breaker]
fn fetch<'life0, 'async_trait>(
    &'life0 self,
    id: u64,
) -> ::core::pin::Pin<Box<dyn ::core::future::Future<Output = Result<Item, Error>> + ::core::marker::Send + 'async_trait>>
where
    'life0: 'async_trait,
    Self: 'async_trait,
{
    Box::pin(async move { self.store.get(id).await })
}
