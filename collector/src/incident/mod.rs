//! Incidents: the one object pages, people, comms and the timeline hang on.
//!
//! - `model.rs`: what an incident is (state, severity, roles, timeline).
//! - `book.rs`: the pure book of incidents: open (by hand, or from a page,
//!   related pages joining one incident), move through the lifecycle,
//!   assign, note, rate; every change validated first, then recorded on
//!   the incident's timeline.
//! - `join.rs`: what the collector does to the book itself: a page opens
//!   an incident or joins one, a signal lands on those it concerns.
//! - `impact.rs`: player impact and the severity it earns (pure);
//!   `assess.rs`: each measurement recorded, the severity re-rated;
//!   `response.rs`: detect, acknowledge, mitigate, resolve times;
//!   `notify.rs`: severity changes told through the paging policy.
//! - `actions.rs`: action items, overdue ones told as tickets;
//!   `postmortem.rs`: the blameless postmortem, pre-filled;
//!   `updates.rs`: messages sent to players, the public updates.
//! - `service.rs`: the book in sled, every change audited before it counts.
//! - `feed.rs`: the timeline fed from the event stream: pages open and
//!   join incidents; acks, alerts, mitigations and reloads land on them.
//! - `http.rs`: the incident API.

pub mod actions;
pub mod assess;
pub mod book;
pub mod feed;
pub mod http;
pub mod http_actions;
pub mod impact;
pub mod join;
pub mod model;
pub mod notify;
pub mod postmortem;
pub mod response;
pub mod service;
pub mod updates;

pub use book::{Book, Draft, IncidentError};
pub use join::PageOpened;
pub use model::{Entry, Incident, NoteKind, Role, Sev, State, What};
pub use service::Incidents;
