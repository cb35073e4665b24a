use super::*;

fn segments(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    names
}

#[test]
fn entries_flushed_come_back_in_order_and_unflushed_ones_do_not() {
    let dir = tempfile::tempdir().unwrap();
    let (j, found) = Journal::open(dir.path()).unwrap();
    assert!(found.is_empty());
    j.append(1, b"one");
    j.append(2, b"two");
    assert_eq!(j.flush().unwrap(), 2);
    j.append(3, b"three, never flushed");
    drop(j);
    let (_, found) = Journal::open(dir.path()).unwrap();
    assert_eq!(found, [(1, b"one".to_vec()), (2, b"two".to_vec())]);
}

#[test]
fn a_torn_or_damaged_tail_ends_the_segment_and_the_next_open_starts_anew() {
    let dir = tempfile::tempdir().unwrap();
    let (j, _) = Journal::open(dir.path()).unwrap();
    for pos in 1..=3 {
        j.append(pos, format!("entry {pos}").as_bytes());
    }
    j.flush().unwrap();
    drop(j);
    let seg = dir.path().join(&segments(dir.path())[0]);
    let mut data = std::fs::read(&seg).unwrap();
    // A crash mid-write: the last record cut short.
    data.truncate(data.len() - 3);
    std::fs::write(&seg, &data).unwrap();
    let (j, found) = Journal::open(dir.path()).unwrap();
    assert_eq!(found.iter().map(|(p, _)| *p).collect::<Vec<_>>(), [1, 2]);
    j.append(4, b"after the crash");
    j.flush().unwrap();
    drop(j);
    // A flipped byte inside the second record: its checksum fails.
    let mut data = std::fs::read(&seg).unwrap();
    data[HEADER + 7 + HEADER + 2] ^= 0xff;
    std::fs::write(&seg, &data).unwrap();
    let (_, found) = Journal::open(dir.path()).unwrap();
    assert_eq!(
        found.iter().map(|(p, _)| *p).collect::<Vec<_>>(),
        [1, 4],
        "the damaged segment's rest is skipped; the next segment is whole"
    );
}

#[test]
fn truncation_deletes_only_segments_wholly_covered() {
    let dir = tempfile::tempdir().unwrap();
    let (j, _) = Journal::open(dir.path()).unwrap();
    j.append(1, b"a");
    j.append(2, b"b");
    j.flush().unwrap();
    j.truncate(1).unwrap();
    assert_eq!(segments(dir.path()).len(), 1, "entry 2 is still needed");
    j.append(3, b"c");
    j.flush().unwrap();
    j.truncate(2).unwrap();
    assert_eq!(segments(dir.path()), [format!("{:020}.log", 3)]);
    j.truncate(3).unwrap();
    assert!(segments(dir.path()).is_empty());
    drop(j);
    let (_, found) = Journal::open(dir.path()).unwrap();
    assert!(found.is_empty());
}
