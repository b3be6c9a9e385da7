use proc_macro::TokenStream;
#[proc_macro_attribute] pub fn circuit_breaker(_a: TokenStream, i: TokenStream) -> TokenStream { i }
#[proc_macro_attribute] pub fn retry(_a: TokenStream, i: TokenStream) -> TokenStream { i }
#[proc_macro_attribute] pub fn timeout(_a: TokenStream, i: TokenStream) -> TokenStream { i }
#[proc_macro_attribute] pub fn bulkhead(_a: TokenStream, i: TokenStream) -> TokenStream { i }
#[proc_macro_attribute] pub fn rate_limit(_a: TokenStream, i: TokenStream) -> TokenStream { i }
