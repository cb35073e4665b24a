//! Comms: what players are told about an incident, on every channel, from
//! templates the live-ops team owns.
//!
//! - `channel.rs`: the channels, the parts each message has and the
//!   limits each platform sets; the player-facing states.
//! - `templates.rs`: loading `CHANNEL[.STATE[.SEV]].j2` files (or the
//!   shipped ones) and rendering a message, every error naming file:line.
//! - `context.rs`: what a template sees of an incident (nothing internal)
//!   and the sample incident `liveops check-config` renders.
//! - `http.rs`: drafting and sending, from the API; `deliver.rs`: where
//!   each channel's message goes.

pub mod channel;
pub mod context;
pub mod deliver;
pub mod http;
pub mod mail;
pub mod templates;

pub use channel::{Channel, CommsState, Message};
pub use templates::{CommsError, Templates};
