//! The breaker's state machine, pure: a state and the time in, the next state out.
//!
//! The whole state fits one `u64`, so the shell in `mod.rs` moves it with one
//! compare-and-swap and a closed breaker's success path is a single load:
//!
//! ```text
//!  63 62 61                            32 31                               0
//! [ 0  ][ generation (30)                ][ consecutive failures (32)        ]  Closed
//! [ 1  ][ half-open from this millisecond on, since the epoch (42 of 62)    ]  Open
//! [ 2  ][ episode: the Open's millisecond (42)  ][ probes (10) ][ wins (10)  ]  HalfOpen
//! [ 3  ][ disabled? ][                              ][ generation (30)       ]  ForcedOpen, Disabled
//! ```
//!
//! A permit remembers what it was issued under, so that the outcome of a call that started
//! before the breaker changed (a slow call that finishes after it opened and closed again)
//! is not counted against a state it never saw:
//!
//! - A probe holds its half-open **episode**: the millisecond its `Open` phase ended, which
//!   every later episode exceeds (each opens after the last one began, and the recovery
//!   timeout is longer than zero). So a probe that hangs through any number of episodes
//!   never reports into a later one and never frees a slot it does not hold.
//! - A call admitted while closed holds the closed phase's **generation**, fresh whenever
//!   the breaker closes again (derived from the episode it closes after) or is reset, so a
//!   late outcome of an earlier closed phase is ignored.

use std::fmt;
use std::time::Duration;

use crate::time::millis_ceil;

use super::{CircuitBreakerConfig, CircuitState};

const TAG_SHIFT: u32 = 62;
const GENERATION_BITS: u32 = 30;
const GENERATION: u64 = (1 << GENERATION_BITS) - 1;
const FAILURES: u64 = u32::MAX as u64;
const COUNT_BITS: u32 = 10;
const COUNT: u64 = (1 << COUNT_BITS) - 1;
const EPISODE_SHIFT: u32 = 2 * COUNT_BITS;
/// The largest millisecond an `Open` deadline or an episode holds (139 years).
const MAX_MILLIS: u64 = (1 << (TAG_SHIFT - EPISODE_SHIFT)) - 1;
const DISABLED: u64 = 1 << (TAG_SHIFT - 1);

/// The most probes or probe successes the half-open payload can count.
pub(crate) const MAX_PROBES: u32 = COUNT as u32;
/// Longer recovery timeouts could not be stored as a millisecond deadline.
pub(crate) const MAX_RECOVERY: Duration = Duration::from_secs(100 * 365 * 24 * 3600);
const _: () = assert!(MAX_RECOVERY.as_millis() < MAX_MILLIS as u128);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum State {
    Closed {
        generation: u32,
        failures: u32,
    },
    Open {
        until_ms: u64,
    },
    HalfOpen {
        episode: u64,
        in_flight: u32,
        successes: u32,
    },
    /// Opened by hand: rejects until reset.
    ForcedOpen {
        generation: u32,
    },
    /// Switched off by hand: admits every call, changes on no outcome, until reset.
    Disabled {
        generation: u32,
    },
}

/// The right to report one call's outcome: the generation of the closed phase (or the
/// episode of the half-open phase, for a probe) it was admitted in.
///
/// Two whole words. A permit is written when a call is admitted and read back when it
/// ends, soon after, and each word is read back as it was written. A permit of three words
/// with a `bool`, in an `Option`, was copied in pieces: reads that spanned a one-byte store,
/// or two stores, defeated store-to-load forwarding, and those stalls were a third of a
/// closed breaker's call (28 ns before, 18 ns after, in the bench).
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) struct Permit {
    pub(crate) issued: u64,
    /// When the call started, in nanoseconds since the breaker's origin (for a breaker that
    /// times its calls; 0 otherwise), shifted left by two, over the permit's phase: never
    /// zero until the permit is spent.
    timed: u64,
}

const CLOSED: u64 = 1;
const PROBE: u64 = 2;
const PHASE: u64 = CLOSED | PROBE;

impl Permit {
    pub(crate) fn new(issued: u64, probe: bool, started: u64) -> Self {
        // A start 146 years after the origin would not fit: held at the greatest that does.
        let started = started.min(u64::MAX >> 2) << 2;
        Self {
            issued,
            timed: started | if probe { PROBE } else { CLOSED },
        }
    }

    pub(crate) fn probe(self) -> bool {
        self.timed & PHASE == PROBE
    }

    pub(crate) fn started(self) -> u64 {
        self.timed >> 2
    }

    fn is_spent(self) -> bool {
        self.timed == 0
    }

    /// The permit, leaving a spent one in its place; `None` if it was spent already: how
    /// a call reports its outcome once, whether it ends or is dropped.
    #[inline]
    pub(crate) fn spend(&mut self) -> Option<Permit> {
        match std::mem::replace(&mut self.timed, 0) {
            0 => None,
            timed => Some(Permit {
                issued: self.issued,
                timed,
            }),
        }
    }
}

impl fmt::Debug for Permit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Permit")
            .field("issued", &self.issued)
            .field("probe", &self.probe())
            .field("started", &self.started())
            .field("spent", &self.is_spent())
            .finish()
    }
}

/// What a finished call tells the breaker.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Report {
    Success,
    Failure,
    /// The call was dropped or panicked, or its error says nothing of the downstream.
    Abandoned,
}

impl From<Report> for crate::shared::CallOutcome {
    fn from(report: Report) -> Self {
        match report {
            Report::Success => Self::Success,
            Report::Failure => Self::Failure,
            Report::Abandoned => Self::Abandoned,
        }
    }
}

impl State {
    pub(crate) const INITIAL: State = State::Closed {
        generation: 0,
        failures: 0,
    };

    /// The generation of a closed breaker's word, read without unpacking; `None` if not closed.
    #[inline]
    pub(crate) fn closed_generation(word: u64) -> Option<u64> {
        (word >> TAG_SHIFT == 0).then_some(word >> 32)
    }

    /// Whether the word is closed with no failure counted, where a success changes nothing.
    #[inline]
    pub(crate) fn is_clean_closed(word: u64) -> bool {
        word >> TAG_SHIFT == 0 && word & FAILURES == 0
    }

    pub(crate) fn pack(self) -> u64 {
        match self {
            State::Closed {
                generation,
                failures,
            } => (u64::from(generation) & GENERATION) << 32 | u64::from(failures),
            State::Open { until_ms } => 1 << TAG_SHIFT | until_ms.min(MAX_MILLIS),
            State::HalfOpen {
                episode,
                in_flight,
                successes,
            } => {
                2 << TAG_SHIFT
                    | episode.min(MAX_MILLIS) << EPISODE_SHIFT
                    | (u64::from(in_flight) & COUNT) << COUNT_BITS
                    | u64::from(successes) & COUNT
            }
            State::ForcedOpen { generation } => 3 << TAG_SHIFT | u64::from(generation) & GENERATION,
            State::Disabled { generation } => {
                3 << TAG_SHIFT | DISABLED | u64::from(generation) & GENERATION
            }
        }
    }

    pub(crate) fn unpack(word: u64) -> State {
        let generation = (word & GENERATION) as u32;
        match word >> TAG_SHIFT {
            0 => State::Closed {
                generation: (word >> 32) as u32,
                failures: (word & FAILURES) as u32,
            },
            1 => State::Open {
                until_ms: word & MAX_MILLIS,
            },
            2 => State::HalfOpen {
                episode: (word >> EPISODE_SHIFT) & MAX_MILLIS,
                in_flight: ((word >> COUNT_BITS) & COUNT) as u32,
                successes: (word & COUNT) as u32,
            },
            _ if word & DISABLED != 0 => State::Disabled { generation },
            _ => State::ForcedOpen { generation },
        }
    }

    /// The state as users see it, before the clock is read: an open breaker whose recovery
    /// timeout is over still reads `Open` here.
    pub(crate) fn circuit_state(self) -> CircuitState {
        match self {
            State::Closed { .. } => CircuitState::Closed,
            State::Open { .. } => CircuitState::Open,
            State::HalfOpen { .. } => CircuitState::HalfOpen,
            State::ForcedOpen { .. } => CircuitState::ForcedOpen,
            State::Disabled { .. } => CircuitState::Disabled,
        }
    }

    /// A generation no closed phase since the last episode has had.
    fn fresh_generation(self) -> u32 {
        let next = match self {
            State::Closed { generation, .. }
            | State::ForcedOpen { generation }
            | State::Disabled { generation } => u64::from(generation) + 1,
            State::Open { until_ms: episode } | State::HalfOpen { episode, .. } => episode,
        };
        (next & GENERATION) as u32
    }

    fn closed(self) -> State {
        State::Closed {
            generation: self.fresh_generation(),
            failures: 0,
        }
    }

    fn open(now: Duration, config: &CircuitBreakerConfig) -> State {
        State::Open {
            until_ms: millis_ceil(now.saturating_add(config.recovery_timeout)).min(MAX_MILLIS),
        }
    }

    /// Whether a call arriving at `now` is let through, and the state that results.
    ///
    /// `now` is the time since the breaker's epoch. A rejection says what the breaker is
    /// and when to come back: the time left until a probe is let through when open; when
    /// there is no such time (every probe slot taken, or opened by hand), the recovery
    /// timeout, the breaker's own measure of how long to leave the downstream alone.
    pub(crate) fn admit(
        self,
        now: Duration,
        config: &CircuitBreakerConfig,
    ) -> Result<(State, Permit), (CircuitState, Duration)> {
        match self {
            State::Closed { generation, .. } | State::Disabled { generation } => {
                Ok((self, Permit::new(u64::from(generation), false, 0)))
            }
            State::Open { until_ms } => {
                let until = Duration::from_millis(until_ms);
                if now < until {
                    return Err((CircuitState::Open, until - now));
                }
                let probe = State::HalfOpen {
                    episode: until_ms,
                    in_flight: 1,
                    successes: 0,
                };
                Ok((probe, Permit::new(until_ms, true, 0)))
            }
            State::HalfOpen {
                episode,
                in_flight,
                successes,
            } if in_flight < config.probes() => Ok((
                State::HalfOpen {
                    episode,
                    in_flight: in_flight + 1,
                    successes,
                },
                Permit::new(episode, true, 0),
            )),
            // A slot frees when a probe ends, which may be at any time.
            State::HalfOpen { .. } => Err((CircuitState::HalfOpen, config.recovery_timeout)),
            State::ForcedOpen { .. } => Err((CircuitState::ForcedOpen, config.recovery_timeout)),
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
        match self {
            State::Closed { generation, .. }
                if !permit.probe() && permit.issued == u64::from(generation) =>
            {
                self.record(report, now, config)
            }
            State::HalfOpen {
                episode,
                in_flight,
                successes,
            } if permit.probe() && permit.issued == episode => {
                let freed = State::HalfOpen {
                    episode,
                    in_flight: in_flight.saturating_sub(1),
                    successes,
                };
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
        match (self, report) {
            (_, Report::Abandoned)
            | (State::Open { .. } | State::ForcedOpen { .. } | State::Disabled { .. }, _)
            | (State::Closed { failures: 0, .. }, Report::Success) => None,
            (State::Closed { generation, .. }, Report::Success) => Some(State::Closed {
                generation,
                failures: 0,
            }),
            (
                State::Closed {
                    generation,
                    failures,
                },
                Report::Failure,
            ) => {
                let failures = failures.saturating_add(1);
                if failures >= config.failure_threshold {
                    Some(State::open(now, config))
                } else {
                    Some(State::Closed {
                        generation,
                        failures,
                    })
                }
            }
            (
                State::HalfOpen {
                    episode,
                    in_flight,
                    successes,
                },
                Report::Success,
            ) => {
                let successes = successes + 1;
                if successes >= config.success_threshold {
                    Some(self.closed())
                } else {
                    Some(State::HalfOpen {
                        episode,
                        in_flight,
                        successes,
                    })
                }
            }
            (State::HalfOpen { .. }, Report::Failure) => Some(State::open(now, config)),
        }
    }

    /// A rate rule reached its threshold over the window of the closed phase `issued`:
    /// opens, unless that phase is over (another call opened it first, or it was reset).
    pub(crate) fn trip(
        self,
        issued: u64,
        now: Duration,
        config: &CircuitBreakerConfig,
    ) -> Option<State> {
        match self {
            State::Closed { generation, .. } if u64::from(generation) == issued => {
                Some(State::open(now, config))
            }
            _ => None,
        }
    }

    /// Closed, under a fresh generation so that calls already running are not counted.
    pub(crate) fn reset(self) -> State {
        self.closed()
    }

    /// Opened by hand, under a fresh generation.
    pub(crate) fn force_open(self) -> State {
        State::ForcedOpen {
            generation: self.fresh_generation(),
        }
    }

    /// Switched off by hand, under a fresh generation.
    pub(crate) fn disable(self) -> State {
        State::Disabled {
            generation: self.fresh_generation(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECOND: Duration = Duration::from_secs(1);
    const MS: Duration = Duration::from_millis(1);

    #[test]
    fn a_permit_keeps_its_issue_phase_and_start_and_is_spent_once() {
        for (issued, probe, started) in [(0, false, 0), (u64::MAX, true, 7), (3, false, 1 << 40)] {
            let mut permit = Permit::new(issued, probe, started);
            let spent = permit.spend().expect("a new permit is not spent");
            assert_eq!(
                (spent.issued, spent.probe(), spent.started()),
                (issued, probe, started)
            );
            assert_eq!(permit.spend(), None, "spent twice");
        }
        // A start beyond what two words hold is held at the greatest they do.
        let far = Permit::new(1, true, u64::MAX);
        assert_eq!((far.started(), far.probe()), (u64::MAX >> 2, true));
    }

    fn config(failures: u32, successes: u32, probes: Option<u32>) -> CircuitBreakerConfig {
        CircuitBreakerConfig {
            failure_threshold: failures,
            success_threshold: successes,
            recovery_timeout: Duration::from_secs(30),
            half_open_max_calls: probes,
            ..CircuitBreakerConfig::DEFAULT
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
            State::Closed {
                generation: GENERATION as u32,
                failures: u32::MAX,
            },
            State::Open {
                until_ms: MAX_MILLIS,
            },
            State::HalfOpen {
                episode: MAX_MILLIS,
                in_flight: MAX_PROBES,
                successes: 3,
            },
            State::HalfOpen {
                episode: 0,
                in_flight: 0,
                successes: MAX_PROBES,
            },
            State::ForcedOpen {
                generation: GENERATION as u32,
            },
            State::Disabled { generation: 0 },
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
        assert_eq!(
            state,
            State::Closed {
                generation: 0,
                failures: 0
            }
        );
        for _ in 0..3 {
            state = fail(state, SECOND, &config);
        }
        assert_eq!(state, State::Open { until_ms: 31_000 });
        assert_eq!(
            state.admit(SECOND * 10, &config),
            Err((CircuitState::Open, SECOND * 21))
        );
    }

    #[test]
    fn recovery_lets_a_limited_number_of_probes_through() {
        let config = config(1, 2, Some(2));
        let open = fail(State::INITIAL, Duration::ZERO, &config);
        let (s1, p1) = open.admit(SECOND * 30, &config).unwrap();
        let (s2, p2) = s1.admit(SECOND * 30, &config).unwrap();
        assert!(p1.probe() && p2.probe());
        assert_eq!(
            s2.admit(SECOND * 30, &config),
            Err((CircuitState::HalfOpen, config.recovery_timeout)),
            "every slot taken: half-open, and come back after a recovery timeout"
        );
        let s3 = s2
            .report(p1, Report::Success, SECOND * 30, &config)
            .unwrap();
        assert_eq!(
            s3,
            State::HalfOpen {
                episode: 30_000,
                in_flight: 1,
                successes: 1
            }
        );
        let closed = s3
            .report(p2, Report::Success, SECOND * 31, &config)
            .unwrap();
        assert_eq!(
            closed,
            State::Closed {
                generation: 30_000,
                failures: 0
            },
            "a generation of its own, from the episode it closes after"
        );
    }

    #[test]
    fn a_probe_failure_reopens_for_a_fresh_recovery_timeout() {
        let config = config(1, 1, None);
        let open = fail(State::INITIAL, Duration::ZERO, &config);
        let (half, probe) = open.admit(SECOND * 40, &config).unwrap();
        let reopened = half
            .report(probe, Report::Failure, SECOND * 40, &config)
            .unwrap();
        assert_eq!(reopened, State::Open { until_ms: 70_000 });
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
            freed,
            State::HalfOpen {
                episode: 30_000,
                in_flight: 0,
                successes: 0
            }
        );
        assert!(freed.admit(SECOND * 30, &config).is_ok());
    }

    #[test]
    fn outcomes_from_an_earlier_phase_are_ignored() {
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
        let (reset, _) = closed.reset().admit(SECOND * 30, &config).unwrap();
        let (_, current) = closed.admit(SECOND * 30, &config).unwrap();
        assert_eq!(
            reset.report(current, Report::Failure, SECOND * 30, &config),
            None,
            "a reset starts a new generation"
        );
    }

    #[test]
    fn a_probe_hung_through_any_number_of_episodes_never_reports_into_a_later_one() {
        // The issue's case: one probe slot, 1 ms recovery. A 16-bit generation bumped on
        // every change of phase came back to the hung probe's number after 32 768
        // episodes (65 536 changes), and its late success freed the slot of the probe
        // then running and closed the breaker.
        let config = CircuitBreakerConfig {
            failure_threshold: 1,
            success_threshold: 1,
            recovery_timeout: MS,
            half_open_max_calls: Some(1),
            ..CircuitBreakerConfig::DEFAULT
        };
        let mut now = Duration::ZERO;
        let mut state = fail(State::INITIAL, now, &config);
        now += MS;
        let (mut state_with_hung, hung) = state.admit(now, &config).unwrap();
        for _ in 0..70_000 {
            // A manual failure ends the episode; the next probe fails too.
            state = state_with_hung
                .record(Report::Failure, now, &config)
                .unwrap();
            now += MS;
            let (half, _running) = state.admit(now, &config).unwrap();
            assert_eq!(half.report(hung, Report::Success, now, &config), None);
            state_with_hung = half;
        }
        assert_eq!(
            state_with_hung.admit(now, &config),
            Err((CircuitState::HalfOpen, MS)),
            "the slot is still the running probe's"
        );
    }

    #[test]
    fn raw_word_readers_agree_with_unpacking() {
        let states = [
            State::INITIAL,
            State::Closed {
                generation: 7,
                failures: 2,
            },
            State::Open { until_ms: 5 },
            State::HalfOpen {
                episode: 9,
                in_flight: 1,
                successes: 0,
            },
            State::ForcedOpen { generation: 7 },
            State::Disabled { generation: 7 },
        ];
        for state in states {
            let word = state.pack();
            let closed = match state {
                State::Closed { generation, .. } => Some(u64::from(generation)),
                _ => None,
            };
            assert_eq!(State::closed_generation(word), closed);
            assert_eq!(
                State::is_clean_closed(word),
                matches!(state, State::Closed { failures: 0, .. })
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

    #[test]
    fn a_tripped_rule_opens_only_the_phase_it_was_measured_in() {
        let config = config(5, 1, None);
        let (closed, permit) = State::INITIAL.admit(SECOND, &config).unwrap();
        assert_eq!(
            closed.trip(permit.issued, SECOND, &config),
            Some(State::Open { until_ms: 31_000 })
        );
        let reset = closed.reset();
        assert_eq!(reset.trip(permit.issued, SECOND, &config), None);
        let open = State::Open { until_ms: 31_000 };
        assert_eq!(open.trip(permit.issued, SECOND, &config), None);
    }

    #[test]
    fn forced_open_rejects_and_disabled_admits_until_reset() {
        let config = config(1, 1, None);
        let forced = State::INITIAL.force_open();
        assert_eq!(
            forced.admit(Duration::ZERO, &config),
            Err((CircuitState::ForcedOpen, config.recovery_timeout))
        );
        assert_eq!(forced.record(Report::Success, SECOND, &config), None);
        let disabled = forced.disable();
        let (same, permit) = disabled.admit(Duration::ZERO, &config).unwrap();
        assert_eq!(same, disabled);
        assert_eq!(
            disabled.report(permit, Report::Failure, SECOND, &config),
            None
        );
        assert_eq!(disabled.record(Report::Failure, SECOND, &config), None);
        let closed = disabled.reset();
        assert!(matches!(closed, State::Closed { failures: 0, .. }));
        assert_eq!(
            closed.report(permit, Report::Failure, SECOND, &config),
            None
        );
    }
}
