//! Reading a watched file without ever blocking on it.
//!
//! Whatever sits at the file's path is opened with `O_NONBLOCK`, so
//! that opening a FIFO with no writer returns at once instead of waiting
//! for one (which froze hot reload and shutdown); the opened handle is
//! then `fstat`ed, so the check is about what was opened, not about a path
//! that may have been swapped since. Only a regular file is read, and only
//! up to `max_bytes`: a FIFO, a directory, a device or a huge file is a
//! refused reload, reported like any other bad file.

use std::fs::{File, FileType, OpenOptions};
use std::io::Read;
use std::os::unix::fs::{FileTypeExt, OpenOptionsExt};
use std::path::Path;

/// Why a file was not read. The texts follow the path in a message:
/// `/etc/liveops/flags.toml is a FIFO (named pipe), not a regular file; …`.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum ReadError {
    #[error("cannot read: {0}")]
    Io(String),
    #[error(
        "is {0}, not a regular file; refused (only a regular file, or a symlink to one, is read)"
    )]
    NotRegular(&'static str),
    /// `size` is `None` when the file grew past the limit while being read.
    #[error("is larger than the limit of {limit} bytes ({}); refused", size.map_or("more than that, read now".to_owned(), |s| format!("{s} bytes")))]
    TooLarge { limit: u64, size: Option<u64> },
}

/// The file's bytes, or why it was not read (the caller prefixes the path).
pub fn read_regular(path: &Path, max_bytes: u64) -> Result<Vec<u8>, ReadError> {
    let io = |e: std::io::Error| ReadError::Io(e.to_string());
    let file = OpenOptions::new()
        .read(true)
        .custom_flags(rustix::fs::OFlags::NONBLOCK.bits() as i32)
        .open(path)
        .map_err(io)?;
    let meta = file.metadata().map_err(io)?;
    let kind = meta.file_type();
    if !kind.is_file() {
        return Err(ReadError::NotRegular(describe(kind)));
    }
    if meta.len() > max_bytes {
        return Err(ReadError::TooLarge {
            limit: max_bytes,
            size: Some(meta.len()),
        });
    }
    read_at_most(file, max_bytes)
}

/// Reads at most `max_bytes + 1` bytes, so a file that grew after `fstat`
/// is still refused rather than read without end.
fn read_at_most(file: File, max_bytes: u64) -> Result<Vec<u8>, ReadError> {
    let mut bytes = Vec::new();
    file.take(max_bytes.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(|e| ReadError::Io(e.to_string()))?;
    if bytes.len() as u64 > max_bytes {
        // Grown since `fstat`: all that is known is that it is too large.
        return Err(ReadError::TooLarge {
            limit: max_bytes,
            size: None,
        });
    }
    Ok(bytes)
}

fn describe(kind: FileType) -> &'static str {
    if kind.is_fifo() {
        "a FIFO (named pipe)"
    } else if kind.is_dir() {
        "a directory"
    } else if kind.is_char_device() {
        "a character device"
    } else if kind.is_block_device() {
        "a block device"
    } else if kind.is_socket() {
        "a socket"
    } else {
        "not a file"
    }
}

#[cfg(test)]
mod tests {
    use super::read_regular;

    #[test]
    fn only_regular_files_within_the_limit_are_read() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("flags.toml");
        std::fs::write(&file, b"0123456789").unwrap();
        assert_eq!(read_regular(&file, 10).unwrap(), b"0123456789");
        let err = read_regular(&file, 9).unwrap_err().to_string();
        assert!(err.contains("larger than the limit of 9 bytes"), "{err}");

        let err = read_regular(dir.path(), 10).unwrap_err().to_string();
        assert!(
            err.starts_with("is a directory, not a regular file"),
            "{err}"
        );
        let err = read_regular(std::path::Path::new("/dev/null"), 10)
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("is a character device"), "{err}");
        let err = read_regular(&dir.path().join("missing"), 10)
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("cannot read: "), "{err}");
    }

    #[test]
    fn a_fifo_without_a_writer_is_refused_at_once() {
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("flags.toml");
        let made = std::process::Command::new("mkfifo").arg(&fifo).status();
        assert!(made.is_ok_and(|s| s.success()), "mkfifo");
        let started = std::time::Instant::now();
        let err = read_regular(&fifo, 10).unwrap_err().to_string();
        assert!(err.starts_with("is a FIFO (named pipe)"), "{err}");
        assert!(started.elapsed() < std::time::Duration::from_secs(1));
    }
}
