//! Pages as the demo prints them, from the pager's own decisions on the
//! collector's event stream: the page and its severity, who was paged
//! through which channel, and the `liveops ack` command that stops it,
//! ready to paste.

use std::sync::Arc;
use std::time::Duration;

use liveops_collector::events::{Event, Stamped};
use liveops_collector::paging::{PageEvent, PageEventKind as K};
use liveops_collector::state::Shared;
use tokio::sync::broadcast::{self, error::TryRecvError};

pub struct PagePrinter {
    events: broadcast::Receiver<Arc<Stamped>>,
    /// `liveops ack` up to the page id, and the options after it.
    ack: (String, String),
    /// A page just opened (or raised): its ack command follows the
    /// people it paged.
    pending_ack: Option<String>,
}

impl PagePrinter {
    /// Subscribes at once, so no decision made after this is missed.
    pub fn new(shared: &Shared, liveops: &str, collector: &str, token: &str) -> Self {
        PagePrinter {
            events: shared.events().subscribe(),
            ack: (
                format!("{liveops} ack"),
                format!("--reason \"on it\" --collector {collector} --token {token}"),
            ),
            pending_ack: None,
        }
    }

    /// Prints every paging decision made since the last call.
    pub fn print(&mut self, elapsed: Duration) {
        loop {
            match self.events.try_recv() {
                Ok(s) => {
                    if let Event::Page(e) = &s.event {
                        self.one(elapsed, e);
                    }
                }
                Err(TryRecvError::Lagged(n)) => {
                    println!("          ({n} paging decisions not shown: see `liveops pages`)");
                }
                Err(TryRecvError::Empty | TryRecvError::Closed) => break,
            }
        }
        self.flush_ack();
    }

    fn flush_ack(&mut self) {
        if let Some(id) = self.pending_ack.take() {
            println!("          ack       {} {id} {}", self.ack.0, self.ack.1);
        }
    }

    fn one(&mut self, elapsed: Duration, e: &PageEvent) {
        if e.kind != K::Paged {
            self.flush_ack();
        }
        let at = format!("{:>6.1}s", elapsed.as_secs_f64());
        let id = e.id.as_deref().unwrap_or("-");
        let what = format!(
            "{} {}",
            e.alertname.as_deref().unwrap_or("-"),
            e.world.as_deref().unwrap_or("-")
        );
        let sev = e.severity.map_or("-", |s| s.as_str());
        let team = e.team.as_deref().unwrap_or("-");
        let via = e.channel.as_deref().unwrap_or("-");
        let who = e
            .person
            .as_deref()
            .unwrap_or("(nobody on call: the channel's own destination)");
        let why = &e.reason;
        match e.kind {
            K::Opened | K::Reopened => {
                let again = if e.kind == K::Reopened {
                    " (reopened: it fired again within the flap window)"
                } else {
                    ""
                };
                println!("{at}  PAGE      {id} {sev} {what} → team {team}{again}");
                self.pending_ack = Some(id.to_owned());
            }
            K::Paged => println!("          paged     {who} via {via}"),
            K::Raised => {
                println!("{at}  RAISED    {id} {why}");
                self.pending_ack = Some(id.to_owned());
            }
            K::Grouped => {
                println!("{at}  GROUPED   {what} into {id} (one page per world and team)")
            }
            K::Inhibited => println!("{at}  INHIBITED {what}: {why}, not paged"),
            K::Silenced => println!("{at}  SILENCED  {what}: {why}, not paged"),
            K::Escalated | K::Repeated => println!("{at}  ESCALATED {id} {why}"),
            K::DeliveryFailed => println!("{at}  FAILED    {id} {who} via {via}: {why}"),
            K::FallbackUsed => println!("{at}  FALLBACK  {id} {who} via {via} ({why})"),
            K::Exhausted => println!("{at}  EXHAUSTED {id} {why}"),
            K::Acked => println!("{at}  ACKED     {id} by {}: {why}", e.actor),
            K::Resolved => println!("{at}  RESOLVED  {id} by {}: {why}", e.actor),
            K::HeldForWorkingHours => {
                println!(
                    "{at}  HELD      {id} {sev} {what}: outside team {team}'s working hours, {why}"
                );
            }
            K::Notified => println!("{at}  NOTICE    {who} via {via}: {why}"),
            K::NoticeUndelivered => println!("{at}  NOTICE    {who}: not delivered, {why}"),
            K::Routed | K::Delivered | K::SilenceAdded | K::SilenceExpired => {}
        }
    }
}
