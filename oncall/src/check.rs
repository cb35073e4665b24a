//! What is wrong with a schedule that parses: the problems `liveops oncall
//! check` lists, over a stretch of weeks from a given time.

use std::fmt;

use jiff::Timestamp;

use crate::{OnCall, Role, Schedule, after, resolve};

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Problem {
    /// Nobody is `team`'s primary over `[from, until)`.
    Gap {
        team: String,
        from: Timestamp,
        until: Timestamp,
    },
    /// A person the pager could not reach.
    NoContact { person: String },
    /// `person` is `team`'s primary and its secondary at once: escalating
    /// would page them again.
    DoubleRole {
        team: String,
        person: String,
        from: Timestamp,
        until: Timestamp,
    },
    /// The override (1-based, in file order) covers no rotation, or starts
    /// before its rotation does.
    StrayOverride {
        number: usize,
        team: String,
        role: Role,
        person: String,
        why: String,
    },
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Problem::Gap { team, from, until } => {
                write!(f, "gap: {team} has no primary from {from} until {until}")
            }
            Problem::NoContact { person } => write!(
                f,
                "no contact: {person} has no pagerduty, email, slack or discord to be paged at"
            ),
            Problem::DoubleRole {
                team,
                person,
                from,
                until,
            } => write!(
                f,
                "double role: {person} is both primary and secondary of {team} from {from} until {until}"
            ),
            Problem::StrayOverride {
                number,
                team,
                role,
                person,
                why,
            } => write!(
                f,
                "stray override: override #{number} ({person} as {team} {role}) {why}"
            ),
        }
    }
}

/// Every problem of `schedule` over `weeks` weeks from `from`.
pub fn check(schedule: &Schedule, from: Timestamp, weeks: u32) -> Vec<Problem> {
    let until = after(from, i64::from(weeks) * 7 * 86_400);
    let cfg = schedule.config();
    let mut out = Vec::new();
    for team in &cfg.teams {
        let role_pieces = |role| {
            let mut v = resolve::track(cfg, &team.name, role, from, until);
            for c in &cfg.coverage {
                v.extend(resolve::coverage_of(c, &team.name, role, from, until));
            }
            v
        };
        let primary = role_pieces(Role::Primary);
        gaps(&team.name, &primary, from, until, &mut out);
        let secondary = role_pieces(Role::Secondary);
        double_roles(&team.name, &primary, &secondary, (from, until), &mut out);
    }
    for p in &cfg.people {
        if p.contact_kinds().is_empty() {
            out.push(Problem::NoContact {
                person: p.name.clone(),
            });
        }
    }
    for (i, o) in cfg.overrides.iter().enumerate() {
        let rotation = cfg
            .rotations
            .iter()
            .find(|r| r.team == o.team && r.role == o.role);
        let why = match rotation {
            None => Some(format!(
                "is outside any rotation: {} has no {} rotation",
                o.team, o.role
            )),
            Some(r) => crate::layer::LayerRef::new(&r.layer)
                .begins()
                .filter(|b| o.from < *b)
                .map(|b| {
                    format!(
                        "is outside its rotation: it starts at {} but rotation `{}` begins at {b}",
                        o.from, r.name
                    )
                }),
        };
        if let Some(why) = why {
            out.push(Problem::StrayOverride {
                number: i + 1,
                team: o.team.clone(),
                role: o.role,
                person: o.person.clone(),
                why,
            });
        }
    }
    out
}

fn gaps(team: &str, pieces: &[OnCall], from: Timestamp, until: Timestamp, out: &mut Vec<Problem>) {
    let mut spans: Vec<(Timestamp, Timestamp)> = pieces.iter().map(|p| (p.from, p.until)).collect();
    spans.sort();
    let mut covered_to = from;
    for (a, b) in spans.into_iter().chain([(until, until)]) {
        if a > covered_to {
            out.push(Problem::Gap {
                team: team.to_owned(),
                from: covered_to,
                until: a.min(until),
            });
        }
        covered_to = covered_to.max(b);
        if covered_to >= until {
            break;
        }
    }
}

fn double_roles(
    team: &str,
    primary: &[OnCall],
    secondary: &[OnCall],
    (from, until): (Timestamp, Timestamp),
    out: &mut Vec<Problem>,
) {
    let mut found: Vec<(String, Timestamp, Timestamp)> = Vec::new();
    for p in primary {
        for s in secondary.iter().filter(|s| s.person == p.person) {
            let (a, b) = (
                p.from.max(s.from).max(from),
                p.until.min(s.until).min(until),
            );
            if a < b {
                found.push((p.person.clone(), a, b));
            }
        }
    }
    found.sort_by(|x, y| (&x.0, x.1).cmp(&(&y.0, y.1)));
    // One problem per stretch, however many pieces it spans.
    let mut merged: Vec<(String, Timestamp, Timestamp)> = Vec::new();
    for f in found {
        match merged.last_mut() {
            Some(m) if m.0 == f.0 && f.1 <= m.2 => m.2 = m.2.max(f.2),
            _ => merged.push(f),
        }
    }
    out.extend(
        merged
            .into_iter()
            .map(|(person, from, until)| Problem::DoubleRole {
                team: team.to_owned(),
                person,
                from,
                until,
            }),
    );
}
