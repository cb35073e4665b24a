//! Checks of what an operator sends, worded for them: a reason for every
//! change, a time box within bounds, a scope id that can be matched.

use std::time::Duration;

use liveops_flags::Scope;

use crate::http::{AppError, valid_name};

/// The longest time box: a mitigation meant to last longer belongs in the
/// flag file, reviewed like any other change.
const MAX_TTL: Duration = Duration::from_secs(30 * 86_400);
const MAX_REASON: usize = 1_000;

/// The reason for a change, trimmed: required, since the audit log and
/// whoever comes next need it.
pub fn reason(r: Option<String>) -> Result<String, AppError> {
    let r = r.map(|r| r.trim().to_owned()).unwrap_or_default();
    if r.is_empty() {
        return Err(AppError::BadRequest(
            "`reason` is required: say why, for the audit log and whoever comes next".into(),
        ));
    }
    if r.chars().count() > MAX_REASON {
        return Err(AppError::BadRequest(format!(
            "`reason` is too long: at most {MAX_REASON} characters"
        )));
    }
    Ok(r)
}

/// The time box given as `30m`, `2h`: more than zero, at most 30 days.
pub fn ttl(t: Option<&str>) -> Result<Option<Duration>, AppError> {
    let Some(t) = t else { return Ok(None) };
    match humantime::parse_duration(t) {
        Ok(d) if d.is_zero() => Err(AppError::BadRequest(
            "`ttl` must be longer than zero".into(),
        )),
        Ok(d) if d > MAX_TTL => Err(AppError::BadRequest(
            "`ttl` is at most 30d; a longer change belongs in the flag file".into(),
        )),
        Ok(d) => Ok(Some(d)),
        Err(e) => Err(AppError::BadRequest(format!(
            "`ttl`: `{t}` is not a duration ({e}); write e.g. \"90s\", \"30m\", \"2h\""
        ))),
    }
}

/// Worlds are names; village, account and player ids are opaque.
pub fn check_scope(scope: &Scope) -> Result<(), AppError> {
    let (what, id) = match scope {
        Scope::Fleet => return Ok(()),
        Scope::World(w) => return valid_name(w, "world"),
        Scope::Village(id) => ("village", id),
        Scope::Account(id) => ("account", id),
        Scope::Player(id) => ("player", id),
    };
    let ok = !id.is_empty()
        && id.len() <= 128
        && !id.chars().any(|c| c.is_whitespace() || c.is_control());
    if ok {
        Ok(())
    } else {
        Err(AppError::BadRequest(format!(
            "{what} id `{id}` must be 1–128 characters without spaces"
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refused(r: Result<impl std::fmt::Debug, AppError>) -> String {
        match r {
            Err(AppError::BadRequest(m)) => m,
            other => panic!("not a 400: {other:?}"),
        }
    }

    #[test]
    fn a_reason_is_required_and_trimmed() {
        assert_eq!(reason(Some("  hotfix out ".into())).unwrap(), "hotfix out");
        for missing in [None, Some(String::new()), Some(" \n\t".into())] {
            assert!(refused(reason(missing)).contains("`reason` is required"));
        }
        assert!(refused(reason(Some("x".repeat(MAX_REASON + 1)))).contains("too long"));
    }

    #[test]
    fn a_ttl_is_a_positive_duration_up_to_30_days() {
        assert_eq!(ttl(None).unwrap(), None);
        assert_eq!(ttl(Some("2h")).unwrap(), Some(Duration::from_secs(7_200)));
        assert!(refused(ttl(Some("0s"))).contains("longer than zero"));
        assert!(refused(ttl(Some("31d"))).contains("at most 30d"));
        assert!(refused(ttl(Some("soon"))).contains("not a duration"));
    }
}
