//! The one incident page, public and internal.
//!
//! Public, for players and no token: `/status` (each world and game system
//! now, the incidents open, the last 30 days), `/status/incidents/{id}`
//! (its updates in order), `/status.json` and `/status/feed.atom`. They
//! show only what comms published (`liveops comms send --channel status`):
//! an incident nobody published is not there, and nothing internal (notes,
//! people, pages, severity) ever is.
//!
//! Internal: `/incidents/{id}` (role `viewer`), the whole incident.
//!
//! - `view.rs`: what the pages show, from the book and the live worlds
//!   (pure); `html.rs`: the pages, plain HTML without JavaScript, every
//!   value escaped; `atom.rs`: the feed; `http.rs`: the routes.

pub mod atom;
pub mod html;
pub mod http;
pub mod view;
