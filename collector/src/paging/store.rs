//! The page book in sled: one entry per page in `pages` (so a change
//! writes one page, not the book), one per silence in `silences`, and
//! the rest (alerts known to be firing, id counters) under `book`.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::book::{Book, Tracked};
use crate::CollectorError;
use crate::store::Store;

const META: &[u8] = b"book";

pub(super) struct Trees {
    pages: sled::Tree,
    silences: sled::Tree,
}

#[derive(Serialize, Deserialize, Default)]
struct Meta {
    next_page: u64,
    next_silence: u64,
    alerts: BTreeMap<String, Tracked>,
    /// So a restart neither repeats nor (within `notice::CATCH_UP_MS`)
    /// misses a handoff notice.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    handoffs_until: Option<u64>,
}

impl Trees {
    pub fn open(store: &Store) -> Result<Trees, CollectorError> {
        Ok(Trees {
            pages: store.tree("pages")?,
            silences: store.tree("silences")?,
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
                book.alerts = meta.alerts;
                book.handoffs_until = meta.handoffs_until;
            } else if let Ok(key) = <[u8; 8]>::try_from(k.as_ref()) {
                match serde_json::from_slice(&v) {
                    Ok(p) => {
                        book.pages.insert(u64::from_be_bytes(key), p);
                    }
                    Err(e) => tracing::warn!(error = %e, "skipping an unreadable stored page"),
                }
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
            alerts: book.alerts.clone(),
            handoffs_until: book.handoffs_until,
        };
        pages.insert(META, serde_json::to_vec(&meta)?);
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
