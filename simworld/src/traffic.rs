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
/// spent a little all the time, as in any real game; and a tenth of the
/// shipped budgets (error_rate 99.5 %, payment_success 99.0 %), so that a
/// healthy world looks healthy. At the old 0.5 % and independent draws, one
/// unlucky payment in the first thirty showed w2 at −233 % budget before any
/// fault. A test replays the demo's worlds against the shipped objectives.
const REQUEST_ERROR_SHARE: f64 = 0.0005;
const PAYMENT_FAILURE_SHARE: f64 = 0.001;

/// When baseline failures happen. Independent draws put one failure among a
/// world's first few payments now and then, and a ratio over a few dozen
/// events then reads far below any objective: the demo's first tables looked
/// like an outage. Instead each event adds a random part of the share (0 to
/// twice it, so the mean is the share) to a debt, and fails when the debt
/// reaches one. Failures stay irregular but can never come closer than
/// 1 / (2 × share) events apart, so the failure share seen so far never
/// exceeds twice the baseline share, from the first event on.
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct Baseline {
    requests: f64,
    payments: f64,
}

impl Baseline {
    fn fails(debt: &mut f64, rng: &mut impl Rng, share: f64) -> bool {
        *debt += share * rng.random_range(0.0..2.0);
        let due = *debt >= 1.0;
        if due {
            *debt -= 1.0;
        }
        due
    }
}

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

/// Draws what `players` online players do during a tick of `dt`, under
/// `fault`; `baseline` carries the healthy failures over from tick to tick.
pub(crate) fn draw(
    rng: &mut impl Rng,
    baseline: &mut Baseline,
    players: f64,
    dt: Duration,
    fault: Option<Fault>,
) -> Activity {
    let secs = dt.as_secs_f64();
    let (burst, payments_down) = (
        fault == Some(Fault::ErrorBurst),
        fault == Some(Fault::PaymentFailure),
    );
    let auth_slow = fault == Some(Fault::AuthSlow);

    let requests = (0..events(rng, players * REQUESTS_PER_PLAYER_SEC * secs))
        .map(|_| Request {
            op: Op::pick(rng),
            ok: !burst && !Baseline::fails(&mut baseline.requests, rng, REQUEST_ERROR_SHARE),
        })
        .collect();
    let payments = (0..events(rng, players * PAYMENTS_PER_PLAYER_SEC * secs))
        .map(|_| {
            !payments_down && !Baseline::fails(&mut baseline.payments, rng, PAYMENT_FAILURE_SHARE)
        })
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
mod tests;
