//! The report journal: an append-only log of segment files with a group
//! commit, so a report is acknowledged only once its entry is on disk.
//!
//! The journal was a sled tree, flushed for every group of waiting
//! reports. At three thousand reports a second that flush, not the disk,
//! set the latency: a report waited 250–800 ms for it, while `fdatasync` of
//! the same bytes in a plain file takes a few milliseconds here. Appends go
//! to a buffer in memory; one flusher at a time writes the whole buffer with
//! one `write` and one `fdatasync`, covering every entry appended before.
//!
//! On disk: `journal/<first position, 20 digits>.log`, each a run of
//! records `[len u32 LE][crc32 u32 LE][position u64 LE][len bytes]`, the
//! checksum over position and bytes. A record cut short or damaged (a crash
//! mid-write) ends its segment; a new segment is started at every open, so
//! nothing is ever appended after a damaged tail.

use std::fs::{File, OpenOptions};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// A segment is closed once it holds this much; truncation deletes whole
/// closed segments.
const SEGMENT_BYTES: u64 = 64 << 20;
const HEADER: usize = 16;
/// An entry larger than this is damage, not a report.
const MAX_ENTRY: usize = 16 << 20;

/// A journal entry: its position and bytes.
pub type Entry = (u64, Vec<u8>);

pub struct Journal {
    dir: PathBuf,
    inner: Mutex<Inner>,
    /// Held while writing and syncing: appends go on meanwhile.
    write: Mutex<Writer>,
}

struct Inner {
    /// Records appended and not yet written.
    pending: Vec<u8>,
    /// Position of the last record appended.
    last: u64,
}

struct Writer {
    /// The open segment, created by the first write after a rotation.
    file: Option<(File, u64)>,
    /// Closed segments, oldest first: first position, path.
    closed: Vec<(u64, PathBuf)>,
    /// Position of the last record on disk.
    written: u64,
}

impl Journal {
    /// Opens the journal in `dir`, returning it and every intact entry on
    /// disk, oldest first.
    pub fn open(dir: &Path) -> std::io::Result<(Journal, Vec<Entry>)> {
        std::fs::create_dir_all(dir)?;
        let mut segments: Vec<(u64, PathBuf)> = std::fs::read_dir(dir)?
            .filter_map(|e| e.ok())
            .filter_map(|e| {
                let name = e.file_name().into_string().ok()?;
                let first = name.strip_suffix(".log")?.parse().ok()?;
                Some((first, e.path()))
            })
            .collect();
        segments.sort();
        let mut entries = Vec::new();
        for (_, path) in &segments {
            read_segment(path, &mut entries)?;
        }
        let last = entries.last().map_or(0, |(p, _)| *p);
        let journal = Journal {
            dir: dir.to_owned(),
            inner: Mutex::new(Inner {
                pending: Vec::new(),
                last,
            }),
            write: Mutex::new(Writer {
                file: None,
                closed: segments,
                written: last,
            }),
        };
        Ok((journal, entries))
    }

    /// Appends an entry at `pos` (in memory until [`Journal::flush`]).
    /// Positions must increase.
    pub fn append(&self, pos: u64, bytes: &[u8]) {
        let mut inner = lock(&self.inner);
        let len = u32::try_from(bytes.len()).unwrap_or(u32::MAX);
        let mut crc = crc32fast::Hasher::new();
        crc.update(&pos.to_le_bytes());
        crc.update(bytes);
        inner.pending.extend_from_slice(&len.to_le_bytes());
        inner
            .pending
            .extend_from_slice(&crc.finalize().to_le_bytes());
        inner.pending.extend_from_slice(&pos.to_le_bytes());
        inner.pending.extend_from_slice(bytes);
        inner.last = inner.last.max(pos);
    }

    /// Writes and syncs everything appended so far; returns the position
    /// it covers. Blocking: call it from a blocking thread.
    pub fn flush(&self) -> std::io::Result<u64> {
        let mut w = lock(&self.write);
        let (bytes, upto) = {
            let mut inner = lock(&self.inner);
            (std::mem::take(&mut inner.pending), inner.last)
        };
        if bytes.is_empty() {
            return Ok(upto);
        }
        let first = u64::from_le_bytes(bytes[8..16].try_into().expect("a header"));
        if w.file.is_none() {
            let path = self.dir.join(format!("{first:020}.log"));
            let file = OpenOptions::new().create(true).append(true).open(&path)?;
            // The new file's name must survive a crash too.
            File::open(&self.dir)?.sync_all()?;
            w.file = Some((file, first));
        }
        let (file, _) = w.file.as_mut().expect("opened above");
        file.write_all(&bytes)?;
        file.sync_data()?;
        let full = file.metadata()?.len() >= SEGMENT_BYTES;
        w.written = upto;
        if full {
            self.rotate(&mut w);
        }
        Ok(upto)
    }

    /// Deletes every closed segment holding only entries up to `pos`, and
    /// closes the open one so that the next truncation can delete it.
    ///
    /// The files are deleted after the writer's lock is let go: the next
    /// flush, which every report's acknowledgement waits for, needs that
    /// lock, and unlinking a 64 MB segment (on a thread at a lower
    /// priority, the checkpoint's) took long enough to stall reports.
    pub fn truncate(&self, pos: u64) -> std::io::Result<()> {
        let doomed = {
            let mut w = lock(&self.write);
            self.rotate(&mut w);
            // A segment ends where the next begins, the newest at the last
            // record written.
            let ends: Vec<u64> = w
                .closed
                .iter()
                .skip(1)
                .map(|(first, _)| first.saturating_sub(1))
                .chain([w.written])
                .collect();
            let (doomed, kept): (Vec<_>, Vec<_>) = std::mem::take(&mut w.closed)
                .into_iter()
                .zip(ends)
                .partition(|(_, end)| *end <= pos);
            w.closed = kept.into_iter().map(|(segment, _)| segment).collect();
            doomed
        };
        let mut failed = Vec::new();
        for ((first, path), _) in doomed {
            if let Err(e) = std::fs::remove_file(&path) {
                tracing::warn!(error = %e, path = %path.display(), "cannot delete a journal segment; trying again next checkpoint");
                failed.push((first, path));
            }
        }
        if !failed.is_empty() {
            // Oldest first, as they were.
            let mut w = lock(&self.write);
            failed.append(&mut w.closed);
            w.closed = failed;
        }
        Ok(())
    }

    fn rotate(&self, w: &mut Writer) {
        if let Some((_, first)) = w.file.take() {
            w.closed
                .push((first, self.dir.join(format!("{first:020}.log"))));
        }
    }
}

/// Reads the intact records of one segment into `out`.
fn read_segment(path: &Path, out: &mut Vec<Entry>) -> std::io::Result<()> {
    let mut data = Vec::new();
    File::open(path)?.read_to_end(&mut data)?;
    let mut at = 0;
    while let Some(header) = data.get(at..at + HEADER) {
        let len = u32::from_le_bytes(header[..4].try_into().expect("4 bytes")) as usize;
        let crc = u32::from_le_bytes(header[4..8].try_into().expect("4 bytes"));
        let pos = u64::from_le_bytes(header[8..16].try_into().expect("8 bytes"));
        let Some(body) = data
            .get(at + HEADER..at + HEADER + len)
            .filter(|_| len <= MAX_ENTRY)
        else {
            tracing::warn!(path = %path.display(), at, "journal segment ends in a partial record");
            break;
        };
        let mut h = crc32fast::Hasher::new();
        h.update(&pos.to_le_bytes());
        h.update(body);
        if h.finalize() != crc {
            tracing::warn!(path = %path.display(), at, "journal record damaged; the rest of the segment is skipped");
            break;
        }
        out.push((pos, body.to_vec()));
        at += HEADER + len;
    }
    Ok(())
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

#[cfg(test)]
#[path = "journal_tests.rs"]
mod tests;
