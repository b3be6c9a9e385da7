use crate::error::InvalidConfig;

/// How a [`Fallback`](crate::Fallback) is set up. It has no settings yet: which errors fall
/// back and to what are given with each call. It exists so that a fallback is an instance of
/// the registry like the other policies, and so that settings can be added later without
/// breaking anyone (it is `#[non_exhaustive]`).
///
/// ```
/// use resilience::FallbackConfig;
/// assert!(FallbackConfig::DEFAULT.validate().is_ok());
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct FallbackConfig {}

impl FallbackConfig {
    /// The defaults, usable in `const` and `static` items.
    pub const DEFAULT: Self = Self {};

    /// Checks the settings; there are none to refuse yet.
    ///
    /// # Errors
    ///
    /// None today; the signature matches the other configs'.
    ///
    /// ```
    /// # use resilience::FallbackConfig;
    /// assert!(FallbackConfig::default().validate().is_ok());
    /// ```
    pub const fn validate(&self) -> Result<(), InvalidConfig> {
        Ok(())
    }
}
