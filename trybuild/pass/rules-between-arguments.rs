//! A config the runtime accepts as a whole compiles, even where one of its arguments alone,
//! beside the defaults, would break a rule between fields.

use resilience::retry;

// `base_delay = "2m"` alone is refused: the default `max_delay` is 60s.
#[retry(base_delay = "2m", max_delay = "5m")]
pub async fn a() -> Result<(), resilience::Error> { Ok(()) }
// `max_delay = "50ms"` alone is refused: the default `base_delay` is 100ms.
#[retry(max_delay = "50ms", base_delay = "10ms")]
pub async fn b() -> Result<(), resilience::Error> { Ok(()) }

fn main() {}
