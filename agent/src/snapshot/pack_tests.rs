use super::*;
use crate::snapshot::index::digest;

fn packs(dir: &Path, max: u64) -> Packs {
    Packs::open_with_max(dir, max).unwrap().0
}

fn line(i: usize) -> Vec<u8> {
    format!(r#"{{"kind":"village","id":"v{i}","data":{{"gold":{i}}}}}"#).into_bytes()
}

fn put(p: &Packs, range: std::ops::Range<usize>) -> u64 {
    let lines: Vec<(Digest, Vec<u8>)> = range.map(|i| (digest(&line(i)), line(i))).collect();
    let refs: Vec<(Digest, &[u8])> = lines.iter().map(|(d, l)| (*d, l.as_slice())).collect();
    p.put(&refs).unwrap()
}

#[test]
fn lines_are_stored_once_read_back_and_packs_roll() {
    let dir = tempfile::tempdir().unwrap();
    let p = packs(dir.path(), 4096);
    let added = put(&p, 0..500);
    assert_eq!(added, (0..500).map(|i| line(i).len() as u64).sum::<u64>());
    assert_eq!(put(&p, 250..500), 0, "stored lines are not stored again");
    p.sync().unwrap();
    drop(p);
    let p = packs(dir.path(), 4096);
    assert_eq!(p.count(), 500);
    for i in [0, 1, 499] {
        assert_eq!(p.get(&digest(&line(i))).unwrap(), Some(line(i)));
    }
    assert_eq!(p.get(&digest(b"never")).unwrap(), None);
    assert!(numbers(&p.dir).unwrap().len() > 5, "4 KiB packs roll");
}

#[test]
fn a_sweep_reclaims_dead_packs_and_keeps_every_live_line() {
    let dir = tempfile::tempdir().unwrap();
    let p = packs(dir.path(), 64 << 10);
    put(&p, 0..5000);
    p.sync().unwrap();
    let before = p.size_on_disk();
    // One line in ten stays live.
    let live: HashSet<Digest> = (0..5000).step_by(10).map(|i| digest(&line(i))).collect();
    let (gone, unused) = p.sweep(&live).unwrap();
    assert_eq!(gone, 4500);
    assert!(!unused.is_empty());
    for path in unused {
        std::fs::remove_file(path).unwrap();
    }
    let after = p.size_on_disk();
    assert!(after * 5 < before, "{before} → {after} bytes");
    for i in (0..5000).step_by(10) {
        assert_eq!(p.get(&digest(&line(i))).unwrap(), Some(line(i)), "v{i}");
    }
    assert_eq!(p.get(&digest(&line(1))).unwrap(), None);
    // The rewritten indexes read back the same after a restart.
    drop(p);
    let p = packs(dir.path(), 64 << 10);
    assert_eq!(p.count(), 500);
    assert_eq!(p.get(&digest(&line(4990))).unwrap(), Some(line(4990)));
}

#[test]
fn entries_past_a_packs_end_are_dropped_after_a_crash() {
    let dir = tempfile::tempdir().unwrap();
    let p = packs(dir.path(), PACK_MAX);
    put(&p, 0..100);
    p.sync().unwrap();
    drop(p);
    // A crash that kept the index but lost the last bytes of the pack.
    let path = pack_path(dir.path(), 1);
    let len = std::fs::metadata(&path).unwrap().len();
    let f = OpenOptions::new().write(true).open(&path).unwrap();
    f.set_len(len - 10).unwrap();
    let (p, dropped) = Packs::open(dir.path()).unwrap();
    assert_eq!(dropped, 1);
    assert_eq!(p.get(&digest(&line(99))).unwrap(), None);
    assert_eq!(p.get(&digest(&line(98))).unwrap(), Some(line(98)));
    // And the pack goes on from its real end.
    put(&p, 99..100);
    assert_eq!(p.get(&digest(&line(99))).unwrap(), Some(line(99)));
}
