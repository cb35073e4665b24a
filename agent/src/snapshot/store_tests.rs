use super::*;
use crate::snapshot::index::{Entry, WalkError};

fn entries(n: u32) -> Vec<Entry> {
    let mut out: Vec<Entry> = (0..n)
        .map(|i| Entry {
            key: index::key_of("village", &format!("v{i}")),
            digest: index::digest(format!("line {i}").as_bytes()),
        })
        .collect();
    out.sort_by_key(|e| e.key);
    out
}

fn read_all(store: &Store, root: &Digest) -> Vec<Entry> {
    let mut got = Vec::new();
    let walked: Result<(), WalkError<PackError, ()>> = index::walk(store, Some(root), &mut |e| {
        got.push(e);
        Ok(())
    });
    assert!(walked.is_ok());
    got
}

#[test]
fn index_nodes_an_older_agent_kept_in_sled_move_into_packs() {
    let dir = tempfile::tempdir().unwrap();
    let want = entries(3000);
    let (root, ids) = {
        let store = Store::open(dir.path(), 1 << 20).unwrap();
        let mut written = 0;
        let root = index::build(&store, &want, &mut written).unwrap().unwrap();
        assert!(written > 0);
        // Building the same index again stores nothing.
        let mut again = 0;
        index::build(&store, &want, &mut again).unwrap();
        assert_eq!(again, 0);
        let (mut seen, mut blobs) = (HashSet::new(), HashSet::new());
        index::mark(&store, &root, &mut seen, &mut blobs).unwrap();
        // The layout before node packs: every node in sled's `nodes` tree.
        let old = store.db.open_tree("nodes").unwrap();
        for id in &seen {
            old.insert(id, store.get(id).unwrap().unwrap()).unwrap();
        }
        store.durable().unwrap();
        (root, seen.len())
    };
    std::fs::remove_dir_all(dir.path().join("snapshots/nodes")).unwrap();
    let store = Store::open(dir.path(), 1 << 20).unwrap();
    assert_eq!(read_all(&store, &root), want);
    assert!(store.db.open_tree("nodes").unwrap().is_empty());
    assert_eq!(store.nodes.count(), ids);
}
