//! A restore body, checked line by line and applied.
//!
//! Each line stands alone: a bad one is refused with its reason and the
//! good ones around it are applied, because a rollback that fails whole on
//! one odd entity leaves the operator with nothing. Every line is a whole
//! entity or a deletion, so applying a body twice leaves the same state.

use std::fmt;

use serde::de::{self, IgnoredAny, MapAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::value::RawValue;

use super::entity::{Entity, Key, Kind, parse_id};
use super::{SharedStore, write};

/// Lines applied under one hold of the lock, so a large restore lets the
/// tick (and listings) in between.
const BATCH: usize = 1024;

/// What one line asks for.
#[derive(Debug)]
pub(crate) enum Op {
    Put(u64, Entity),
    Delete(Key),
}

/// The answer: `{"applied":N,"failed":M,"results":[…]}`.
#[derive(Debug, Default, Serialize)]
pub(crate) struct Report {
    pub(crate) applied: usize,
    pub(crate) failed: usize,
    pub(crate) results: Vec<LineResult>,
}

#[derive(Debug, PartialEq, Serialize)]
pub(crate) struct LineResult {
    pub(crate) line: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) kind: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) id: Option<String>,
    pub(crate) ok: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) error: Option<String>,
}

/// Checks every line of `body`, then applies the good ones to `state`.
pub(crate) fn restore(state: &SharedStore, body: &[u8]) -> Report {
    let mut report = Report::default();
    // Numbered as the body's lines are, blank ones included, so a reason's
    // line number is the line an editor shows.
    let lines = body.split(|&b| b == b'\n').enumerate();
    let lines = lines.filter(|(_, l)| !l.trim_ascii().is_empty());
    let mut batch = Vec::with_capacity(BATCH);
    for (i, line) in lines {
        let (result, op) = check(i + 1, line.trim_ascii());
        report.results.push(result);
        batch.extend(op);
        if batch.len() == BATCH {
            apply(state, &mut batch);
        }
    }
    apply(state, &mut batch);
    report.applied = report.results.iter().filter(|r| r.ok).count();
    report.failed = report.results.len() - report.applied;
    report
}

fn apply(state: &SharedStore, batch: &mut Vec<Op>) {
    if batch.is_empty() {
        return;
    }
    let mut store = write(state);
    for op in batch.drain(..) {
        match op {
            Op::Put(n, entity) => store.put(n, entity),
            Op::Delete(key) => store.delete(key),
        }
    }
}

/// One line's verdict, and what to do when it is good.
pub(crate) fn check(line: usize, text: &[u8]) -> (LineResult, Option<Op>) {
    let head = match serde_json::from_slice::<Head>(text) {
        Ok(head) => head,
        Err(e) => {
            let at = match e.column() {
                0 => String::new(),
                c => format!(" at column {c}"),
            };
            let error = format!("line {line}: not an entity: {}{at}", reason(&e));
            return (failed(line, None, None, error), None);
        }
    };
    let (kind, id) = (head.kind.clone(), head.id.clone());
    match validate(head) {
        Ok(op) => {
            let result = LineResult {
                line,
                kind,
                id,
                ok: true,
                error: None,
            };
            (result, Some(op))
        }
        Err(why) => {
            let name = match (&kind, &id) {
                (Some(k), Some(i)) => format!("{k} {i}: "),
                (Some(k), None) => format!("{k}: "),
                _ => String::new(),
            };
            (
                failed(line, kind, id, format!("line {line}: {name}{why}")),
                None,
            )
        }
    }
}

fn failed(line: usize, kind: Option<String>, id: Option<String>, error: String) -> LineResult {
    LineResult {
        line,
        kind,
        id,
        ok: false,
        error: Some(error),
    }
}

fn validate(head: Head<'_>) -> Result<Op, String> {
    let kind_name = head.kind.ok_or("no `kind`")?;
    let kind = Kind::parse(&kind_name).ok_or_else(|| {
        format!("unknown kind `{kind_name}` (expected account, player or village)")
    })?;
    let id = head.id.ok_or("no `id`")?;
    let n = match parse_id(&id) {
        Some((k, n)) if k == kind => n,
        _ => return Err(format!("id must be `{}` followed by digits", kind.letter())),
    };
    if let Some(field) = head.unknown {
        return Err(format!(
            "unknown field `{field}` (expected kind, id, owner, data or deleted)"
        ));
    }
    if head.deleted == Some(true) {
        return match (head.owner, head.data) {
            (None, None) => Ok(Op::Delete((kind, n))),
            _ => Err("a deletion carries only kind, id and `deleted`".into()),
        };
    }
    let owner = match (kind.owner_kind(), head.owner) {
        (None, None) => 0,
        (None, Some(_)) => return Err("an account has no owner".into()),
        (Some(want), None) => return Err(format!("no `owner` ({} id)", want.a_name())),
        (Some(want), Some(owner)) => match parse_id(&owner) {
            Some((k, o)) if k == want => o,
            _ => return Err(format!("owner `{owner}` is not {} id", want.a_name())),
        },
    };
    let data = head.data.ok_or("no `data`")?;
    Entity::from_data(kind, owner, data)
        .map(|e| Op::Put(n, e))
        .map_err(|e| format!("data: {}", reason(&e)))
}

/// serde_json's message without its " at line 1 column 40": within one
/// line (or within `data`) that position says little the text does not.
fn reason(e: &serde_json::Error) -> String {
    let full = e.to_string();
    let position = format!(" at line {} column {}", e.line(), e.column());
    full.strip_suffix(&position).unwrap_or(&full).to_owned()
}

/// A line's top-level fields, read before its `data` is parsed for its
/// kind, so the reason a line fails can name its kind and id even when the
/// rest is wrong. Unknown fields are noted rather than failing the parse
/// for the same reason.
#[derive(Default)]
struct Head<'a> {
    kind: Option<String>,
    id: Option<String>,
    owner: Option<String>,
    data: Option<&'a RawValue>,
    deleted: Option<bool>,
    unknown: Option<String>,
}

impl<'de> Deserialize<'de> for Head<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Head<'de>, D::Error> {
        d.deserialize_map(HeadVisitor)
    }
}

struct HeadVisitor;

impl<'de> Visitor<'de> for HeadVisitor {
    type Value = Head<'de>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON object with kind, id and data")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Head<'de>, A::Error> {
        let mut head = Head::default();
        while let Some(field) = map.next_key::<String>()? {
            let seen = match field.as_str() {
                "kind" => set(&mut head.kind, map.next_value()?),
                "id" => set(&mut head.id, map.next_value()?),
                // `null` is no owner, as `last_trade` reads it.
                "owner" => set(&mut head.owner, map.next_value()?),
                "data" => set(&mut head.data, map.next_value()?),
                "deleted" => set(&mut head.deleted, map.next_value()?),
                _ => {
                    map.next_value::<IgnoredAny>()?;
                    head.unknown.get_or_insert(field.clone());
                    false
                }
            };
            if seen {
                return Err(de::Error::custom(format_args!("duplicate field `{field}`")));
            }
        }
        Ok(head)
    }
}

/// Sets `slot`; true when it was already set (a duplicate field).
fn set<T>(slot: &mut Option<T>, value: Option<T>) -> bool {
    let seen = slot.is_some();
    if value.is_some() {
        *slot = value;
    }
    seen
}
