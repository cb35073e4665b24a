//! Who is asking: the scopes a flag's rules and overrides can target.

use liveops_flags::Context;

/// Builds a [`Context`] once, to be reused for every read about the same
/// player or village: a read borrows it and never copies it.
///
/// From [`FlagClient::context`](super::FlagClient::context) the world is
/// already the client's; a context without a world matches no world rule.
#[derive(Clone, Debug, Default)]
pub struct ContextBuilder {
    ctx: Context,
}

impl ContextBuilder {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn world(mut self, id: impl Into<String>) -> Self {
        self.ctx.world = Some(id.into());
        self
    }

    pub fn village(mut self, id: impl Into<String>) -> Self {
        self.ctx.village = Some(id.into());
        self
    }

    pub fn account(mut self, id: impl Into<String>) -> Self {
        self.ctx.account = Some(id.into());
        self
    }

    pub fn player(mut self, id: impl Into<String>) -> Self {
        self.ctx.player = Some(id.into());
        self
    }

    /// Who a percentage rollout is sticky for; without it the player, then
    /// the account, is used.
    pub fn targeting_key(mut self, key: impl Into<String>) -> Self {
        self.ctx.targeting_key = Some(key.into());
        self
    }

    pub fn build(self) -> Context {
        self.ctx
    }
}

impl From<ContextBuilder> for Context {
    fn from(b: ContextBuilder) -> Context {
        b.ctx
    }
}
