//! A bulkhead slot held by the caller, given back when dropped.

use super::policy::Bulkhead;
use super::slots;
use std::fmt;
use std::sync::Arc;

/// One of a [`Bulkhead`]'s slots, from [`Bulkhead::try_acquire`] or [`Bulkhead::acquire`];
/// given back when dropped, whether the work it guarded finished, failed, was cancelled or
/// panicked. While held it counts in [`Bulkhead::active`], exactly as a running call does.
///
/// ```
/// # use resilience::{Bulkhead, BulkheadConfig};
/// let bulkhead = Bulkhead::new("exports", BulkheadConfig::DEFAULT.max_concurrent(1)).unwrap();
/// let permit = bulkhead.try_acquire().unwrap();
/// assert!(bulkhead.try_acquire().is_err());
/// drop(permit);
/// assert_eq!(bulkhead.available(), 1);
/// ```
#[must_use = "a permit dropped at once gives its slot back at once"]
pub struct BulkheadPermit<'a> {
    bulkhead: &'a Bulkhead,
    slot: slots::Permit<'a>,
}

impl<'a> BulkheadPermit<'a> {
    pub(super) fn new(bulkhead: &'a Bulkhead, slot: slots::Permit<'a>) -> Self {
        Self { bulkhead, slot }
    }

    /// Leaves the slot of `bulkhead` taken with no guard: the caller gives it back with
    /// [`Bulkhead::release`], once.
    #[cfg(feature = "tower")]
    pub(crate) fn disarm(self, bulkhead: &Bulkhead) {
        debug_assert!(std::ptr::eq(self.bulkhead, bulkhead));
        self.slot.disarm();
    }

    /// Turns the slot into one held by `bulkhead`'s `Arc`, passing the duty of giving it
    /// back from one guard to the other.
    pub(super) fn into_owned(self, bulkhead: Arc<Bulkhead>) -> OwnedBulkheadPermit {
        debug_assert!(std::ptr::eq(self.bulkhead, &*bulkhead));
        self.slot.disarm();
        OwnedBulkheadPermit { bulkhead }
    }
}

impl fmt::Debug for BulkheadPermit<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BulkheadPermit")
            .field("bulkhead", &self.bulkhead.name())
            .finish()
    }
}

/// A [`BulkheadPermit`] that holds its bulkhead by `Arc`, from
/// [`Bulkhead::try_acquire_owned`] or [`Bulkhead::acquire_owned`], so it can move into a
/// spawned task or a stream's state. Given back when dropped.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// # use std::sync::Arc;
/// # use resilience::{Bulkhead, BulkheadConfig};
/// let bulkhead = Arc::new(Bulkhead::new("exports", BulkheadConfig::DEFAULT.max_concurrent(1)).unwrap());
/// let permit = Arc::clone(&bulkhead).acquire_owned().await.unwrap();
/// let export = tokio::spawn(async move {
///     let _slot = permit; // held until the export ends
///     "export.csv"
/// });
/// assert_eq!(export.await.unwrap(), "export.csv");
/// assert_eq!(bulkhead.available(), 1);
/// # }
/// ```
#[must_use = "a permit dropped at once gives its slot back at once"]
pub struct OwnedBulkheadPermit {
    bulkhead: Arc<Bulkhead>,
}

impl OwnedBulkheadPermit {
    /// The bulkhead this permit's slot belongs to.
    ///
    /// ```
    /// # use std::sync::Arc;
    /// # use resilience::{Bulkhead, BulkheadConfig};
    /// let bulkhead = Arc::new(Bulkhead::new("exports", BulkheadConfig::default()).unwrap());
    /// let permit = Arc::clone(&bulkhead).try_acquire_owned().unwrap();
    /// assert_eq!(permit.bulkhead().active(), 1);
    /// ```
    pub fn bulkhead(&self) -> &Arc<Bulkhead> {
        &self.bulkhead
    }
}

impl Drop for OwnedBulkheadPermit {
    fn drop(&mut self) {
        self.bulkhead.release();
    }
}

impl fmt::Debug for OwnedBulkheadPermit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OwnedBulkheadPermit")
            .field("bulkhead", &self.bulkhead.name())
            .finish()
    }
}
