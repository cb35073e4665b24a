//! Simulated players: how many are online, what they do in one tick, and the
//! telemetry that activity produces.
//!
//! Drawing activity ([`draw`]) is kept apart from sending it ([`send`]) so
//! that rates and the effect of each fault are tested without sockets.
//!
//! The rates are per online player per second and were picked to give a
//! world of 1,000–5,000 players roughly 100–400 DogStatsD lines a second:
//! enough events for an SLO to judge within minutes, not so many that a
//! laptop running three worlds notices.

use std::time::Duration;

use liveops_client::Client;
use liveops_client::signal::{AUTH_LATENCY, PAYMENT, REQUEST};
use rand::Rng;

use crate::Fault;

/// Requests per online player per second: 2,000 players make 100 a second.
const REQUESTS_PER_PLAYER_SEC: f64 = 0.05;
/// Logins per online player per second: sessions last about ten minutes.
const LOGINS_PER_PLAYER_SEC: f64 = 1.0 / 600.0;
/// Payment attempts per online player per second: ten a second for 2,000
/// players, a world in the middle of a seasonal sale. Busy enough that a
/// payment outage shows within seconds, as it does in production.
const PAYMENTS_PER_PLAYER_SEC: f64 = 1.0 / 200.0;
/// Baseline failure shares: small but not zero, so an SLO's error budget is
/// spent a little all the time, as in any real game.
const REQUEST_ERROR_SHARE: f64 = 0.001;
const PAYMENT_FAILURE_SHARE: f64 = 0.005;

/// What a player asks the server to do; the tag `op:<name>`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Op {
    March,
    Attack,
    Trade,
    Build,
    Chat,
}

impl Op {
    /// Share of requests of each kind; chat dominates, as it does in practice.
    const MIX: [(Op, f64); 5] = [
        (Op::March, 0.15),
        (Op::Attack, 0.05),
        (Op::Trade, 0.15),
        (Op::Build, 0.25),
        (Op::Chat, 0.40),
    ];

    pub(crate) fn name(self) -> &'static str {
        match self {
            Op::March => "march",
            Op::Attack => "attack",
            Op::Trade => "trade",
            Op::Build => "build",
            Op::Chat => "chat",
        }
    }

    fn pick(rng: &mut impl Rng) -> Op {
        let mut x: f64 = rng.random();
        for (op, share) in Op::MIX {
            if x < share {
                return op;
            }
            x -= share;
        }
        Op::Chat
    }
}

/// One handled player request.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Request {
    pub(crate) op: Op,
    pub(crate) ok: bool,
}

/// Everything players did during one tick.
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct Activity {
    pub(crate) requests: Vec<Request>,
    /// One entry per payment attempt: did it succeed.
    pub(crate) payments: Vec<bool>,
    /// How long each login took, in milliseconds.
    pub(crate) logins_ms: Vec<f64>,
}

/// Draws what `players` online players do during a tick of `dt`, under `fault`.
pub(crate) fn draw(
    rng: &mut impl Rng,
    players: f64,
    dt: Duration,
    fault: Option<Fault>,
) -> Activity {
    let secs = dt.as_secs_f64();
    let request_error = if fault == Some(Fault::ErrorBurst) {
        1.0
    } else {
        REQUEST_ERROR_SHARE
    };
    let payment_failure = if fault == Some(Fault::PaymentFailure) {
        1.0
    } else {
        PAYMENT_FAILURE_SHARE
    };
    let auth_slow = fault == Some(Fault::AuthSlow);

    let requests = (0..events(rng, players * REQUESTS_PER_PLAYER_SEC * secs))
        .map(|_| Request {
            op: Op::pick(rng),
            ok: !rng.random_bool(request_error),
        })
        .collect();
    let payments = (0..events(rng, players * PAYMENTS_PER_PLAYER_SEC * secs))
        .map(|_| !rng.random_bool(payment_failure))
        .collect();
    let logins_ms = (0..events(rng, players * LOGINS_PER_PLAYER_SEC * secs))
        .map(|_| {
            let ms = if auth_slow {
                rng.random_range(2000.0..5000.0)
            } else {
                // The sum of two uniforms peaks at 100 ms and never leaves
                // 50–150 ms: a believable login without a long tail, so the
                // only tail an auth SLO sees is the one a fault puts there.
                50.0 + 50.0 * (rng.random::<f64>() + rng.random::<f64>())
            };
            (ms * 10.0_f64).round() / 10.0
        })
        .collect();
    Activity {
        requests,
        payments,
        logins_ms,
    }
}

/// How many events happen in a tick whose expected count is `mean`: the
/// whole part always, the fraction by chance. Simpler than a Poisson draw
/// and exact over the long run, which is all an SLO looks at.
fn events(rng: &mut impl Rng, mean: f64) -> u32 {
    if mean <= 0.0 {
        return 0;
    }
    let whole = mean.floor();
    whole as u32 + u32::from(rng.random_bool(mean - whole))
}

/// Sends one DogStatsD line per event. The client only queues each line, so
/// this never waits on the network, whatever the agent is doing.
pub(crate) fn send(stats: &Client, activity: &Activity) {
    for r in &activity.requests {
        let status = if r.ok { "ok" } else { "error" };
        stats.incr(REQUEST, &[("op", r.op.name()), ("status", status)]);
    }
    for &ok in &activity.payments {
        stats.incr(
            PAYMENT,
            &[("outcome", if ok { "success" } else { "failure" })],
        );
    }
    for &ms in &activity.logins_ms {
        stats.timing_ms(AUTH_LATENCY, ms, &[]);
    }
}

/// Players online. It wanders around the configured mean by about ±10% over
/// minutes, like a shard between peak and off-peak, so dashboards move
/// without any SLO depending on the movement.
#[derive(Clone, Debug)]
pub(crate) struct Population {
    mean: f64,
    online: f64,
}

impl Population {
    /// Seconds after which the walk has mostly forgotten where it was.
    const RELAX_SECS: f64 = 300.0;
    /// Noise per √second, as a share of the mean. With uniform noise of
    /// amplitude a the walk's spread is a·√(RELAX_SECS/6): 0.014 gives ±10%.
    const NOISE: f64 = 0.014;

    pub(crate) fn new(mean: u32) -> Population {
        Population {
            mean: f64::from(mean),
            online: f64::from(mean),
        }
    }

    pub(crate) fn online(&self) -> f64 {
        self.online
    }

    /// Moves the count on by `dt`: a mean-reverting random walk.
    pub(crate) fn step(&mut self, rng: &mut impl Rng, dt: Duration) {
        let secs = dt.as_secs_f64();
        let pull = (self.mean - self.online) * secs / Self::RELAX_SECS;
        let noise = rng.random_range(-1.0..=1.0) * self.mean * Self::NOISE * secs.sqrt();
        self.online = (self.online + pull + noise).clamp(0.5 * self.mean, 1.5 * self.mean);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand::rngs::StdRng;

    const ONE_MINUTE: Duration = Duration::from_secs(60);

    fn minute(fault: Option<Fault>) -> Activity {
        draw(&mut StdRng::seed_from_u64(7), 2000.0, ONE_MINUTE, fault)
    }

    #[test]
    fn rates_follow_the_players_online() {
        let a = minute(None);
        assert_eq!(a.requests.len(), 6000);
        assert_eq!(a.payments.len(), 600);
        assert_eq!(a.logins_ms.len(), 200);
        let errors = a.requests.iter().filter(|r| !r.ok).count();
        assert!(errors < 30, "{errors} errors in 6000 requests");
        assert!(a.logins_ms.iter().all(|ms| (50.0..=150.0).contains(ms)));
        for (op, _) in Op::MIX {
            assert!(
                a.requests.iter().any(|r| r.op == op),
                "no {} request",
                op.name()
            );
        }
    }

    #[test]
    fn each_fault_breaks_only_its_own_signal() {
        let burst = minute(Some(Fault::ErrorBurst));
        assert!(burst.requests.iter().all(|r| !r.ok));
        assert!(burst.payments.iter().filter(|&&ok| ok).count() >= 580);

        let payments = minute(Some(Fault::PaymentFailure));
        assert!(payments.payments.iter().all(|&ok| !ok));
        assert!(payments.requests.iter().filter(|r| r.ok).count() >= 5970);

        let auth = minute(Some(Fault::AuthSlow));
        assert!(
            auth.logins_ms
                .iter()
                .all(|ms| (2000.0..=5000.0).contains(ms))
        );
    }

    #[test]
    fn the_same_seed_draws_the_same_activity() {
        assert_eq!(minute(None), minute(None));
    }

    #[test]
    fn a_world_without_players_is_quiet() {
        let a = draw(&mut StdRng::seed_from_u64(1), 0.0, ONE_MINUTE, None);
        assert_eq!(a, Activity::default());
    }

    #[test]
    fn the_population_drifts_but_stays_near_its_mean() {
        let mut rng = StdRng::seed_from_u64(3);
        let mut p = Population::new(2000);
        let mut seen = Vec::new();
        for _ in 0..36_000 {
            p.step(&mut rng, Duration::from_millis(100));
            seen.push(p.online());
        }
        let (lo, hi) = seen
            .iter()
            .fold((f64::MAX, f64::MIN), |(lo, hi), &x| (lo.min(x), hi.max(x)));
        assert!(hi - lo > 100.0, "no drift in an hour: {lo}..{hi}");
        assert!(lo >= 1000.0 && hi <= 3000.0, "{lo}..{hi}");
    }
}
