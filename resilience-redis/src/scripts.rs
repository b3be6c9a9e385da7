//! The Lua scripts: every change of shared state is one script, so Redis applies it
//! atomically, on its own clock (`TIME`), whichever process sends it.
//!
//! A breaker's hash holds `s` (`c` closed, `o` open: half-open is "open, past `u`"), `g`
//! (the generation: bumped by every transition, and started from Redis's clock in
//! milliseconds when the hash is created, so that a state created after the keys were
//! lost is never older than one a process remembers), `u` (the open deadline, Redis
//! milliseconds), `f` (failures counted while closed), `w` (successful probes of this
//! episode), `v` (bumped by every write, so that replies applied out of order are told
//! apart) and `n` (the lease counter). Every script replies `[s, g, u - now, f, v]`, which
//! is all a process needs to mirror the state.

use redis::Script;
use std::sync::LazyLock;

/// Shared by the breaker's scripts: the clock, reading (and creating) the hash, writing it
/// back with its TTL, publishing a transition.
const BREAKER_PRELUDE: &str = r#"
local GEN = 1073741824
local function now_ms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
local function int(x) return string.format('%.0f', x) end
local function finite(x) return x ~= nil and x == x and x ~= math.huge and x ~= -math.huge end
local function load(key, now, ttl)
  local v = redis.call('HMGET', key, 's', 'g', 'u', 'f', 'w', 'v')
  if not v[1] then
    local st = {s = 'c', g = now, u = 0, f = 0, w = 0, v = 0}
    -- Leases are numbered from the clock too: a lease held across lost keys is never
    -- mistaken for one granted after.
    redis.call('HSET', key, 's', 'c', 'g', int(now), 'u', 0, 'f', 0, 'w', 0, 'v', 0, 'n', int(now * 1000))
    redis.call('PEXPIRE', key, ttl)
    return st
  end
  local st = {s = v[1], g = tonumber(v[2]), u = tonumber(v[3]), f = tonumber(v[4]), w = tonumber(v[5]), v = tonumber(v[6])}
  -- `tonumber` also reads "nan", "inf" and "1e400": only finite numbers our scripts could
  -- have written pass, so garbage is an unreachable state, never a breaker held open. A
  -- generation starts at the clock and grows by one per transition, and a deadline is at
  -- most a recovery timeout (100 years) ahead: one far past either is garbage too, which
  -- a process that mirrored it would otherwise prefer to every fresh state after it.
  if (st.s ~= 'c' and st.s ~= 'o') or not finite(st.g) or not finite(st.u) or not finite(st.f)
    or not finite(st.w) or not finite(st.v) or st.g > now + GEN or st.u > now + 3200000000000 then
    return redis.error_reply('resilience: malformed breaker state under ' .. key)
  end
  return st
end
-- An open breaker writes nothing until its deadline, so its state is kept the TTL past the
-- deadline: expiring before it would close the breaker for the fleet with no probe.
local function save(key, st, ttl, now)
  st.v = st.v + 1
  redis.call('HSET', key, 's', st.s, 'g', int(st.g), 'u', int(st.u), 'f', st.f, 'w', st.w, 'v', int(st.v))
  redis.call('PEXPIRE', key, int(tonumber(ttl) + math.max(0, st.u - now)))
end
local function reply(st, now) return {st.s, st.g, st.u - now, st.f, st.v} end
local function publish(probes, channel, name, st, now)
  redis.call('DEL', probes)
  redis.call('PUBLISH', channel, name .. '\n' .. st.s .. '\n' .. int(st.g) .. '\n' .. int(st.u - now) .. '\n' .. st.f .. '\n' .. int(st.v))
end
"#;

/// `KEYS`: state, probes. `ARGV`: ttl ms. The state as it is.
const READ: &str = r#"
local now = now_ms()
local st = load(KEYS[1], now, ARGV[1])
if st.err then return st end
return reply(st, now)
"#;

/// `ARGV`: ttl ms, issued generation (low 30 bits), failure threshold, recovery ms,
/// channel, name. A failure of a call admitted in closed generation `issued`: counted
/// only in that generation; opens the breaker at the threshold.
const FAILURE: &str = r#"
local now = now_ms()
local st = load(KEYS[1], now, ARGV[1])
if st.err then return st end
if st.s == 'c' and st.g % GEN == tonumber(ARGV[2]) then
  st.f = st.f + 1
  if st.f >= tonumber(ARGV[3]) then
    st.s = 'o'; st.g = st.g + 1; st.u = now + tonumber(ARGV[4]); st.f = 0; st.w = 0
    save(KEYS[1], st, ARGV[1], now)
    publish(KEYS[2], ARGV[5], ARGV[6], st, now)
  else
    save(KEYS[1], st, ARGV[1], now)
  end
end
return reply(st, now)
"#;

/// `ARGV`: ttl ms, issued generation. The first success after failures in closed
/// generation `issued` resets the count.
const SUCCESS: &str = r#"
local now = now_ms()
local st = load(KEYS[1], now, ARGV[1])
if st.err then return st end
if st.s == 'c' and st.g % GEN == tonumber(ARGV[2]) and st.f > 0 then
  st.f = 0
  save(KEYS[1], st, ARGV[1], now)
end
return reply(st, now)
"#;

/// `ARGV`: ttl ms, half-open max calls, lease ms. A probe lease, when the breaker is
/// half-open and fewer than the maximum unexpired leases are held: replies the state and
/// the lease (0 for none).
const LEASE: &str = r#"
local now = now_ms()
local st = load(KEYS[1], now, ARGV[1])
if st.err then return st end
local lease = 0
if st.s == 'o' and now >= st.u then
  redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now)
  if redis.call('ZCARD', KEYS[2]) < tonumber(ARGV[2]) then
    lease = redis.call('HINCRBY', KEYS[1], 'n', 1)
    redis.call('ZADD', KEYS[2], int(now + tonumber(ARGV[3])), lease)
    redis.call('PEXPIRE', KEYS[2], ARGV[1])
    redis.call('PEXPIRE', KEYS[1], ARGV[1])
  end
end
local r = reply(st, now)
r[6] = lease
return r
"#;

/// `ARGV`: ttl ms, lease, outcome (`s`, `f` or `a`), success threshold, recovery ms,
/// channel, name. A probe's outcome, counted only while its lease is held: a lease
/// expired, or of an episode that ended (every transition deletes the leases), changes
/// nothing.
const PROBE: &str = r#"
local now = now_ms()
local st = load(KEYS[1], now, ARGV[1])
if st.err then return st end
local held = redis.call('ZREM', KEYS[2], ARGV[2]) == 1
if held and st.s == 'o' and now >= st.u then
  if ARGV[3] == 'f' then
    st.g = st.g + 1; st.u = now + tonumber(ARGV[5]); st.w = 0
    save(KEYS[1], st, ARGV[1], now)
    publish(KEYS[2], ARGV[6], ARGV[7], st, now)
  elseif ARGV[3] == 's' then
    st.w = st.w + 1
    if st.w >= tonumber(ARGV[4]) then
      st.s = 'c'; st.g = st.g + 1; st.u = 0; st.f = 0; st.w = 0
      save(KEYS[1], st, ARGV[1], now)
      publish(KEYS[2], ARGV[6], ARGV[7], st, now)
    else
      save(KEYS[1], st, ARGV[1], now)
    end
  end
end
return reply(st, now)
"#;

/// `KEYS`: quota. `ARGV`: emission interval µs, tolerance µs, most permits wanted (`k`).
/// GCRA: a permit is free when the theoretical arrival time is at most `tolerance` ahead
/// of now, and taking it moves that time one emission interval on. Takes as many free
/// permits as there are, up to `k` (a lease of `k` is `k` admissions at once, so it is
/// never more than the quota lets through now), and replies `[taken, 0]`, or
/// `[0, µs until a permit is free]`.
const GCRA: &str = r#"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local emission = tonumber(ARGV[1])
local tolerance = tonumber(ARGV[2])
local want = tonumber(ARGV[3])
local tat = redis.call('GET', KEYS[1])
if tat then
  tat = tonumber(tat)
  if not tat then return redis.error_reply('resilience: malformed quota under ' .. KEYS[1]) end
  if tat < now then tat = now end
else
  tat = now
end
if tat - tolerance > now then return {0, tat - tolerance - now} end
local taken = math.min(want, math.floor((now + tolerance - tat) / emission) + 1)
local next = tat + taken * emission
redis.call('SET', KEYS[1], string.format('%.0f', next), 'PX', math.floor((next - now) / 1000) + 1000)
return {taken, 0}
"#;

fn breaker(body: &str) -> Script {
    Script::new(&format!("{BREAKER_PRELUDE}{body}"))
}

pub(crate) static READ_SCRIPT: LazyLock<Script> = LazyLock::new(|| breaker(READ));
pub(crate) static FAILURE_SCRIPT: LazyLock<Script> = LazyLock::new(|| breaker(FAILURE));
pub(crate) static SUCCESS_SCRIPT: LazyLock<Script> = LazyLock::new(|| breaker(SUCCESS));
pub(crate) static LEASE_SCRIPT: LazyLock<Script> = LazyLock::new(|| breaker(LEASE));
pub(crate) static PROBE_SCRIPT: LazyLock<Script> = LazyLock::new(|| breaker(PROBE));
pub(crate) static GCRA_SCRIPT: LazyLock<Script> = LazyLock::new(|| Script::new(GCRA));

/// The breaker's scripts against a reference model, on a `redis-server` of the test's own:
/// random sequences of failures, resets, lease requests and probe outcomes (current and
/// stale), each reply compared with what the model says the fleet's state must be.
#[cfg(test)]
mod model {
    use super::*;
    use proptest::prelude::*;
    use std::process::{Child, Command, Stdio};
    use std::time::Duration;

    const THRESHOLD: u64 = 3;
    const PROBES: usize = 2;
    const WINS: u64 = 2;

    struct Server(Child, u16);

    impl Drop for Server {
        fn drop(&mut self) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }

    fn server() -> Option<Server> {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .ok()?
            .local_addr()
            .ok()?
            .port();
        let child = Command::new("redis-server")
            .args([
                "--port",
                &port.to_string(),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ])
            .stdout(Stdio::null())
            .spawn();
        let child = match child {
            Ok(child) => child,
            Err(_) if std::env::var("RESILIENCE_REQUIRE_REDIS").as_deref() != Ok("1") => {
                return None
            }
            Err(error) => {
                panic!("RESILIENCE_REQUIRE_REDIS=1 but redis-server did not start: {error}")
            }
        };
        let server = Server(child, port);
        for _ in 0..500 {
            if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                return Some(server);
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        panic!("redis-server never listened");
    }

    #[derive(Debug, Clone, Copy)]
    enum Op {
        Failure { stale: bool },
        Success { stale: bool },
        Lease,
        Probe { which: usize, outcome: char },
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            any::<bool>().prop_map(|stale| Op::Failure { stale }),
            any::<bool>().prop_map(|stale| Op::Success { stale }),
            Just(Op::Lease),
            (0usize..4, prop::sample::select(vec!['s', 'f', 'a']))
                .prop_map(|(which, outcome)| Op::Probe { which, outcome }),
        ]
    }

    /// What the fleet's state must be.
    #[derive(Debug, Default)]
    struct Model {
        closed: bool,
        generation: u64,
        failures: u64,
        wins: u64,
        held: Vec<u64>,
        /// Leases of episodes that ended, or given back: reporting them changes nothing.
        spent: Vec<u64>,
    }

    impl Model {
        fn transition(&mut self, closed: bool) {
            self.closed = closed;
            self.generation += 1;
            self.failures = 0;
            self.wins = 0;
            self.spent.append(&mut self.held);
        }
    }

    fn run(
        connection: &mut redis::Connection,
        script: &Script,
        args: &[String],
    ) -> (bool, u64, u64, Option<u64>) {
        let mut call = script.prepare_invoke();
        call.key("m:{b}:breaker").key("m:{b}:probes").arg(60_000);
        for arg in args {
            call.arg(arg);
        }
        let value: redis::Value = call.invoke(connection).expect("the script runs");
        let (fleet, lease) = crate::breaker::Fleet::from_reply(&value).expect("a state");
        (fleet.closed, fleet.generation, fleet.failures, lease)
    }

    proptest! {
        #![proptest_config(ProptestConfig { failure_persistence: None, ..ProptestConfig::with_cases(48) })]

        #[test]
        fn the_scripts_follow_the_model(ops in proptest::collection::vec(op(), 1..40)) {
            let Some(server) = server() else { return Ok(()) };
            let client = redis::Client::open(format!("redis://127.0.0.1:{}", server.1)).unwrap();
            let mut connection = client.get_connection().unwrap();
            // The first read creates the state; the model takes its generation from it.
            let (closed, generation, _, _) = run(&mut connection, &READ_SCRIPT, &[]);
            let mut model = Model { closed, generation, ..Model::default() };
            // Recovery of 1ms: the open breaker is half-open by the next operation.
            let (recovery, name) = ("1".to_owned(), "b".to_owned());
            for op in ops {
                std::thread::sleep(Duration::from_millis(2));
                let issued = |stale: bool| ((model.generation - u64::from(stale)) % (1 << 30)).to_string();
                let reply = match op {
                    Op::Failure { stale } => {
                        let reply = run(&mut connection, &FAILURE_SCRIPT, &[issued(stale), THRESHOLD.to_string(), recovery.clone(), "m:breakers".into(), name.clone()]);
                        if model.closed && !stale {
                            model.failures += 1;
                            if model.failures >= THRESHOLD {
                                model.transition(false);
                            }
                        }
                        reply
                    }
                    Op::Success { stale } => {
                        let reply = run(&mut connection, &SUCCESS_SCRIPT, &[issued(stale)]);
                        if model.closed && !stale {
                            model.failures = 0;
                        }
                        reply
                    }
                    Op::Lease => {
                        let reply = run(&mut connection, &LEASE_SCRIPT, &[PROBES.to_string(), "60000".into()]);
                        let granted = !model.closed && model.held.len() < PROBES;
                        prop_assert_eq!(reply.3.is_some_and(|lease| lease > 0), granted, "lease granted: {:?}", model);
                        if granted {
                            model.held.push(reply.3.unwrap());
                        }
                        reply
                    }
                    Op::Probe { which, outcome } => {
                        let known: Vec<u64> = model.held.iter().chain(&model.spent).copied().collect();
                        let Some(&lease) = known.get(which) else { continue };
                        let reply = run(&mut connection, &PROBE_SCRIPT, &[lease.to_string(), outcome.to_string(), WINS.to_string(), recovery.clone(), "m:breakers".into(), name.clone()]);
                        if let Some(at) = model.held.iter().position(|&held| held == lease) {
                            model.spent.push(model.held.remove(at));
                            match outcome {
                                'f' => model.transition(false),
                                's' => {
                                    model.wins += 1;
                                    if model.wins >= WINS {
                                        model.transition(true);
                                    }
                                }
                                _ => {}
                            }
                        }
                        reply
                    }
                };
                prop_assert_eq!((reply.0, reply.1), (model.closed, model.generation), "after {:?}: {:?}", op, model);
                if model.closed {
                    prop_assert_eq!(reply.2, model.failures, "after {:?}", op);
                }
            }
        }
    }
}
