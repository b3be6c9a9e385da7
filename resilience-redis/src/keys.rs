//! The names of a shared instance's keys: the prefix, then the name as a Redis Cluster
//! hash tag, so that every key of one instance lives in one slot (a script may touch
//! only keys of one slot), then what the key holds.

/// The keys of one shared breaker.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct BreakerKeys {
    /// A hash: state, generation, open deadline, failures, probe wins, lease counter.
    pub(crate) state: String,
    /// A sorted set of the half-open episode's probe leases, scored by their expiry.
    pub(crate) probes: String,
}

impl BreakerKeys {
    pub(crate) fn new(prefix: &str, name: &str) -> Self {
        Self {
            state: format!("{prefix}{{{name}}}:breaker"),
            probes: format!("{prefix}{{{name}}}:probes"),
        }
    }
}

/// The key of one shared limiter: its GCRA theoretical arrival time, in microseconds.
pub(crate) fn quota(prefix: &str, name: &str) -> String {
    format!("{prefix}{{{name}}}:quota")
}

/// The key of one user key's quota in a keyed limiter: `key` is the user key's `Debug`
/// text. The hash tag is the name and the key together, so a keyed name's quotas spread
/// over a Redis Cluster (each script touches one key); the `keyed-quota` suffix keeps them
/// apart from every unkeyed limiter's `}:quota`.
pub(crate) fn keyed_quota(prefix: &str, name: &str, key: &str) -> String {
    format!("{prefix}{{{name}:{key}}}:keyed-quota")
}

/// The channel every breaker of one prefix publishes its transitions on.
pub(crate) fn channel(prefix: &str) -> String {
    format!("{prefix}breakers")
}

/// The slot a Redis Cluster puts `key` in is computed from its hash tag: the text between
/// the first `{` and the next `}`, when not empty.
#[cfg(test)]
fn hash_tag(key: &str) -> &str {
    key.find('{')
        .and_then(|open| {
            let rest = &key[open + 1..];
            rest.find('}')
                .filter(|&close| close > 0)
                .map(|close| &rest[..close])
        })
        .unwrap_or(key)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_breaker_s_keys_share_a_slot_and_names_do_not_collide_across_prefixes() {
        let keys = BreakerKeys::new("svc-a:", "payments");
        assert_eq!(keys.state, "svc-a:{payments}:breaker");
        assert_eq!(hash_tag(&keys.state), hash_tag(&keys.probes));
        assert_eq!(hash_tag(&keys.state), "payments");
        let other = BreakerKeys::new("svc-b:", "payments");
        assert_ne!(keys.state, other.state);
        assert_ne!(keys.probes, other.probes);
        assert_ne!(quota("svc-a:", "payments"), quota("svc-b:", "payments"));
    }

    #[test]
    fn a_keyed_quota_is_one_key_per_user_key_apart_from_every_unkeyed_one() {
        let ada = keyed_quota("p:", "api", "\"ada\"");
        assert_eq!(ada, "p:{api:\"ada\"}:keyed-quota");
        assert_eq!(hash_tag(&ada), "api:\"ada\"");
        assert_ne!(ada, keyed_quota("p:", "api", "\"bob\""));
        // An unkeyed limiter whose name looks like a name and a key.
        assert_ne!(keyed_quota("p:", "api", "7"), quota("p:", "api:7"));
    }

    #[test]
    fn a_name_with_braces_still_keeps_its_keys_in_one_slot() {
        let keys = BreakerKeys::new("p:", "a}b{c");
        assert_eq!(hash_tag(&keys.state), hash_tag(&keys.probes));
    }
}
