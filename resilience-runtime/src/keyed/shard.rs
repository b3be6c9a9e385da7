//! The bounded map of keys: one shard of it, its lookups and its eviction order.
//!
//! Keys are spread over shards by hash, each a `hashbrown::HashTable` behind its own
//! `RwLock` holding at most its share of `max_keys`. A key already held is found under the
//! read lock, so calls with keys already known only share read locks and never wait on one
//! another; a new key takes its shard's write lock, and when the shard holds its share,
//! room is made in it.
//!
//! Each shard is bounded on its own, rather than all of them by one count: under one
//! count, a shard whose idle keys were swept refills from new keys landing anywhere, and
//! drifts far below its share, until its busy keys are evicted within a few new keys of
//! being used. With a fixed share, a key stays as long as fewer than its shard's share of
//! newer keys arrived since its last use. The table
//! is found by precomputed hash and compared through `Any` (keys are stored type-erased,
//! since one instance is declared before the type of its key is known); `std`'s `HashMap`
//! has no lookup by hash on stable, which is why `hashbrown`, the table `std`'s map is
//! built on, is a dependency.
//!
//! Recency is kept without a write per lookup: each shard counts its inserts, and a lookup
//! stamps its entry from that count only when the stamp differs, so keys used since the
//! last new key cost no write at all. "Least recently used" is thereby ordered by the
//! arrival of new keys, which is what eviction needs: a key used since the last new key
//! arrived is more recent than every key that was not, that new key included. A key is
//! stamped `2n` when it arrives as the `n`th and `2n + 1` when used after it, so a hot key
//! used after each of a flood of one-call keys always outranks the newest of them. (Two keys
//! both used since the same arrival are as recent as each other.)

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, PoisonError, RwLock};

use hashbrown::HashTable;

use super::config::WhenFull;
use super::key::{is, InstanceKey, StoredKey};
use super::policy::{PerKey, Standing};
use crate::time;

/// One key and its instance.
struct Entry<P> {
    hash: u64,
    key: Box<dyn StoredKey>,
    policy: Arc<P>,
    /// When the key was last used, on the shard's clock of arrivals (see [`arrived`]).
    used: AtomicU64,
}

impl<P: PerKey> Entry<P> {
    /// Whether something besides the table holds the instance: a call running now, or a
    /// handle a caller took. Such a key is never dropped under it.
    fn in_use(&self) -> bool {
        Arc::strong_count(&self.policy) > 1
    }
}

/// One shard of a keyed instance's keys.
pub(super) struct Shard<P> {
    table: RwLock<HashTable<Entry<P>>>,
    /// Its share of `max_keys`.
    capacity: usize,
    /// Keys inserted so far: the clock of [`Entry::used`].
    inserts: AtomicU64,
}

/// What [`Shard::entry`] did.
pub(super) enum Lookup<P> {
    /// The key's instance, with the number of keys dropped to make room for it.
    Found { policy: Arc<P>, evicted: u64 },
    /// Every key is in use (or open, for breakers) and a new one is not let in.
    Full,
}

impl<P: PerKey> Shard<P> {
    pub(super) fn new(capacity: usize) -> Self {
        Self {
            table: RwLock::new(HashTable::new()),
            capacity,
            inserts: AtomicU64::new(0),
        }
    }

    /// The instance of `key` if it is held, without counting it as used.
    pub(super) fn get<Q: InstanceKey + ?Sized>(&self, hash: u64, key: &Q) -> Option<Arc<P>> {
        let table = self.table.read().unwrap_or_else(PoisonError::into_inner);
        let entry = table.find(hash, |entry| is(&*entry.key, key))?;
        Some(Arc::clone(&entry.policy))
    }

    /// `f` of the instance of `key` if it is held, counting it as used; run under the read
    /// lock, so a call by a known key clones no `Arc`.
    #[inline]
    pub(super) fn with<Q: InstanceKey + ?Sized, R>(
        &self,
        hash: u64,
        key: &Q,
        f: impl FnOnce(&Arc<P>) -> R,
    ) -> Option<R> {
        let table = self.table.read().unwrap_or_else(PoisonError::into_inner);
        let entry = table.find(hash, |entry| is(&*entry.key, key))?;
        let now = used_after(self.inserts.load(Relaxed));
        // Written only when it changes: a hot key read by every thread stays a shared
        // cache line.
        if entry.used.load(Relaxed) != now {
            entry.used.store(now, Relaxed);
        }
        Some(f(&entry.policy))
    }

    /// The instance of `key`, made with `make` if the key is new; room for a new key is
    /// made as [`evict`] says.
    #[inline]
    pub(super) fn entry<Q: InstanceKey + ?Sized>(
        &self,
        hash: u64,
        key: &Q,
        when_full: WhenFull,
        make: impl FnOnce() -> Arc<P>,
    ) -> Lookup<P> {
        match self.with(hash, key, Arc::clone) {
            Some(policy) => Lookup::Found { policy, evicted: 0 },
            None => self.insert(hash, key, when_full, make),
        }
    }

    #[cold]
    fn insert<Q: InstanceKey + ?Sized>(
        &self,
        hash: u64,
        key: &Q,
        when_full: WhenFull,
        make: impl FnOnce() -> Arc<P>,
    ) -> Lookup<P> {
        let mut table = self.table.write().unwrap_or_else(PoisonError::into_inner);
        // Another caller may have inserted it between the two locks.
        if let Some(entry) = table.find(hash, |entry| is(&*entry.key, key)) {
            return Lookup::Found {
                policy: Arc::clone(&entry.policy),
                evicted: 0,
            };
        }
        let mut evicted = 0;
        if table.len() >= self.capacity {
            evicted = evict(&mut table, when_full);
            if evicted == 0 {
                return Lookup::Full;
            }
        }
        let policy = make();
        // Under the write lock: no lookup reads the count while it moves.
        let now = self.inserts.load(Relaxed) + 1;
        self.inserts.store(now, Relaxed);
        let entry = Entry {
            hash,
            key: Box::new(key.to_owned()),
            policy: Arc::clone(&policy),
            used: AtomicU64::new(arrived(now)),
        };
        table.insert_unique(hash, entry, |entry| entry.hash);
        Lookup::Found { policy, evicted }
    }

    /// The number of keys held.
    pub(super) fn len(&self) -> usize {
        self.table
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .len()
    }

    /// Calls `f` with each key (described by its `Debug`) and its instance.
    pub(super) fn for_each(&self, mut f: impl FnMut(&dyn Fn() -> String, &P)) {
        let table = self.table.read().unwrap_or_else(PoisonError::into_inner);
        for entry in table.iter() {
            f(&|| entry.key.describe(), &entry.policy);
        }
    }

    /// Drops every key: each comes back in its initial state when next used.
    pub(super) fn clear(&self) {
        self.table
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .clear();
    }
}

/// The stamp of the `n`th key to arrive in a shard.
fn arrived(n: u64) -> u64 {
    n << 1
}

/// The stamp of a key used after the `n`th arrival: more recent than that key's arrival.
fn used_after(n: u64) -> u64 {
    n << 1 | 1
}

/// Makes room in a full table; returns the number of keys dropped, 0 if none could be.
///
/// Idle keys go first, all of them at once: they carry no information, and sweeping them
/// together spares the next new keys a scan each. Only when none is idle does `when_full`
/// decide: drop the least recently used key that is neither in use nor pinned (an open
/// breaker), or drop nothing.
fn evict<P: PerKey>(table: &mut HashTable<Entry<P>>, when_full: WhenFull) -> u64 {
    let before = table.len();
    let now = time::now();
    let mut oldest: Option<(u64, u64)> = None;
    table.retain(|entry| {
        if entry.in_use() {
            return true;
        }
        match entry.policy.standing(now) {
            Standing::Idle => false,
            Standing::Busy => {
                let used = entry.used.load(Relaxed);
                if oldest.is_none_or(|(at, _)| used < at) {
                    oldest = Some((used, entry.hash));
                }
                true
            }
            Standing::Pinned => true,
        }
    });
    let idle = (before - table.len()) as u64;
    if idle > 0 || when_full == WhenFull::RejectNewKey {
        return idle;
    }
    let Some((used, hash)) = oldest else {
        return 0;
    };
    match table.find_entry(hash, |entry| {
        entry.used.load(Relaxed) == used
            && !entry.in_use()
            && matches!(entry.policy.standing(now), Standing::Busy)
    }) {
        Ok(entry) => {
            entry.remove();
            1
        }
        Err(_) => 0,
    }
}
