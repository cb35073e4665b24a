use super::*;

fn limits(max_reports: u64, max_dead_letters: u64) -> SpoolConfig {
    SpoolConfig {
        max_reports,
        max_attempts: 8,
        max_dead_letters,
    }
}

/// Reopens after a drop: sled's flusher thread may hold the file lock
/// for a moment after the last handle is gone.
fn reopen(dir: &Path, limits: &SpoolConfig) -> Spool {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    loop {
        match Spool::open(dir, limits, "w1") {
            Ok(s) => return s,
            Err(e) if std::time::Instant::now() < deadline => {
                eprintln!("reopen: {e}; retrying");
                std::thread::sleep(std::time::Duration::from_millis(20));
            }
            Err(e) => panic!("spool does not reopen: {e}"),
        }
    }
}

#[test]
fn dead_letters_move_out_of_the_spool_are_bounded_and_survive_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let seqs: Vec<u64> = {
        let s = Spool::open(dir.path(), &limits(10, 2), "w1").unwrap();
        let seqs: Vec<u64> = (0..5u8)
            .map(|i| {
                let seq = s.next_seq();
                s.push(seq, format!("{{\"n\":{i}}}").as_bytes()).unwrap();
                seq
            })
            .collect();
        let first = s
            .dead_letter(seqs[0], 8, Some(500), "collector answered 500")
            .unwrap();
        let first = first.expect("was spooled");
        assert_eq!(
            (first.seq, first.attempts, first.status),
            (seqs[0], 8, Some(500))
        );
        assert_eq!(first.body, r#"{"n":0}"#);
        assert_eq!(s.len(), 4);
        assert_eq!(s.first().unwrap().unwrap().0, seqs[1], "the spool moved on");
        assert_eq!(s.dead_letter(seqs[0], 1, None, "again").unwrap(), None);
        s.dead_letter(seqs[2], 1, Some(400), "bad report").unwrap();
        s.dead_letter(seqs[3], 1, Some(422), "worse report")
            .unwrap();
        // Bounded at 2: the oldest went.
        assert_eq!((s.dead().len(), s.dead().dropped()), (2, 1));
        assert_eq!(s.len(), 2);
        s.flush().unwrap();
        seqs
    };
    let s = reopen(dir.path(), &limits(10, 2));
    let dead = s.dead().list().unwrap();
    let kept: Vec<_> = dead
        .iter()
        .map(|d| (d.seq, d.status, d.error.as_str()))
        .collect();
    assert_eq!(
        kept,
        [
            (seqs[2], Some(400), "bad report"),
            (seqs[3], Some(422), "worse report")
        ]
    );
    assert_eq!(s.dead().newest().unwrap().unwrap().seq, seqs[3]);
    assert_eq!(s.dead().len(), 2);
    let left: Vec<u64> = std::iter::from_fn(|| {
        let (seq, _) = s.first().unwrap()?;
        s.remove(seq).unwrap();
        Some(seq)
    })
    .collect();
    assert_eq!(left, [seqs[1], seqs[4]]);
}

#[test]
fn replays_in_order_bounds_and_keeps_sequence_increasing_across_restarts() {
    let dir = tempfile::tempdir().unwrap();
    let (id, last) = {
        let s = Spool::open(dir.path(), &limits(3, 10), "w1").unwrap();
        let mut last = 0;
        for i in 0..5u8 {
            last = s.next_seq();
            s.push(last, &[i]).unwrap();
        }
        assert_eq!(s.len(), 3);
        assert_eq!(s.dropped(), 2);
        let (seq, body) = s.first().unwrap().unwrap();
        assert_eq!(body.as_ref(), &[2]);
        s.remove(seq).unwrap();
        s.flush().unwrap();
        (s.agent_id().to_owned(), last)
    };
    let s = reopen(dir.path(), &limits(3, 10));
    assert_eq!(s.agent_id(), id);
    assert_eq!(s.len(), 2);
    assert!(s.next_seq() > last);
    assert_eq!(s.first().unwrap().unwrap().1.as_ref(), &[3]);
}
