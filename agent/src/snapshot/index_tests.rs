use std::cell::{Cell, RefCell};
use std::collections::{HashMap, HashSet};
use std::convert::Infallible;

use super::*;

/// Nodes in a map, counting reads so tests can see what a diff touched.
#[derive(Default)]
struct Mem {
    nodes: RefCell<HashMap<Digest, Vec<u8>>>,
    reads: Cell<usize>,
}

impl Nodes for Mem {
    type Error = Infallible;
    fn get(&self, id: &Digest) -> Result<Option<Vec<u8>>, Infallible> {
        self.reads.set(self.reads.get() + 1);
        Ok(self.nodes.borrow().get(id).cloned())
    }
    fn put(&self, id: &Digest, bytes: &[u8]) -> Result<u64, Infallible> {
        let old = self.nodes.borrow_mut().insert(*id, bytes.to_vec());
        Ok(if old.is_some() { 0 } else { bytes.len() as u64 })
    }
}

fn world(n: usize, version: impl Fn(usize) -> u64) -> Vec<Entry> {
    let mut v: Vec<Entry> = (0..n)
        .map(|i| Entry {
            key: key_of("village", &format!("v{i}")),
            digest: digest(&version(i).to_le_bytes()),
        })
        .collect();
    v.sort_unstable();
    v
}

fn root(mem: &Mem, entries: &[Entry]) -> Option<Digest> {
    build(mem, entries, &mut 0).unwrap()
}

fn all(mem: &Mem, r: Option<&Digest>) -> Vec<Entry> {
    let mut out = Vec::new();
    walk::<_, Infallible>(mem, r, &mut |e| {
        out.push(e);
        Ok(())
    })
    .unwrap();
    out
}

#[test]
fn the_same_entities_give_the_same_root_in_any_order() {
    let mem = Mem::default();
    let a = world(5000, |i| i as u64);
    let r1 = root(&mem, &a);
    let r2 = root(&Mem::default(), &a);
    assert_eq!(r1, r2);
    assert_eq!(
        all(&mem, r1.as_ref()),
        a,
        "walk gives every entry back in key order"
    );
    assert_eq!(root(&mem, &[]), None);
}

#[test]
fn a_diff_reads_nodes_in_proportion_to_the_change_not_the_world() {
    let mem = Mem::default();
    let n = 200_000;
    let before = root(&mem, &world(n, |i| i as u64));
    let changed: HashSet<usize> = [7, 1234, 99_999].into();
    let after = root(
        &mem,
        &world(n, |i| {
            if changed.contains(&i) {
                1_000_000 + i as u64
            } else {
                i as u64
            }
        }),
    );
    let nodes_total = mem.nodes.borrow().len();
    mem.reads.set(0);
    let changes = diff(&mem, before.as_ref(), after.as_ref()).unwrap();
    let want: HashSet<Digest> = changed
        .iter()
        .map(|i| key_of("village", &format!("v{i}")))
        .collect();
    assert_eq!(changes.iter().map(|c| c.key).collect::<HashSet<_>>(), want);
    assert!(changes.iter().all(|c| c.old.is_some() && c.new.is_some()));
    // Two roots, then two nodes a level per changed entity (depth ≤ 5).
    assert!(
        mem.reads.get() <= 2 + 3 * 2 * 5,
        "{} reads of {nodes_total} nodes",
        mem.reads.get()
    );
    let none = diff(&mem, before.as_ref(), before.as_ref()).unwrap();
    assert!(none.is_empty());
}

#[test]
fn added_and_removed_entities_and_leaves_that_split() {
    let mem = Mem::default();
    // 60 entries fit a leaf; 400 do not: the shapes differ at the root.
    let small = world(60, |i| i as u64);
    let big = world(400, |i| i as u64);
    let (a, b) = (root(&mem, &small), root(&mem, &big));
    let grown = diff(&mem, a.as_ref(), b.as_ref()).unwrap();
    assert_eq!(grown.len(), 340);
    assert!(grown.iter().all(|c| c.old.is_none() && c.new.is_some()));
    let shrunk = diff(&mem, b.as_ref(), a.as_ref()).unwrap();
    assert_eq!(shrunk.len(), 340);
    assert!(shrunk.iter().all(|c| c.old.is_some() && c.new.is_none()));
    let from_nothing = diff(&mem, None, a.as_ref()).unwrap();
    assert_eq!(from_nothing.len(), 60);
}

#[test]
fn lookup_finds_one_entity_by_its_path() {
    let mem = Mem::default();
    let w = world(10_000, |i| i as u64 * 3);
    let r = root(&mem, &w);
    let key = key_of("village", "v4242");
    let found = lookup(&mem, r.as_ref(), &key).unwrap();
    assert_eq!(found, Some(digest(&(4242u64 * 3).to_le_bytes())));
    let missing = lookup(&mem, r.as_ref(), &key_of("village", "v10000")).unwrap();
    assert_eq!(missing, None);
}

#[test]
fn unchanged_subtrees_are_stored_once() {
    let mem = Mem::default();
    let mut written = 0;
    build(&mem, &world(50_000, |i| i as u64), &mut written).unwrap();
    let first = written;
    written = 0;
    build(
        &mem,
        &world(50_000, |i| if i == 5 { 9 } else { i as u64 }),
        &mut written,
    )
    .unwrap();
    assert!(
        written * 100 < first,
        "second build wrote {written} of {first} bytes"
    );
    let (mut seen, mut blobs) = (HashSet::new(), HashSet::new());
    let r = root(&mem, &world(50_000, |i| i as u64));
    mark(&mem, &r.unwrap_or_default(), &mut seen, &mut blobs).unwrap();
    assert_eq!(blobs.len(), 50_000);
}

#[test]
fn a_damaged_node_is_an_error_not_a_panic() {
    let mem = Mem::default();
    let r = root(&mem, &world(1000, |i| i as u64)).unwrap_or_default();
    for bytes in [
        vec![],
        vec![1],
        vec![0, 5, 0, 1, 2],
        vec![9, 0, 0],
        vec![1, 0xff, 0xff],
    ] {
        mem.nodes.borrow_mut().insert(r, bytes);
        assert!(diff(&mem, Some(&r), None).is_err());
        assert!(lookup(&mem, Some(&r), &[0; 16]).is_err());
    }
    mem.nodes.borrow_mut().remove(&r);
    assert!(matches!(
        diff(&mem, Some(&r), None),
        Err(IndexError::Missing(_))
    ));
}

#[test]
fn under_finds_exactly_one_owners_entities_in_a_large_index() {
    let mem = Mem::default();
    // 20,000 owners with 3 entities each; owner 7 has 200 (a leaf splits).
    let mut entries: Vec<Entry> = (0..20_000)
        .flat_map(|o| (0..3).map(move |i| (o, i)))
        .chain((3..200).map(|i| (7, i)))
        .map(|(o, i)| Entry {
            key: owner_key(&format!("p{o}"), "village", &format!("v{o}-{i}")),
            digest: digest(format!("{o}/{i}").as_bytes()),
        })
        .collect();
    entries.sort_unstable();
    let r = root(&mem, &entries);
    for (owner, want) in [("p7", 200), ("p19999", 3), ("p20000", 0)] {
        mem.reads.set(0);
        let mut found = Vec::new();
        under(
            &mem,
            r.as_ref(),
            &owner_prefix(owner),
            OWNER_PREFIX,
            &mut found,
        )
        .unwrap();
        assert_eq!(found.len(), want, "{owner}");
        assert!(found.iter().all(|e| e.key[..8] == owner_prefix(owner)[..8]));
        // A small owner sits in one leaf a few levels down; one with more
        // than a leaf holds is a chain down its 16-nibble prefix, then its
        // own subtree. Either way, not the 60,000 others.
        let most = if want > LEAF_MAX { 40 } else { 8 };
        assert!(
            mem.reads.get() <= most,
            "{owner}: {} reads",
            mem.reads.get()
        );
    }
}
