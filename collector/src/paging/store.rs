//! The page book in sled: one entry per page in `pages` (so a change
//! writes one page, not the book), one per silence in `silences`, one
//! per alert known to be firing in `page_alerts`, and the id counters
//! under `book`. A save writes only what changed: with a thousand worlds
//! down, an input that touches one page writes that page, not all.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::book::{Book, Tracked};
use super::inflight::InFlight;
use crate::CollectorError;
use crate::store::Store;

const META: &[u8] = b"book";

pub(super) struct Trees {
    pages: sled::Tree,
    silences: sled::Tree,
    alerts: sled::Tree,
}

#[derive(Serialize, Deserialize, Default)]
struct Meta {
    next_page: u64,
    next_silence: u64,
    /// Where alerts were stored before they had their own tree: read, and
    /// moved to `page_alerts` at the next save.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    alerts: BTreeMap<String, Tracked>,
    /// So a restart neither repeats nor (within `notice::CATCH_UP_MS`)
    /// misses a handoff notice.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    handoffs_until: Option<u64>,
    /// Notices whose delivery report has not come back: a restart still
    /// falls back when their channel fails.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    notices: BTreeMap<String, InFlight>,
}

impl Trees {
    pub fn open(store: &Store) -> Result<Trees, CollectorError> {
        Ok(Trees {
            pages: store.tree("pages")?,
            silences: store.tree("silences")?,
            alerts: store.tree("page_alerts")?,
        })
    }

    pub fn load(&self) -> Result<Book, CollectorError> {
        let mut book = Book::default();
        for item in self.pages.iter() {
            let (k, v) = item?;
            if k.as_ref() == META {
                let meta: Meta = serde_json::from_slice(&v)?;
                book.next_page = meta.next_page;
                book.next_silence = meta.next_silence;
                book.handoffs_until = meta.handoffs_until;
                book.notices = meta.notices;
                for (fp, t) in meta.alerts {
                    book.track(fp, t);
                }
            } else if let Ok(key) = <[u8; 8]>::try_from(k.as_ref()) {
                match serde_json::from_slice(&v) {
                    Ok(p) => {
                        book.pages.insert(u64::from_be_bytes(key), p);
                    }
                    Err(e) => tracing::warn!(error = %e, "skipping an unreadable stored page"),
                }
            }
        }
        for item in self.alerts.iter() {
            let (k, v) = item?;
            let fp = String::from_utf8_lossy(&k).into_owned();
            match serde_json::from_slice(&v) {
                Ok(t) => {
                    book.alerts.insert(fp, t);
                }
                Err(e) => tracing::warn!(error = %e, "skipping an unreadable stored alert"),
            }
        }
        for item in self.silences.iter() {
            let (k, v) = item?;
            if let (Ok(key), Ok(s)) = (<[u8; 8]>::try_from(k.as_ref()), serde_json::from_slice(&v))
            {
                book.silences.insert(u64::from_be_bytes(key), s);
            }
        }
        Ok(book)
    }

    /// Writes what changed since the last save, in one batch per tree.
    pub fn save(&self, book: &mut Book) -> Result<(), CollectorError> {
        let dirty = book.take_dirty();
        let mut pages = sled::Batch::default();
        for n in dirty.pages {
            match book.pages.get(&n) {
                Some(p) => pages.insert(&n.to_be_bytes(), serde_json::to_vec(p)?),
                None => pages.remove(&n.to_be_bytes()),
            }
        }
        let meta = Meta {
            next_page: book.next_page,
            next_silence: book.next_silence,
            alerts: BTreeMap::new(),
            handoffs_until: book.handoffs_until,
            notices: book.notices.clone(),
        };
        pages.insert(META, serde_json::to_vec(&meta)?);
        let mut alerts = sled::Batch::default();
        for fp in dirty.alerts {
            match book.alerts.get(&fp) {
                Some(t) => alerts.insert(fp.as_bytes(), serde_json::to_vec(t)?),
                None => alerts.remove(fp.as_bytes()),
            }
        }
        // Alerts first: a crash between the two leaves them where the
        // next load finds them (a legacy `book` entry is read, then
        // overwritten without its alerts).
        self.alerts.apply_batch(alerts)?;
        self.pages.apply_batch(pages)?;
        let mut silences = sled::Batch::default();
        for n in dirty.silences {
            match book.silences.get(&n) {
                Some(s) => silences.insert(&n.to_be_bytes(), serde_json::to_vec(s)?),
                None => silences.remove(&n.to_be_bytes()),
            }
        }
        self.silences.apply_batch(silences)?;
        Ok(())
    }
}
