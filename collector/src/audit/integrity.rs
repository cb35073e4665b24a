//! Is the file at the log's path still the one the collector writes?
//!
//! The collector appends through one open handle. If the file is replaced
//! (`sed -i`, an editor, a restore writes a new inode), appends through the
//! old handle would land in an orphaned file nobody reads; if it is edited
//! in place, its length or modification time moves without the collector
//! writing. Both are checked before every append and every second, so a
//! broken chain is noticed at once, not at the next `audit verify`.

use std::fs::{File, Metadata};
use std::os::unix::fs::MetadataExt;
use std::path::Path;
use std::time::SystemTime;

/// What the collector last left at the path.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct FileId {
    dev: u64,
    ino: u64,
    len: u64,
    modified: Option<SystemTime>,
}

impl FileId {
    fn of(m: &Metadata) -> FileId {
        FileId {
            dev: m.dev(),
            ino: m.ino(),
            len: m.len(),
            modified: m.modified().ok(),
        }
    }

    /// The handle's file as it is now (after the collector's own write).
    pub(super) fn of_handle(file: &File) -> std::io::Result<FileId> {
        file.metadata().map(|m| FileId::of(&m))
    }
}

/// Why the file at `path` is not what the collector last wrote, if it is not.
pub(super) fn check(path: &Path, ours: &FileId) -> Result<(), String> {
    let at_path = match std::fs::metadata(path) {
        Ok(m) => FileId::of(&m),
        Err(e) => return Err(format!("{} cannot be read: {e}", path.display())),
    };
    if (at_path.dev, at_path.ino) != (ours.dev, ours.ino) {
        return Err(format!(
            "{} was replaced by another file (inode {} where the collector writes inode {}); its entries would go to a file nobody reads",
            path.display(),
            at_path.ino,
            ours.ino
        ));
    }
    if at_path.len != ours.len {
        return Err(format!(
            "{} is {} bytes but the collector wrote {}: it was edited, cut or appended to behind the collector's back",
            path.display(),
            at_path.len,
            ours.len
        ));
    }
    if at_path.modified != ours.modified {
        return Err(format!(
            "{} was modified since the collector last wrote it",
            path.display()
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn a_replaced_edited_or_extended_file_is_told_apart() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("audit.jsonl");
        let mut f = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .unwrap();
        f.write_all(b"{\"seq\":1}\n").unwrap();
        let ours = FileId::of_handle(&f).unwrap();
        assert_eq!(check(&path, &ours), Ok(()));

        // Appended to behind its back.
        std::fs::OpenOptions::new()
            .append(true)
            .open(&path)
            .unwrap()
            .write_all(b"x\n")
            .unwrap();
        assert!(
            check(&path, &ours)
                .unwrap_err()
                .contains("bytes but the collector wrote")
        );

        // Replaced, as `sed -i` does: a new inode at the path.
        let ours = FileId::of_handle(&f).unwrap();
        let tmp = dir.path().join("tmp");
        std::fs::write(&tmp, "{\"seq\":1}\nx\n").unwrap();
        std::fs::rename(&tmp, &path).unwrap();
        assert!(check(&path, &ours).unwrap_err().contains("was replaced"));

        std::fs::remove_file(&path).unwrap();
        assert!(check(&path, &ours).unwrap_err().contains("cannot be read"));
    }
}
