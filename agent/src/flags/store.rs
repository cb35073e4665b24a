//! The last good flag file and the operator overrides, kept in the agent's
//! sled db (the spool's) so that a restart with a now-broken file still
//! serves the last good flags, and overrides outlive a collector outage
//! that spans a restart.
//!
//! Both are written rarely (a save, an operator action) and flushed at
//! once: losing one to a crash would serve stale flags after the restart.

use liveops_flags::OverrideSet;

use super::FlagsError;
use super::state::Good;

const TREE: &str = "flags";
const LAST_GOOD: &[u8] = b"last_good";
const OVERRIDES: &[u8] = b"overrides";

pub struct Store {
    tree: sled::Tree,
}

impl Store {
    pub fn open(db: &sled::Db) -> Result<Store, FlagsError> {
        Ok(Store {
            tree: db.open_tree(TREE)?,
        })
    }

    /// The last good file, if one was ever applied and still decodes (a
    /// record from an incompatible version is ignored, not fatal).
    pub fn last_good(&self) -> Option<Good> {
        self.get(LAST_GOOD)
    }

    pub fn overrides(&self) -> OverrideSet {
        self.get(OVERRIDES).unwrap_or_default()
    }

    pub fn save_good(&self, good: &Good) -> Result<(), FlagsError> {
        self.put(LAST_GOOD, good)
    }

    pub fn save_overrides(&self, set: &OverrideSet) -> Result<(), FlagsError> {
        self.put(OVERRIDES, set)
    }

    fn get<T: serde::de::DeserializeOwned>(&self, key: &[u8]) -> Option<T> {
        let bytes = match self.tree.get(key) {
            Ok(b) => b?,
            Err(e) => {
                tracing::warn!(error = %e, "cannot read the flag store");
                return None;
            }
        };
        serde_json::from_slice(&bytes)
            .inspect_err(|e| {
                let key = String::from_utf8_lossy(key);
                tracing::warn!(%key, error = %e, "ignoring an unreadable flag store record");
            })
            .ok()
    }

    fn put<T: serde::Serialize>(&self, key: &[u8], value: &T) -> Result<(), FlagsError> {
        self.tree.insert(key, serde_json::to_vec(value)?)?;
        self.tree.flush()?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_survive_reopening_and_bad_ones_are_ignored() {
        let dir = tempfile::tempdir().unwrap();
        let good = Good {
            sha256: "ab".into(),
            set: liveops_flags::FlagSet::default(),
        };
        {
            let db = sled::open(dir.path()).unwrap();
            let s = Store::open(&db).unwrap();
            assert_eq!(s.last_good(), None);
            assert_eq!(s.overrides(), OverrideSet::default());
            s.save_good(&good).unwrap();
            s.save_overrides(&OverrideSet {
                version: 7,
                overrides: vec![],
            })
            .unwrap();
        }
        let db = sled::open(dir.path()).unwrap();
        let s = Store::open(&db).unwrap();
        assert_eq!(s.last_good(), Some(good));
        assert_eq!(s.overrides().version, 7);
        s.tree.insert(LAST_GOOD, b"not json".as_slice()).unwrap();
        assert_eq!(s.last_good(), None);
    }
}
