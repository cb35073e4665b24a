//! One reload: read the file (regular, size-limited, never blocking),
//! skip it when its bytes are those already seen, validate it, and either
//! swap it in or refuse it and keep the last good one.
//!
//! The policy names teams of the schedule, so a new schedule is checked
//! together with the policy in force (a schedule that drops a team the
//! policy pages is refused), and a new policy against the schedule in
//! force.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use liveops_config::NotifierConfig;
use liveops_config::paging::Paging;
use liveops_oncall::jiff::Timestamp;
use liveops_oncall::{Schedule, after};
use sha2::{Digest, Sha256};

use super::{MAX_FILE_BYTES, Which};
use crate::oncall::http::AHEAD_SECONDS;
use crate::paging::book::Input;
use crate::paging::roster::shift_changes;
use crate::state::Shared;

pub(super) struct Watched {
    pub(super) shared: Arc<Shared>,
    pub(super) which: Which,
    pub(super) path: PathBuf,
}

impl liveops_watch::Reload for Watched {
    fn file(&self) -> &Path {
        &self.path
    }

    fn reload(&self) {
        reload(&self.shared, self.which, &self.path);
    }

    fn refuse(&self, why: String) {
        let why = format!("{} {why}", self.path.display());
        refused(&self.shared, self.which, why, Forget::Seen);
    }
}

pub(super) fn sha256(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

fn reload(shared: &Shared, which: Which, path: &Path) {
    let bytes = match liveops_watch::read_regular(path, MAX_FILE_BYTES) {
        Ok(b) => b,
        Err(e) => {
            let why = format!("{}: {e}", path.display());
            return refused(shared, which, why, Forget::Seen);
        }
    };
    let sha = sha256(&bytes);
    {
        let mut slots = shared.config_files.lock();
        let Some(slot) = slots.get_mut(&which) else {
            return;
        };
        if slot.seen.as_deref() == Some(sha.as_str()) {
            return;
        }
        slot.seen = Some(sha.clone());
    }
    let Ok(text) = String::from_utf8(bytes) else {
        let why = format!("{}: is not UTF-8 text; refused", path.display());
        return refused(shared, which, why, Forget::Nothing);
    };
    let file = path.display().to_string();
    let result = match which {
        Which::Oncall => oncall(shared, &file, &text),
        Which::Paging => paging(shared, &file, &text),
    };
    match result {
        Ok(()) => applied(shared, which, sha, text),
        Err(why) => refused(shared, which, why, Forget::Nothing),
    }
}

fn channels(shared: &Shared) -> Vec<String> {
    shared
        .cfg
        .notifiers
        .iter()
        .map(NotifierConfig::name)
        .collect()
}

fn parse_policy(
    shared: &Shared,
    file: &str,
    text: &str,
    schedule: &Schedule,
) -> Result<Paging, String> {
    let names = channels(shared);
    let names: Vec<&str> = names.iter().map(String::as_str).collect();
    let (teams, people) = schedule.names();
    let known = liveops_config::paging::ScheduleNames {
        teams: &teams,
        people: &people,
    };
    liveops_config::parse_paging(file, text, &names, Some(known)).map_err(|e| e.to_string())
}

fn oncall(shared: &Shared, file: &str, text: &str) -> Result<(), String> {
    let new = Schedule::new(liveops_config::parse_oncall(file, text).map_err(|e| e.to_string())?);
    let pager = shared.pager();
    // The policy in force, parsed again against the new teams.
    let policy = match (pager, policy_in_force(shared)) {
        (Some(_), Some((pfile, ptext))) => {
            Some(parse_policy(shared, &pfile, &ptext, &new).map_err(|e| {
                format!(
                    "{file}: refused: the paging policy in force does not fit this schedule:\n{e}"
                )
            })?)
        }
        _ => None,
    };
    let new = Arc::new(new);
    let old = shared.oncall.swap(new.clone());
    let Some(pager) = pager else {
        return Ok(());
    };
    if let Some(p) = policy {
        pager.set_policy(p);
    }
    let now = pager.now();
    let from = after(
        Timestamp::UNIX_EPOCH,
        i64::try_from(now / 1_000).unwrap_or(i64::MAX),
    );
    let moved = liveops_oncall::moved(&old, &new, from, after(from, AHEAD_SECONDS));
    if !moved.is_empty()
        && let Err(e) = pager.handle(
            &shared.events,
            Input::ShiftsMoved(shift_changes(moved)),
            now,
        )
    {
        tracing::error!(error = %e, "cannot tell people their shifts moved");
    }
    // The next handoff may have moved.
    pager.wake();
    Ok(())
}

fn policy_in_force(shared: &Shared) -> Option<(String, String)> {
    let slots = shared.config_files.lock();
    let slot = slots.get(&Which::Paging)?;
    Some((slot.path.display().to_string(), slot.text.clone()?))
}

fn paging(shared: &Shared, file: &str, text: &str) -> Result<(), String> {
    let Some(pager) = shared.pager() else {
        return Ok(());
    };
    let policy = parse_policy(shared, file, text, &shared.oncall())?;
    pager.set_policy(policy);
    Ok(())
}

fn applied(shared: &Shared, which: Which, sha: String, text: String) {
    let at = crate::now_ms();
    {
        let mut slots = shared.config_files.lock();
        if let Some(slot) = slots.get_mut(&which) {
            slot.sha256 = Some(sha.clone());
            slot.text = Some(text);
            slot.last_error = None;
            slot.last_reload_ms = Some(at);
        }
    }
    shared.metrics.config_reload(which.as_str(), true);
    tracing::info!(file = which.as_str(), sha256 = %sha, "config file reloaded and in force");
}

/// Whether the bytes last seen still count as seen after a refusal.
enum Forget {
    /// Bytes that did not parse: the same bytes are refused again unread.
    Nothing,
    /// The file could not be read: whatever is read next is looked at,
    /// even the bytes of the file in force (a FIFO put back as the file).
    Seen,
}

fn refused(shared: &Shared, which: Which, why: String, forget: Forget) {
    {
        let mut slots = shared.config_files.lock();
        let Some(slot) = slots.get_mut(&which) else {
            return;
        };
        if matches!(forget, Forget::Seen) {
            slot.seen = None;
        }
        // The poll reads a broken file again and again: said once.
        if slot.last_error.as_deref() == Some(why.as_str()) {
            return;
        }
        slot.last_error = Some(why.clone());
    }
    shared.metrics.config_reload(which.as_str(), false);
    tracing::error!(file = which.as_str(), error = %why, "config file refused; the last good one stays in force");
}
