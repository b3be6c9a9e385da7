//! The breaker's state machine, pure: a state and the time in, the next state out.
//!
//! The whole state fits one `u64`, so the shell in `mod.rs` moves it with one
//! compare-and-swap and a closed breaker's success path is a single load:
//!
//! ```text
//!  63  62 61            46 45                                        0
//! [ phase ][  generation  ][                 payload                  ]
//!   Closed                  consecutive failures
//!   Open                    half-open from this millisecond on (since the epoch)
//!   HalfOpen                probes in flight (23 bits) | probe successes (23 bits)
//! ```
//!
//! Every change of phase bumps the generation. A permit remembers the generation it was
//! issued in, so the outcome of a call that started before the breaker changed phase (a
//! slow call that finishes after the breaker opened and closed again) is ignored instead of
//! being counted against a state it never saw.

use std::time::Duration;

use crate::time::millis_ceil;

use super::CircuitBreakerConfig;

const PAYLOAD_BITS: u32 = 46;
const PAYLOAD: u64 = (1 << PAYLOAD_BITS) - 1;
const HALF: u32 = 23;
const HALF_MASK: u64 = (1 << HALF) - 1;
const GENERATION_MASK: u64 = 0xFFFF;

/// The most probes or probe successes the half-open payload can count.
pub(crate) const MAX_PROBES: u32 = (1 << HALF) - 1;
/// Longer recovery timeouts could not be stored as a millisecond deadline.
pub(crate) const MAX_RECOVERY: Duration = Duration::from_secs(100 * 365 * 24 * 3600);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Phase {
    Closed { failures: u64 },
    Open { until_ms: u64 },
    HalfOpen { in_flight: u32, successes: u32 },
}

#[cfg(test)]
impl Phase {
    pub(crate) fn tag(self) -> &'static str {
        match self {
            Phase::Closed { .. } => "closed",
            Phase::Open { .. } => "open",
            Phase::HalfOpen { .. } => "half-open",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct State {
    pub(crate) phase: Phase,
    pub(crate) generation: u16,
}

/// The right to report one call's outcome.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Permit {
    pub(crate) generation: u16,
    pub(crate) probe: bool,
}

/// What a finished call tells the breaker.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Report {
    Success,
    Failure,
    /// The call was dropped or panicked, or its error says nothing of the downstream.
    Abandoned,
}

impl State {
    pub(crate) const INITIAL: State = State {
        phase: Phase::Closed { failures: 0 },
        generation: 0,
    };

    /// The generation of a closed breaker's word, read without unpacking; `None` if not closed.
    #[inline]
    pub(crate) fn closed_generation(word: u64) -> Option<u16> {
        (word >> 62 == 0).then_some(((word >> PAYLOAD_BITS) & GENERATION_MASK) as u16)
    }

    /// Whether the word is closed with no failure counted, where a success changes nothing.
    #[inline]
    pub(crate) fn is_clean_closed(word: u64) -> bool {
        word >> 62 == 0 && word & PAYLOAD == 0
    }

    pub(crate) fn pack(self) -> u64 {
        let (tag, payload) = match self.phase {
            Phase::Closed { failures } => (0, failures.min(PAYLOAD)),
            Phase::Open { until_ms } => (1, until_ms.min(PAYLOAD)),
            Phase::HalfOpen {
                in_flight,
                successes,
            } => (
                2,
                (u64::from(in_flight) & HALF_MASK) << HALF | (u64::from(successes) & HALF_MASK),
            ),
        };
        tag << 62 | u64::from(self.generation) << PAYLOAD_BITS | payload
    }

    pub(crate) fn unpack(word: u64) -> State {
        let payload = word & PAYLOAD;
        let phase = match word >> 62 {
            0 => Phase::Closed { failures: payload },
            1 => Phase::Open { until_ms: payload },
            _ => Phase::HalfOpen {
                in_flight: ((payload >> HALF) & HALF_MASK) as u32,
                successes: (payload & HALF_MASK) as u32,
            },
        };
        let generation = ((word >> PAYLOAD_BITS) & GENERATION_MASK) as u16;
        State { phase, generation }
    }

    fn next_phase(self, phase: Phase) -> State {
        State {
            phase,
            generation: self.generation.wrapping_add(1),
        }
    }

    fn same_phase(self, phase: Phase) -> State {
        State {
            phase,
            generation: self.generation,
        }
    }

    fn open(self, now: Duration, config: &CircuitBreakerConfig) -> State {
        self.next_phase(Phase::Open {
            until_ms: millis_ceil(now.saturating_add(config.recovery_timeout)),
        })
    }

    /// Whether a call arriving at `now` is let through, and the state that results.
    ///
    /// `now` is the time since the breaker's epoch. A rejection carries the time left until a
    /// call could be admitted.
    pub(crate) fn admit(
        self,
        now: Duration,
        config: &CircuitBreakerConfig,
    ) -> Result<(State, Permit), Duration> {
        match self.phase {
            Phase::Closed { .. } => Ok((
                self,
                Permit {
                    generation: self.generation,
                    probe: false,
                },
            )),
            Phase::Open { until_ms } => {
                let until = Duration::from_millis(until_ms);
                if now < until {
                    return Err(until - now);
                }
                let next = self.next_phase(Phase::HalfOpen {
                    in_flight: 1,
                    successes: 0,
                });
                Ok((
                    next,
                    Permit {
                        generation: next.generation,
                        probe: true,
                    },
                ))
            }
            Phase::HalfOpen {
                in_flight,
                successes,
            } if in_flight < config.probes() => {
                let next = self.same_phase(Phase::HalfOpen {
                    in_flight: in_flight + 1,
                    successes,
                });
                Ok((
                    next,
                    Permit {
                        generation: self.generation,
                        probe: true,
                    },
                ))
            }
            // Every probe slot is taken; the next one frees when a probe finishes.
            Phase::HalfOpen { .. } => Err(Duration::ZERO),
        }
    }

    /// The state after a permitted call reports; `None` when nothing changes.
    pub(crate) fn report(
        self,
        permit: Permit,
        report: Report,
        now: Duration,
        config: &CircuitBreakerConfig,
    ) -> Option<State> {
        if permit.generation != self.generation {
            return None;
        }
        match (self.phase, permit.probe) {
            (Phase::Closed { .. }, false) => self.record(report, now, config),
            (
                Phase::HalfOpen {
                    in_flight,
                    successes,
                },
                true,
            ) => {
                let freed = self.same_phase(Phase::HalfOpen {
                    in_flight: in_flight.saturating_sub(1),
                    successes,
                });
                match report {
                    Report::Abandoned => Some(freed),
                    _ => freed.record(report, now, config).or(Some(freed)),
                }
            }
            _ => None,
        }
    }

    /// The state after an outcome recorded by hand, or by a call whose slot is already freed;
    /// `None` when nothing changes.
    pub(crate) fn record(
        self,
        report: Report,
        now: Duration,
        config: &CircuitBreakerConfig,
    ) -> Option<State> {
        match (self.phase, report) {
            (_, Report::Abandoned) | (Phase::Open { .. }, _) => None,
            (Phase::Closed { failures: 0 }, Report::Success) => None,
            (Phase::Closed { .. }, Report::Success) => {
                Some(self.same_phase(Phase::Closed { failures: 0 }))
            }
            (Phase::Closed { failures }, Report::Failure) => {
                let failures = failures + 1;
                if failures >= u64::from(config.failure_threshold) {
                    Some(self.open(now, config))
                } else {
                    Some(self.same_phase(Phase::Closed { failures }))
                }
            }
            (
                Phase::HalfOpen {
                    in_flight,
                    successes,
                },
                Report::Success,
            ) => {
                let successes = successes + 1;
                if successes >= config.success_threshold {
                    Some(self.next_phase(Phase::Closed { failures: 0 }))
                } else {
                    Some(self.same_phase(Phase::HalfOpen {
                        in_flight,
                        successes,
                    }))
                }
            }
            (Phase::HalfOpen { .. }, Report::Failure) => Some(self.open(now, config)),
        }
    }

    /// Closed, with a new generation so that calls already running are not counted.
    pub(crate) fn reset(self) -> State {
        self.next_phase(Phase::Closed { failures: 0 })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECOND: Duration = Duration::from_secs(1);

    fn config(failures: u32, successes: u32, probes: Option<u32>) -> CircuitBreakerConfig {
        CircuitBreakerConfig {
            failure_threshold: failures,
            success_threshold: successes,
            recovery_timeout: Duration::from_secs(30),
            half_open_max_calls: probes,
        }
    }

    fn fail(state: State, now: Duration, config: &CircuitBreakerConfig) -> State {
        let (state, permit) = state.admit(now, config).expect("admitted");
        state
            .report(permit, Report::Failure, now, config)
            .unwrap_or(state)
    }

    #[test]
    fn packing_round_trips() {
        let states = [
            State::INITIAL,
            State {
                phase: Phase::Closed { failures: 17 },
                generation: 65535,
            },
            State {
                phase: Phase::Open { until_ms: PAYLOAD },
                generation: 1,
            },
            State {
                phase: Phase::HalfOpen {
                    in_flight: MAX_PROBES,
                    successes: 3,
                },
                generation: 9,
            },
            State {
                phase: Phase::HalfOpen {
                    in_flight: 0,
                    successes: MAX_PROBES,
                },
                generation: 0,
            },
        ];
        for state in states {
            assert_eq!(State::unpack(state.pack()), state);
        }
    }

    #[test]
    fn consecutive_failures_open_and_a_success_resets_the_count() {
        let config = config(3, 1, None);
        let mut state = State::INITIAL;
        state = fail(state, SECOND, &config);
        state = fail(state, SECOND, &config);
        let (s, permit) = state.admit(SECOND, &config).unwrap();
        state = s.report(permit, Report::Success, SECOND, &config).unwrap();
        assert_eq!(state.phase, Phase::Closed { failures: 0 });
        for _ in 0..3 {
            state = fail(state, SECOND, &config);
        }
        assert_eq!(state.phase, Phase::Open { until_ms: 31_000 });
        assert_eq!(state.admit(SECOND * 10, &config), Err(SECOND * 21));
    }

    #[test]
    fn recovery_lets_a_limited_number_of_probes_through() {
        let config = config(1, 2, Some(2));
        let open = fail(State::INITIAL, Duration::ZERO, &config);
        let (s1, p1) = open.admit(SECOND * 30, &config).unwrap();
        let (s2, p2) = s1.admit(SECOND * 30, &config).unwrap();
        assert!(p1.probe && p2.probe);
        assert_eq!(s2.admit(SECOND * 30, &config), Err(Duration::ZERO));
        let s3 = s2
            .report(p1, Report::Success, SECOND * 30, &config)
            .unwrap();
        assert_eq!(
            s3.phase,
            Phase::HalfOpen {
                in_flight: 1,
                successes: 1
            }
        );
        let closed = s3
            .report(p2, Report::Success, SECOND * 31, &config)
            .unwrap();
        assert_eq!(closed.phase, Phase::Closed { failures: 0 });
        assert_ne!(closed.generation, s3.generation);
    }

    #[test]
    fn a_probe_failure_reopens_for_a_fresh_recovery_timeout() {
        let config = config(1, 1, None);
        let open = fail(State::INITIAL, Duration::ZERO, &config);
        let (half, probe) = open.admit(SECOND * 40, &config).unwrap();
        let reopened = half
            .report(probe, Report::Failure, SECOND * 40, &config)
            .unwrap();
        assert_eq!(reopened.phase, Phase::Open { until_ms: 70_000 });
    }

    #[test]
    fn an_abandoned_probe_frees_its_slot_and_counts_as_nothing() {
        let config = config(1, 1, Some(1));
        let open = fail(State::INITIAL, Duration::ZERO, &config);
        let (half, probe) = open.admit(SECOND * 30, &config).unwrap();
        let freed = half
            .report(probe, Report::Abandoned, SECOND * 30, &config)
            .unwrap();
        assert_eq!(
            freed.phase,
            Phase::HalfOpen {
                in_flight: 0,
                successes: 0
            }
        );
        assert!(freed.admit(SECOND * 30, &config).is_ok());
    }

    #[test]
    fn outcomes_from_an_earlier_generation_are_ignored() {
        let config = config(1, 1, None);
        let (closed, old) = State::INITIAL.admit(Duration::ZERO, &config).unwrap();
        let open = fail(closed, Duration::ZERO, &config);
        let (half, probe) = open.admit(SECOND * 30, &config).unwrap();
        assert_eq!(
            half.report(old, Report::Failure, SECOND * 30, &config),
            None
        );
        let closed = half
            .report(probe, Report::Success, SECOND * 30, &config)
            .unwrap();
        assert_eq!(
            closed.report(old, Report::Failure, SECOND * 30, &config),
            None
        );
        assert_eq!(
            closed.report(probe, Report::Failure, SECOND * 30, &config),
            None
        );
    }

    #[test]
    fn raw_word_readers_agree_with_unpacking() {
        let words = [
            State::INITIAL,
            State {
                phase: Phase::Closed { failures: 2 },
                generation: 7,
            },
            State {
                phase: Phase::Open { until_ms: 5 },
                generation: 7,
            },
            State {
                phase: Phase::HalfOpen {
                    in_flight: 1,
                    successes: 0,
                },
                generation: 9,
            },
        ];
        for state in words {
            let word = state.pack();
            let closed = matches!(state.phase, Phase::Closed { .. });
            assert_eq!(
                State::closed_generation(word),
                closed.then_some(state.generation)
            );
            assert_eq!(
                State::is_clean_closed(word),
                state.phase == Phase::Closed { failures: 0 }
            );
        }
    }

    #[test]
    fn a_success_in_closed_with_no_failures_writes_nothing() {
        let config = config(2, 1, None);
        let (state, permit) = State::INITIAL.admit(Duration::ZERO, &config).unwrap();
        assert_eq!(state, State::INITIAL);
        assert_eq!(
            state.report(permit, Report::Success, Duration::ZERO, &config),
            None
        );
    }
}
