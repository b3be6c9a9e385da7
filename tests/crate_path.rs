//! `crate = "..."`: the attributes used through a crate that re-exports `resilience`.

mod reexport {
    pub use resilience;
}

#[derive(Debug, PartialEq)]
struct Rejected;

impl From<resilience::Error> for Rejected {
    fn from(_: resilience::Error) -> Self {
        Rejected
    }
}

#[resilience::retry(crate = "reexport::resilience", max_attempts = 2, base_delay = 0)]
#[resilience::timeout("1s")]
async fn through_a_reexport() -> Result<u8, Rejected> {
    Ok(3)
}

#[tokio::test]
async fn the_expansion_names_the_given_path() {
    assert_eq!(through_a_reexport().await, Ok(3));
}
