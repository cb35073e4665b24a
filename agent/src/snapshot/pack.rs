//! Entity lines in append-only pack files, found by digest through a small
//! sled index (digest → pack, offset, length), as git keeps objects.
//!
//! Why not lines in sled itself: a million 200-byte lines under random
//! digest keys make a B-tree far larger than any cache an agent can afford,
//! so every insert and lookup paged a leaf in and out again (a snapshot ran
//! at 16,000 entities a second, most of it sled's page cache). Appending is
//! sequential, and the index holds 32 bytes an entity.
//!
//! Files: `packs/NNNNNN.pack`, records `[digest 16][len u32 LE][line]`
//! (the header is for recovery by hand; reads go by the index). A pack is
//! closed at [`PACK_MAX`] and the next one started.
//!
//! Durability: the bytes of a batch reach the file (the OS) before its
//! index entries are inserted, so a killed agent never has an index entry
//! without its bytes; [`Packs::sync`] fsyncs the open pack, and the store
//! calls it before sled's own fsync. After a crash, entries past a pack's
//! end are dropped at open ([`Packs::repair`]).
//!
//! Space: [`Packs::sweep`] drops index entries no snapshot reaches, then
//! rewrites each pack that is mostly dead into the open one and deletes it,
//! so expired snapshots give their disk space back.

use std::collections::{HashMap, HashSet};
use std::fs::{File, OpenOptions};
use std::io::{BufWriter, Write};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};

use super::index::Digest;
use super::store::StoreError;

/// A pack is closed at this size and the next one begun.
pub const PACK_MAX: u64 = 256 << 20;
const HEADER: u64 = 20;

/// Where a line is: pack number, offset of the line, its length.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Loc {
    pack: u32,
    offset: u64,
    len: u32,
}

impl Loc {
    fn encode(self) -> [u8; 16] {
        let mut b = [0; 16];
        b[..4].copy_from_slice(&self.pack.to_le_bytes());
        b[4..12].copy_from_slice(&self.offset.to_le_bytes());
        b[12..].copy_from_slice(&self.len.to_le_bytes());
        b
    }

    fn decode(b: &[u8]) -> Option<Loc> {
        let b: &[u8; 16] = b.try_into().ok()?;
        Some(Loc {
            pack: u32::from_le_bytes(b[..4].try_into().ok()?),
            offset: u64::from_le_bytes(b[4..12].try_into().ok()?),
            len: u32::from_le_bytes(b[12..].try_into().ok()?),
        })
    }
}

struct Open {
    number: u32,
    file: BufWriter<File>,
    /// Bytes in the file, buffered ones included.
    len: u64,
}

pub struct Packs {
    dir: PathBuf,
    /// [`PACK_MAX`], smaller in tests.
    max: u64,
    index: sled::Tree,
    open: Mutex<Open>,
    readers: Mutex<HashMap<u32, Arc<File>>>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

fn io(path: &Path) -> impl Fn(std::io::Error) -> StoreError + '_ {
    move |source| StoreError::Sync {
        path: path.to_owned(),
        source,
    }
}

fn path_of(dir: &Path, n: u32) -> PathBuf {
    dir.join(format!("{n:06}.pack"))
}

/// The pack numbers present, ascending.
fn numbers(dir: &Path) -> Result<Vec<u32>, StoreError> {
    let mut out: Vec<u32> = std::fs::read_dir(dir)
        .map_err(io(dir))?
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.strip_suffix(".pack")?.parse().ok())
        .collect();
    out.sort_unstable();
    Ok(out)
}

fn start(dir: &Path, number: u32) -> Result<Open, StoreError> {
    let path = path_of(dir, number);
    let file = OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)
        .map_err(io(&path))?;
    let len = file.metadata().map_err(io(&path))?.len();
    Ok(Open {
        number,
        file: BufWriter::with_capacity(1 << 20, file),
        len,
    })
}

impl Packs {
    pub fn open(dir: &Path, index: sled::Tree) -> Result<Packs, StoreError> {
        Packs::open_with_max(dir, index, PACK_MAX)
    }

    pub(crate) fn open_with_max(
        dir: &Path,
        index: sled::Tree,
        max: u64,
    ) -> Result<Packs, StoreError> {
        let dir = dir.join("packs");
        std::fs::create_dir_all(&dir).map_err(io(&dir))?;
        let newest = numbers(&dir)?.last().copied().unwrap_or(1);
        let open = start(&dir, newest)?;
        Ok(Packs {
            dir,
            max,
            index,
            open: Mutex::new(open),
            readers: Mutex::default(),
        })
    }

    pub fn contains(&self, digest: &Digest) -> Result<bool, StoreError> {
        Ok(self.index.contains_key(digest)?)
    }

    /// Appends lines not stored yet; returns the bytes of those added.
    pub fn put(&self, lines: &[(Digest, &[u8])]) -> Result<u64, StoreError> {
        let mut open = lock(&self.open);
        let mut fresh = Vec::with_capacity(lines.len());
        let mut seen = HashSet::new();
        for (digest, line) in lines {
            if seen.insert(*digest) && !self.index.contains_key(digest)? {
                fresh.push((*digest, *line));
            }
        }
        let (batch, added) = self.append(&mut open, &fresh)?;
        self.index.apply_batch(batch)?;
        Ok(added)
    }

    /// Writes records to the open pack and flushes them to the file; the
    /// index entries come back for the caller to insert after that.
    fn append(
        &self,
        open: &mut Open,
        lines: &[(Digest, &[u8])],
    ) -> Result<(sled::Batch, u64), StoreError> {
        let mut batch = sled::Batch::default();
        let mut added = 0;
        for (digest, line) in lines {
            if open.len >= self.max {
                self.roll(open)?;
            }
            let path = path_of(&self.dir, open.number);
            let len = u32::try_from(line.len()).unwrap_or(u32::MAX);
            open.file.write_all(digest).map_err(io(&path))?;
            open.file.write_all(&len.to_le_bytes()).map_err(io(&path))?;
            open.file.write_all(line).map_err(io(&path))?;
            let loc = Loc {
                pack: open.number,
                offset: open.len + HEADER,
                len,
            };
            open.len += HEADER + u64::from(len);
            batch.insert(&digest[..], &loc.encode()[..]);
            added += line.len() as u64;
        }
        // The bytes reach the file before the index names them.
        let path = path_of(&self.dir, open.number);
        open.file.flush().map_err(io(&path))?;
        Ok((batch, added))
    }

    fn roll(&self, open: &mut Open) -> Result<(), StoreError> {
        let path = path_of(&self.dir, open.number);
        open.file.flush().map_err(io(&path))?;
        open.file.get_ref().sync_all().map_err(io(&path))?;
        *open = start(&self.dir, open.number + 1)?;
        Ok(())
    }

    pub fn get(&self, digest: &Digest) -> Result<Option<Vec<u8>>, StoreError> {
        let Some(loc) = self.index.get(digest)?.and_then(|v| Loc::decode(&v)) else {
            return Ok(None);
        };
        self.read(loc).map(Some)
    }

    fn read(&self, loc: Loc) -> Result<Vec<u8>, StoreError> {
        let path = path_of(&self.dir, loc.pack);
        let file = {
            let mut readers = lock(&self.readers);
            match readers.get(&loc.pack) {
                Some(f) => Arc::clone(f),
                None => {
                    let f = Arc::new(File::open(&path).map_err(io(&path))?);
                    readers.insert(loc.pack, Arc::clone(&f));
                    f
                }
            }
        };
        let mut buf = vec![0; loc.len as usize];
        file.read_exact_at(&mut buf, loc.offset)
            .map_err(io(&path))?;
        Ok(buf)
    }

    /// Flushes the open pack and fsyncs it and the directory.
    pub fn sync(&self) -> Result<(), StoreError> {
        let mut open = lock(&self.open);
        let path = path_of(&self.dir, open.number);
        open.file.flush().map_err(io(&path))?;
        open.file.get_ref().sync_all().map_err(io(&path))?;
        File::open(&self.dir)
            .and_then(|d| d.sync_all())
            .map_err(io(&self.dir))
    }

    pub fn count(&self) -> usize {
        self.index.len()
    }

    pub fn size_on_disk(&self) -> u64 {
        numbers(&self.dir)
            .unwrap_or_default()
            .iter()
            .filter_map(|n| std::fs::metadata(path_of(&self.dir, *n)).ok())
            .map(|m| m.len())
            .sum()
    }

    /// Drops index entries whose bytes a crash kept from their pack.
    pub fn repair(&self) -> Result<u64, StoreError> {
        let lens: HashMap<u32, u64> = numbers(&self.dir)?
            .into_iter()
            .filter_map(|n| Some((n, std::fs::metadata(path_of(&self.dir, n)).ok()?.len())))
            .collect();
        let mut batch = sled::Batch::default();
        let mut dropped = 0;
        for item in self.index.iter() {
            let (k, v) = item?;
            let ok = Loc::decode(&v).is_some_and(|l| {
                lens.get(&l.pack)
                    .is_some_and(|&n| l.offset + u64::from(l.len) <= n)
            });
            if !ok {
                batch.remove(k);
                dropped += 1;
            }
        }
        self.index.apply_batch(batch)?;
        Ok(dropped)
    }

    /// Forgets every line not in `live`, then moves the live lines of each
    /// pack that is more than half dead into a new pack. Returns the lines
    /// forgotten and the packs now unused, which the caller deletes once
    /// the index is durable. Callers hold the snapshot lock.
    pub fn sweep(&self, live: &HashSet<Digest>) -> Result<(u64, Vec<PathBuf>), StoreError> {
        let mut batch = sled::Batch::default();
        let mut gone = 0;
        let mut kept: HashMap<u32, u64> = HashMap::new();
        for item in self.index.iter() {
            let (k, v) = item?;
            let loc = Loc::decode(&v);
            if k.len() != 16 || !live.contains(&k[..]) || loc.is_none() {
                batch.remove(k);
                gone += 1;
            } else if let Some(l) = loc {
                *kept.entry(l.pack).or_default() += HEADER + u64::from(l.len);
            }
        }
        self.index.apply_batch(batch)?;
        let mut open = lock(&self.open);
        let before = open.number;
        let mostly_dead: HashSet<u32> = numbers(&self.dir)?
            .into_iter()
            .filter(|&n| {
                let size = std::fs::metadata(path_of(&self.dir, n)).map_or(0, |m| m.len());
                size > 0 && kept.get(&n).copied().unwrap_or(0) * 2 <= size
            })
            .collect();
        if mostly_dead.is_empty() {
            return Ok((gone, Vec::new()));
        }
        // Into a pack of their own, never one being compacted.
        self.roll(&mut open)?;
        let mut moving = Vec::new();
        for item in self.index.iter() {
            let (k, v) = item?;
            if let (Ok(d), Some(l)) = (Digest::try_from(&k[..]), Loc::decode(&v))
                && mostly_dead.contains(&l.pack)
            {
                moving.push((d, l));
            }
        }
        for chunk in moving.chunks(4096) {
            let mut lines = Vec::with_capacity(chunk.len());
            for (d, l) in chunk {
                lines.push((*d, self.read(*l)?));
            }
            let refs: Vec<(Digest, &[u8])> =
                lines.iter().map(|(d, l)| (*d, l.as_slice())).collect();
            let (batch, _) = self.append(&mut open, &refs)?;
            // Durable in the new pack before the index leaves the old one.
            let path = path_of(&self.dir, open.number);
            open.file.get_ref().sync_all().map_err(io(&path))?;
            self.index.apply_batch(batch)?;
        }
        let mut readers = lock(&self.readers);
        let unused = mostly_dead
            .into_iter()
            .filter(|&n| n <= before)
            .map(|n| {
                readers.remove(&n);
                path_of(&self.dir, n)
            })
            .collect();
        Ok((gone, unused))
    }
}

#[cfg(test)]
#[path = "pack_tests.rs"]
mod tests;
