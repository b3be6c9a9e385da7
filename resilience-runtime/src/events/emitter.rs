//! What each policy instance holds to report events: its channel, and the one entry per
//! kind of event that sends it there, to the process-wide channel and to `tracing`.

use std::fmt;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use super::channel::{self, Channel, Subscription};
use super::{trace, Detail, Event};
use crate::{CircuitState, Error, Kind};

/// One instance's reporter. Each method is called on a path that already left the
/// success path (see [`events`](crate::events)), and does nothing but a relaxed load
/// (and `tracing`'s own interest check) while nobody listens.
pub(crate) struct Emitter {
    name: Arc<str>,
    kind: Kind,
    /// Made by the first `subscribe()` on this instance.
    own: OnceLock<Channel>,
}

impl Emitter {
    pub(crate) fn new(name: &Arc<str>, kind: Kind) -> Self {
        Self {
            name: Arc::clone(name),
            kind,
            own: OnceLock::new(),
        }
    }

    pub(crate) fn subscribe(&self) -> Subscription {
        Channel::subscribe(&self.own)
    }

    pub(crate) fn transition(&self, from: CircuitState, to: CircuitState) {
        trace::transition(&self.name, from, to);
        self.send(|| Detail::StateChanged { from, to });
    }

    pub(crate) fn rejected(&self, error: &Error) {
        trace::rejected(self.kind, &self.name, error);
        self.send(|| Detail::Rejected {
            error: error.clone(),
        });
    }

    /// `error` is written only for a subscriber that reads it: it may be costly to write.
    pub(crate) fn retrying(&self, attempt: u32, delay: Duration, error: &dyn fmt::Display) {
        trace::retrying(&self.name, attempt, delay, error);
        self.send(|| Detail::Retrying {
            attempt,
            delay,
            error: error.to_string().into(),
        });
    }

    pub(crate) fn timed_out(&self, after: Duration) {
        trace::timed_out(&self.name, after);
        self.send(|| Detail::TimedOut { after });
    }

    pub(crate) fn waited(&self, waited: Duration) {
        trace::waited(self.kind, &self.name, waited);
        self.send(|| Detail::Waited { waited });
    }

    pub(crate) fn fell_back(&self, step: u32) {
        trace::fell_back(&self.name, step);
        self.send(|| Detail::FellBack { step });
    }

    pub(crate) fn shared_availability(&self, available: bool) {
        trace::shared_availability(self.kind, &self.name, available);
        self.send(|| Detail::SharedState { available });
    }

    pub(crate) fn hedged(&self, attempt: u32) {
        trace::hedged(&self.name, attempt);
        self.send(|| Detail::Hedged { attempt });
    }

    pub(crate) fn reconfigured(&self, changes: String) {
        trace::reconfigured(self.kind, &self.name, &changes);
        self.send(|| Detail::Reconfigured {
            changes: changes.into(),
        });
    }

    #[inline]
    fn send(&self, detail: impl FnOnce() -> Detail) {
        if channel::anyone() {
            self.send_listened(detail);
        }
    }

    #[cold]
    fn send_listened(&self, detail: impl FnOnce() -> Detail) {
        let own = self.own.get().filter(|own| own.listened());
        let everyone = channel::everyone().get().filter(|all| all.listened());
        if own.is_none() && everyone.is_none() {
            return;
        }
        let event = Event {
            name: Arc::clone(&self.name),
            kind: self.kind,
            detail: detail(),
        };
        match (own, everyone) {
            (Some(own), Some(everyone)) => {
                own.send(event.clone());
                everyone.send(event);
            }
            (Some(one), None) | (None, Some(one)) => one.send(event),
            (None, None) => {}
        }
    }
}
