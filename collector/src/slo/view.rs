//! One scope's series, looked up once.
//!
//! A rule reads several windows of every SLO of a scope; going through
//! [`Engine::window`] looks the world up by name for each of them, and with
//! ten thousand worlds those string comparisons were a tenth of the
//! collector's time. [`Engine::views`] walks the worlds in order instead.

use std::time::Duration;

use super::{Counts, Engine, Scope, World};

/// The series of one scope (a world or the fleet) at hand.
#[derive(Clone, Copy)]
pub struct View<'a> {
    engine: &'a Engine,
    scope: Scope<'a>,
    /// `None` for the fleet, or a world the engine does not hold.
    world: Option<&'a World>,
}

impl<'a> View<'a> {
    pub fn scope(&self) -> Scope<'a> {
        self.scope
    }

    /// Counts of SLO number `slo` over `[now - window, now)`: the same as
    /// [`Engine::window`] for this scope.
    pub fn window(&self, slo: usize, now_ms: u64, window: Duration) -> Counts {
        match self.scope {
            Scope::Fleet => self.engine.fleet.get(slo).map(|f| f.sum(now_ms, window)),
            Scope::World(_) => self
                .world
                .and_then(|w| w.series.get(slo))
                .map(|s| s.sum(now_ms, window)),
        }
        .unwrap_or_default()
    }

    /// The same as [`Engine::history`] for this scope.
    pub fn history(&self, now_ms: u64) -> Duration {
        let first = match self.scope {
            Scope::Fleet => self.engine.firsts.keys().next().copied(),
            Scope::World(_) => self.world.map(|w| w.first_ms),
        }
        .unwrap_or(u64::MAX);
        Duration::from_millis(now_ms.saturating_sub(first.min(now_ms)))
    }
}

impl Engine {
    /// The fleet, then every world by name, each looked up once.
    pub fn views(&self) -> impl Iterator<Item = View<'_>> {
        let fleet = View {
            engine: self,
            scope: Scope::Fleet,
            world: None,
        };
        std::iter::once(fleet).chain(self.worlds.iter().map(move |(name, w)| View {
            engine: self,
            scope: Scope::World(name),
            world: Some(w),
        }))
    }

    /// One scope's view.
    pub fn view<'a>(&'a self, scope: Scope<'a>) -> View<'a> {
        let world = match scope {
            Scope::World(name) => self.worlds.get(name),
            Scope::Fleet => None,
        };
        View {
            engine: self,
            scope,
            world,
        }
    }
}
