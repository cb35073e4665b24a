//! Records stored by digest in append-only pack files, found through an
//! index held in memory and kept on disk beside each pack, as git keeps
//! objects. The store keeps two sets: entity lines, and index nodes.
//!
//! Why not lines in sled: a million 200-byte lines under random digest keys
//! make a B-tree far larger than any cache an agent can afford, so every
//! insert and lookup paged a leaf in (16,000 entities a second, most of it
//! sled's page cache), and a sled tree of only the locations still did at
//! 23,000. Appending is sequential, and the index costs about 40 bytes an
//! entity in memory and 28 on disk.
//!
//! Files (in the directory given to [`Packs::open`]): `NNNNNN.pack`, records `[digest 16][len u32 LE][line]` (the
//! header is for recovery by hand; reads go by the index), and
//! `NNNNNN.idx`, entries `[digest 16][offset u64 LE][len u32 LE]` of
//! the lines of that pack. A pack is closed at [`PACK_MAX`].
//!
//! Durability: [`Packs::sync`] fsyncs the open pack, then appends the new
//! entries to its `.idx` and fsyncs that, so an index entry on disk always
//! has its bytes; the store calls it before marking a snapshot complete. At
//! open, an entry past its pack's end (a crash between the two) is dropped.
//!
//! Space: [`Packs::sweep`] forgets lines no snapshot reaches, rewrites each
//! pack that is mostly dead into a new one and hands back the old files for
//! deletion, so expired snapshots give their disk space back.

use std::collections::{HashMap, HashSet};
use std::fs::{File, OpenOptions};
use std::io::{BufWriter, Read, Write};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};

use super::index::Digest;

/// A pack is closed at this size and the next one begun.
pub const PACK_MAX: u64 = 256 << 20;
const HEADER: u64 = 20;
const ENTRY: usize = 28;
/// Index entries held for the open pack before they are written out (with
/// an fsync of the pack first): bounds their memory during a large take.
const UNSYNCED_MAX: usize = 1 << 16;

/// Where a line is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Loc {
    pack: u32,
    offset: u64,
    len: u32,
}

struct Open {
    number: u32,
    file: BufWriter<File>,
    /// Bytes in the file, buffered ones included.
    len: u64,
    /// Entries of this pack not yet in its `.idx`.
    unsynced: Vec<(Digest, Loc)>,
}

struct State {
    index: HashMap<Digest, Loc>,
    open: Open,
}

pub struct Packs {
    dir: PathBuf,
    /// [`PACK_MAX`], smaller in tests.
    max: u64,
    state: Mutex<State>,
    readers: Mutex<HashMap<u32, Arc<File>>>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// A pack file or index that could not be read or written.
#[derive(Debug, thiserror::Error)]
#[error("{}: {source}", path.display())]
pub struct PackError {
    pub path: PathBuf,
    pub source: std::io::Error,
}

fn io(path: &Path) -> impl Fn(std::io::Error) -> PackError + '_ {
    move |source| PackError {
        path: path.to_owned(),
        source,
    }
}

fn pack_path(dir: &Path, n: u32) -> PathBuf {
    dir.join(format!("{n:06}.pack"))
}

fn idx_path(dir: &Path, n: u32) -> PathBuf {
    dir.join(format!("{n:06}.idx"))
}

/// The pack numbers present, ascending.
fn numbers(dir: &Path) -> Result<Vec<u32>, PackError> {
    let mut out: Vec<u32> = std::fs::read_dir(dir)
        .map_err(io(dir))?
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.strip_suffix(".pack")?.parse().ok())
        .collect();
    out.sort_unstable();
    Ok(out)
}

fn file_len(path: &Path) -> u64 {
    std::fs::metadata(path).map_or(0, |m| m.len())
}

fn start(dir: &Path, number: u32) -> Result<Open, PackError> {
    let path = pack_path(dir, number);
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
        unsynced: Vec::new(),
    })
}

fn encode(d: &Digest, l: &Loc, out: &mut Vec<u8>) {
    out.extend_from_slice(d);
    out.extend_from_slice(&l.offset.to_le_bytes());
    out.extend_from_slice(&l.len.to_le_bytes());
}

/// Reads pack `n`'s `.idx` into `index`, dropping entries past the pack's
/// end; returns how many were dropped.
fn load(dir: &Path, n: u32, index: &mut HashMap<Digest, Loc>) -> Result<u64, PackError> {
    let path = idx_path(dir, n);
    let mut bytes = Vec::new();
    match File::open(&path) {
        Ok(mut f) => f.read_to_end(&mut bytes).map(|_| ()).map_err(io(&path))?,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(io(&path)(e)),
    }
    let end = file_len(&pack_path(dir, n));
    let mut dropped = 0;
    for e in bytes.chunks_exact(ENTRY) {
        let (d, rest) = e.split_at(16);
        let (o, l) = rest.split_at(8);
        let (Ok(d), Ok(o), Ok(l)) = (
            Digest::try_from(d),
            <[u8; 8]>::try_from(o),
            <[u8; 4]>::try_from(l),
        ) else {
            continue;
        };
        let loc = Loc {
            pack: n,
            offset: u64::from_le_bytes(o),
            len: u32::from_le_bytes(l),
        };
        if loc.offset + u64::from(loc.len) <= end {
            index.insert(d, loc);
        } else {
            dropped += 1;
        }
    }
    Ok(dropped)
}

impl Packs {
    /// Opens the packs in `dir` (created if missing) and reads their
    /// indexes; says how many entries a crash had left without their bytes.
    pub fn open(dir: &Path) -> Result<(Packs, u64), PackError> {
        Packs::open_with_max(dir, PACK_MAX)
    }

    pub(crate) fn open_with_max(dir: &Path, max: u64) -> Result<(Packs, u64), PackError> {
        let dir = dir.to_owned();
        std::fs::create_dir_all(&dir).map_err(io(&dir))?;
        let mut index = HashMap::new();
        let mut dropped = 0;
        let all = numbers(&dir)?;
        for &n in &all {
            dropped += load(&dir, n, &mut index)?;
        }
        let open = start(&dir, all.last().copied().unwrap_or(1))?;
        let packs = Packs {
            dir,
            max,
            state: Mutex::new(State { index, open }),
            readers: Mutex::default(),
        };
        Ok((packs, dropped))
    }

    pub fn contains(&self, digest: &Digest) -> bool {
        lock(&self.state).index.contains_key(digest)
    }

    /// Appends lines not stored yet; returns the bytes of those added.
    pub fn put(&self, lines: &[(Digest, &[u8])]) -> Result<u64, PackError> {
        let mut st = lock(&self.state);
        let mut added = 0;
        for (digest, line) in lines {
            if st.index.contains_key(digest) {
                continue;
            }
            let loc = self.append(&mut st.open, digest, line)?;
            st.index.insert(*digest, loc);
            added += line.len() as u64;
        }
        Ok(added)
    }

    fn append(&self, open: &mut Open, digest: &Digest, line: &[u8]) -> Result<Loc, PackError> {
        if open.len >= self.max {
            self.roll(open)?;
        }
        let path = pack_path(&self.dir, open.number);
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
        open.unsynced.push((*digest, loc));
        if open.unsynced.len() >= UNSYNCED_MAX {
            self.sync_open(open)?;
        }
        Ok(loc)
    }

    /// Makes the open pack and its index durable and starts the next one.
    fn roll(&self, open: &mut Open) -> Result<(), PackError> {
        self.sync_open(open)?;
        *open = start(&self.dir, open.number + 1)?;
        Ok(())
    }

    /// The pack's bytes first, then the index entries that name them.
    fn sync_open(&self, open: &mut Open) -> Result<(), PackError> {
        let path = pack_path(&self.dir, open.number);
        open.file.flush().map_err(io(&path))?;
        open.file.get_ref().sync_all().map_err(io(&path))?;
        if open.unsynced.is_empty() {
            return Ok(());
        }
        let mut bytes = Vec::with_capacity(open.unsynced.len() * ENTRY);
        for (d, l) in &open.unsynced {
            encode(d, l, &mut bytes);
        }
        let path = idx_path(&self.dir, open.number);
        let mut f = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .map_err(io(&path))?;
        f.write_all(&bytes).map_err(io(&path))?;
        f.sync_all().map_err(io(&path))?;
        open.unsynced.clear();
        Ok(())
    }

    /// One record. Index nodes are read this way, one per step of a walk,
    /// so it takes no detour through [`Packs::get_many`]'s map.
    pub fn get(&self, digest: &Digest) -> Result<Option<Vec<u8>>, PackError> {
        let loc = {
            let mut st = lock(&self.state);
            let Some(loc) = st.index.get(digest).copied() else {
                return Ok(None);
            };
            self.readable(&mut st.open, std::iter::once(&loc))?;
            loc
        };
        self.read(loc).map(Some)
    }

    /// Many lines at once, read in file order (each pack front to back,
    /// so the OS reads ahead); missing digests are left out.
    pub fn get_many(&self, digests: &[Digest]) -> Result<HashMap<Digest, Vec<u8>>, PackError> {
        let mut locs: Vec<(Loc, Digest)> = {
            let mut st = lock(&self.state);
            let locs: Vec<(Loc, Digest)> = digests
                .iter()
                .filter_map(|d| Some((*st.index.get(d)?, *d)))
                .collect();
            self.readable(&mut st.open, locs.iter().map(|(l, _)| l))?;
            locs
        };
        locs.sort_unstable_by_key(|(l, _)| (l.pack, l.offset));
        let mut out = HashMap::with_capacity(locs.len());
        for (l, d) in locs {
            out.insert(d, self.read(l)?);
        }
        Ok(out)
    }

    /// Records at `locs` still in the open pack's write buffer are handed
    /// to the OS first, so a read finds them.
    fn readable<'a>(
        &self,
        open: &mut Open,
        mut locs: impl Iterator<Item = &'a Loc>,
    ) -> Result<(), PackError> {
        let handed = file_len_hint(open);
        if locs.any(|l| l.pack == open.number && l.offset + u64::from(l.len) > handed) {
            let path = pack_path(&self.dir, open.number);
            open.file.flush().map_err(io(&path))?;
        }
        Ok(())
    }

    fn read(&self, loc: Loc) -> Result<Vec<u8>, PackError> {
        let path = pack_path(&self.dir, loc.pack);
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

    /// Fsyncs the open pack, its index and the directory.
    pub fn sync(&self) -> Result<(), PackError> {
        let mut st = lock(&self.state);
        self.sync_open(&mut st.open)?;
        File::open(&self.dir)
            .and_then(|d| d.sync_all())
            .map_err(io(&self.dir))
    }

    pub fn count(&self) -> usize {
        lock(&self.state).index.len()
    }

    pub fn size_on_disk(&self) -> u64 {
        let all = numbers(&self.dir).unwrap_or_default();
        all.iter()
            .map(|&n| file_len(&pack_path(&self.dir, n)) + file_len(&idx_path(&self.dir, n)))
            .sum()
    }

    /// Forgets every line not in `live`, then moves the live lines of each
    /// pack that is more than half dead into a new pack and rewrites every
    /// index. Returns the lines forgotten and the packs now unused, for the
    /// caller to delete once the rest is durable. Callers hold the snapshot
    /// lock.
    pub fn sweep(&self, live: &HashSet<Digest>) -> Result<(u64, Vec<PathBuf>), PackError> {
        let mut st = lock(&self.state);
        let before = st.index.len();
        st.index.retain(|d, _| live.contains(d));
        let gone = (before - st.index.len()) as u64;
        let mut kept: HashMap<u32, u64> = HashMap::new();
        for l in st.index.values() {
            *kept.entry(l.pack).or_default() += HEADER + u64::from(l.len);
        }
        let dead: HashSet<u32> = numbers(&self.dir)?
            .into_iter()
            .filter(|&n| {
                let size = file_len(&pack_path(&self.dir, n));
                size > 0 && kept.get(&n).copied().unwrap_or(0) * 2 <= size
            })
            .collect();
        // Into packs of their own, never one being compacted.
        let st = &mut *st;
        self.roll(&mut st.open)?;
        let moving: Vec<(Digest, Loc)> = st
            .index
            .iter()
            .filter(|(_, l)| dead.contains(&l.pack))
            .map(|(d, l)| (*d, *l))
            .collect();
        for (d, l) in moving {
            let line = self.read(l)?;
            let loc = self.append(&mut st.open, &d, &line)?;
            st.index.insert(d, loc);
        }
        self.sync_open(&mut st.open)?;
        // Every kept pack's index rewritten to hold only its live lines.
        let mut per: HashMap<u32, Vec<u8>> = HashMap::new();
        for (d, l) in &st.index {
            encode(d, l, per.entry(l.pack).or_default());
        }
        let mut unused = Vec::new();
        for n in numbers(&self.dir)? {
            if dead.contains(&n) {
                lock(&self.readers).remove(&n);
                unused.push(idx_path(&self.dir, n));
                unused.push(pack_path(&self.dir, n));
                continue;
            }
            let tmp = self.dir.join(format!("{n:06}.idx.tmp"));
            let bytes = per.remove(&n).unwrap_or_default();
            std::fs::write(&tmp, &bytes)
                .and_then(|()| File::open(&tmp)?.sync_all())
                .map_err(io(&tmp))?;
            std::fs::rename(&tmp, idx_path(&self.dir, n)).map_err(io(&tmp))?;
        }
        Ok((gone, unused))
    }
}

/// Bytes of the open pack already handed to the OS (the rest is buffered).
fn file_len_hint(open: &Open) -> u64 {
    open.len - open.file.buffer().len() as u64
}

#[cfg(test)]
#[path = "pack_tests.rs"]
mod tests;
