//! A flag file that is a symlink to a file in another directory, as in
//! `/etc/liveops/flags.toml -> /srv/config/v1.toml`: in-place edits of the
//! target are seen through a watch on the target's directory, and that
//! watch follows the link when it is repointed into yet another directory.

use std::path::Path;
use std::time::Duration;

use serde_json::json;

use super::files::flags_toml;
use super::{base, expect_value, nowhere};
use crate::support::*;

/// Far beyond `SEEN_WITHIN`, so only the watches can be what saw an edit.
const SLOW_POLL: Duration = Duration::from_secs(30);

/// Points `link` at `target` the way `ln -sfn` does: a new link renamed
/// over the old one, so the path never dangles.
fn repoint(link: &Path, target: &Path) {
    let tmp = link.with_file_name(".flags.toml.new");
    std::os::unix::fs::symlink(target, &tmp).unwrap();
    std::fs::rename(&tmp, link).unwrap();
}

#[tokio::test]
async fn in_place_edits_of_a_symlinked_file_elsewhere_are_watched_and_the_watch_follows_the_link() {
    let (data, etc) = (tempdir(), tempdir());
    let (v1_dir, v2_dir) = (tempdir(), tempdir());
    let v1 = v1_dir.path().join("v1.toml");
    std::fs::write(&v1, flags_toml(true, 5)).unwrap();
    let link = etc.path().join("flags.toml");
    std::os::unix::fs::symlink(&v1, &link).unwrap();
    let mut cfg = agent_config(data.path(), "ln1", &nowhere());
    cfg.flags.file = Some(link.clone());
    cfg.flags.poll_interval = SLOW_POLL;
    let agent = start_agent(cfg).await;
    let url = base(&agent);
    expect_value(&url, "market.fee", json!({}), json!(5), "default").await;

    // Written in place: same inode, nothing changes in `etc`.
    std::fs::write(&v1, flags_toml(true, 6)).unwrap();
    expect_value(&url, "market.fee", json!({}), json!(6), "default").await;

    let v2 = v2_dir.path().join("v2.toml");
    std::fs::write(&v2, flags_toml(true, 7)).unwrap();
    repoint(&link, &v2);
    expect_value(&url, "market.fee", json!({}), json!(7), "default").await;
    std::fs::write(&v2, flags_toml(false, 8)).unwrap();
    expect_value(&url, "market.fee", json!({}), json!(8), "default").await;
    expect_value(&url, "combat.attacks", json!({}), json!(false), "default").await;
    agent.stop();
    agent.wait().await.unwrap();
}

fn tempdir() -> tempfile::TempDir {
    tempfile::tempdir().unwrap()
}
