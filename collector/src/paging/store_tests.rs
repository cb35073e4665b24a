//! The book in sled: what a save writes is what the next open reads, an
//! unchanged alert is not written again, and a book stored before alerts
//! had their own tree moves into it.

use liveops_protocol::AlertStatus;

use super::book_tests::{Fixture, alert, t0};
use super::store::Trees;
use crate::store::Store;

fn opened() -> (tempfile::TempDir, Store, Trees) {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let trees = Trees::open(&store).unwrap();
    (dir, store, trees)
}

#[test]
fn a_saved_book_loads_as_it_was_and_a_save_writes_only_what_changed() {
    let (_dir, store, trees) = opened();
    let mut f = Fixture::new();
    f.fire("WorldDown", "w1", t0());
    f.fire("WorldDown", "w2", t0());
    f.fire("TickStalled", "w1", t0() + 1);
    trees.save(&mut f.book).unwrap();
    let loaded = trees.load().unwrap();
    assert_eq!(loaded.alerts, f.book.alerts);
    assert_eq!(loaded.pages, f.book.pages);
    assert_eq!(store.tree("page_alerts").unwrap().len(), 3);

    // Only the alert that resolved is written (removed) by the next save.
    f.apply(
        super::book::Input::Alert(alert("WorldDown", "w2", AlertStatus::Resolved)),
        t0() + 2,
    );
    let dirty = f.book.take_dirty();
    assert_eq!(dirty.alerts.len(), 1, "{:?}", dirty.alerts);
    f.book.dirty = dirty;
    trees.save(&mut f.book).unwrap();
    assert_eq!(store.tree("page_alerts").unwrap().len(), 2);
    assert_eq!(trees.load().unwrap().alerts, f.book.alerts);
}

#[test]
fn alerts_stored_in_the_books_entry_by_an_older_collector_move_to_their_tree() {
    let (_dir, store, trees) = opened();
    let mut f = Fixture::new();
    f.fire("WorldDown", "w1", t0());
    let legacy = serde_json::json!({
        "next_page": f.book.next_page,
        "next_silence": 0,
        "alerts": f.book.alerts,
    });
    let pages = store.tree("pages").unwrap();
    pages
        .insert(b"book", serde_json::to_vec(&legacy).unwrap())
        .unwrap();
    let mut loaded = trees.load().unwrap();
    assert_eq!(loaded.alerts, f.book.alerts);
    trees.save(&mut loaded).unwrap();
    let meta: serde_json::Value =
        serde_json::from_slice(&pages.get(b"book").unwrap().unwrap()).unwrap();
    assert!(meta.get("alerts").is_none(), "{meta}");
    assert_eq!(trees.load().unwrap().alerts, f.book.alerts);
}
