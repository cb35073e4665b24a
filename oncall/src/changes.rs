//! What a new version of the schedule changes for each person: the data
//! for "your shifts moved" notifications when an override is added or a
//! rotation edited (the pager sends them).

use jiff::Timestamp;

use crate::{OnCall, Schedule};

/// The pieces one person gains and loses over the range compared.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Moved {
    pub person: String,
    pub gained: Vec<OnCall>,
    pub lost: Vec<OnCall>,
}

/// Everyone whose final schedule over `[from, until)` differs between `old`
/// and `new`, by name. A piece counts as the same when its team, role,
/// person and bounds are (its source may differ: an override that names
/// the person already on call moves nobody).
pub fn moved(old: &Schedule, new: &Schedule, from: Timestamp, until: Timestamp) -> Vec<Moved> {
    let key = |p: &OnCall| (p.team.clone(), p.role, p.person.clone(), p.from, p.until);
    let (before, after) = (old.shifts(from, until, None), new.shifts(from, until, None));
    let mut out: Vec<Moved> = Vec::new();
    for p in &after {
        if !before.iter().any(|q| key(q) == key(p)) {
            slot(&mut out, &p.person).gained.push(p.clone());
        }
    }
    for p in &before {
        if !after.iter().any(|q| key(q) == key(p)) {
            slot(&mut out, &p.person).lost.push(p.clone());
        }
    }
    out.sort_by(|a, b| a.person.cmp(&b.person));
    out
}

fn slot<'a>(out: &'a mut Vec<Moved>, person: &str) -> &'a mut Moved {
    let i = match out.iter().position(|m| m.person == person) {
        Some(i) => i,
        None => {
            out.push(Moved {
                person: person.to_owned(),
                gained: Vec::new(),
                lost: Vec::new(),
            });
            out.len() - 1
        }
    };
    &mut out[i]
}
