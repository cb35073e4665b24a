//! Flag files and the ways people and platforms save them.

use std::path::{Path, PathBuf};

/// Two flags: a kill switch with a player rule (fail-safe `false`), and an
/// integer ops flag.
pub fn flags_toml(attacks: bool, fee: i64) -> String {
    format!(
        r#"[flag."combat.attacks"]
description  = "Players can launch attacks."
system       = "combat"
kind         = "kill_switch"
owner        = "gameplay"
default      = {attacks}
fail_safe    = false
blast_radius = "New attacks."
takes_effect = "Next request."
rollback     = "Flip back."

[[flag."combat.attacks".rule]]
player = "7"
value  = false

[flag."market.fee"]
description = "Market fee, percent."
system      = "trade"
kind        = "ops"
owner       = "economy"
default     = {fee}
"#
    )
}

/// A valid `combat.attacks` and a `market.fee` whose default is missing
/// its value; returns the text and the (line, column) of the error.
pub fn broken_toml() -> (String, usize, usize) {
    let text = flags_toml(true, 5).replace("default     = 5", "default     = ");
    let line = text
        .lines()
        .position(|l| l.starts_with("default     = ") && l.trim_end().ends_with('='))
        .expect("the broken line")
        + 1;
    (text, line, 15)
}

/// Valid TOML with a valid `combat.attacks` but a `market.fee` of an
/// unknown kind: what can be parsed of it is `combat.attacks`.
pub fn half_valid_toml() -> String {
    flags_toml(true, 5).replace("kind        = \"ops\"", "kind        = \"opps\"")
}

/// Saves as an editor does: a temporary file renamed over the old one.
pub fn rename_over(path: &Path, text: &str) {
    let tmp = path.with_file_name(".flags.toml.swp");
    std::fs::write(&tmp, text).unwrap();
    std::fs::rename(&tmp, path).unwrap();
}

/// A Kubernetes ConfigMap volume: `flags.toml -> ..data/flags.toml`,
/// `..data -> ..vN`, updated by renaming a new `..data` symlink over the
/// old one.
pub struct ConfigMap {
    dir: PathBuf,
    n: u32,
}

impl ConfigMap {
    pub fn new(dir: &Path, text: &str) -> ConfigMap {
        std::fs::create_dir_all(dir).unwrap();
        let mut cm = ConfigMap {
            dir: dir.to_owned(),
            n: 0,
        };
        cm.update(text);
        std::os::unix::fs::symlink("..data/flags.toml", cm.file()).unwrap();
        cm
    }

    pub fn file(&self) -> PathBuf {
        self.dir.join("flags.toml")
    }

    pub fn update(&mut self, text: &str) {
        self.n += 1;
        let version = format!("..v{}", self.n);
        std::fs::create_dir(self.dir.join(&version)).unwrap();
        std::fs::write(self.dir.join(&version).join("flags.toml"), text).unwrap();
        let tmp = self.dir.join("..data_tmp");
        std::os::unix::fs::symlink(&version, &tmp).unwrap();
        std::fs::rename(&tmp, self.dir.join("..data")).unwrap();
        if self.n > 1 {
            let old = self.dir.join(format!("..v{}", self.n - 1));
            std::fs::remove_dir_all(old).unwrap();
        }
    }
}
