//! What changed between two versions of some entities, for people and
//! machines: counts per kind, the fields that changed most, the largest
//! numeric deltas ranked (an exploit or a corruption stands at the top),
//! and each entity's field changes as JSON paths, old → new.
//!
//! Pure: it takes parsed entity lines, and the index decides which ones.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Which entities a diff (or a rollback) is about. Empty lists match all.
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Filter {
    #[serde(default)]
    pub kind: Vec<String>,
    #[serde(default)]
    pub id: Vec<String>,
    #[serde(default)]
    pub owner: Vec<String>,
}

impl Filter {
    pub fn matches(&self, kind: &str, id: &str, owner: Option<&str>) -> bool {
        let any = |list: &[String], v: &str| list.iter().any(|x| x == v);
        (self.kind.is_empty() || any(&self.kind, kind))
            && (self.id.is_empty() && self.owner.is_empty()
                || any(&self.id, id)
                || owner.is_some_and(|o| any(&self.owner, o)))
    }
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct KindCounts {
    pub added: u64,
    pub removed: u64,
    pub changed: u64,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FieldChange {
    pub path: String,
    #[serde(default)]
    pub old: Value,
    #[serde(default)]
    pub new: Value,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EntityDiff {
    pub kind: String,
    pub id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner: Option<String>,
    /// `added`, `removed` or `changed`.
    pub change: String,
    pub fields: Vec<FieldChange>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Delta {
    pub kind: String,
    pub id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner: Option<String>,
    pub path: String,
    pub old: f64,
    pub new: f64,
    pub delta: f64,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Report {
    pub from: String,
    pub to: String,
    pub kinds: BTreeMap<String, KindCounts>,
    /// Paths by how many entities they changed in, most first.
    pub fields: Vec<(String, u64)>,
    /// Largest absolute numeric changes, largest first.
    pub largest: Vec<Delta>,
    pub entities: Vec<EntityDiff>,
    /// Entities the index compared without reading (unchanged), when known.
    #[serde(default)]
    pub unchanged: u64,
}

/// Deltas kept in `largest`.
pub const TOP: usize = 20;

/// One entity's two versions (either absent), each a parsed entity line.
pub struct Pair {
    pub old: Option<Value>,
    pub new: Option<Value>,
}

/// Builds the report; pairs that fail `filter` or are equal are left out.
pub fn report(
    from: &str,
    to: &str,
    pairs: impl IntoIterator<Item = Pair>,
    filter: &Filter,
) -> Report {
    let mut out = Report {
        from: from.into(),
        to: to.into(),
        ..Report::default()
    };
    let mut fields: BTreeMap<String, u64> = BTreeMap::new();
    let mut deltas: Vec<Delta> = Vec::new();
    for pair in pairs {
        let Some(either) = pair.new.as_ref().or(pair.old.as_ref()) else {
            continue;
        };
        let text = |k: &str| either.get(k).and_then(Value::as_str).map(str::to_owned);
        let (Some(kind), Some(id)) = (text("kind"), text("id")) else {
            continue;
        };
        let owner = |v: &Option<Value>| v.as_ref()?.get("owner")?.as_str().map(str::to_owned);
        let (old_owner, new_owner) = (owner(&pair.old), owner(&pair.new));
        // A change of owner matches either owner: both players must see it.
        if !filter.matches(&kind, &id, old_owner.as_deref())
            && !filter.matches(&kind, &id, new_owner.as_deref())
        {
            continue;
        }
        let mut changes = Vec::new();
        let empty = Value::Null;
        compare(
            "",
            pair.old.as_ref().unwrap_or(&empty),
            pair.new.as_ref().unwrap_or(&empty),
            &mut changes,
        );
        changes.retain(|c| c.path != "kind" && c.path != "id");
        if changes.is_empty() && pair.old.is_some() && pair.new.is_some() {
            continue;
        }
        let counts = out.kinds.entry(kind.clone()).or_default();
        let change = match (&pair.old, &pair.new) {
            (None, _) => {
                counts.added += 1;
                "added"
            }
            (_, None) => {
                counts.removed += 1;
                "removed"
            }
            _ => {
                counts.changed += 1;
                "changed"
            }
        };
        let owner = new_owner.or(old_owner);
        for c in &changes {
            *fields.entry(c.path.clone()).or_default() += 1;
            let num = |v: &Value| v.as_f64().filter(|x| x.is_finite());
            let (old, new) = (num(&c.old).unwrap_or(0.0), num(&c.new).unwrap_or(0.0));
            if num(&c.old).is_some() || num(&c.new).is_some() {
                deltas.push(Delta {
                    kind: kind.clone(),
                    id: id.clone(),
                    owner: owner.clone(),
                    path: c.path.clone(),
                    old,
                    new,
                    delta: new - old,
                });
            }
        }
        out.entities.push(EntityDiff {
            kind,
            id,
            owner,
            change: change.into(),
            fields: changes,
        });
    }
    deltas.sort_by(|a, b| {
        b.delta
            .abs()
            .total_cmp(&a.delta.abs())
            .then_with(|| a.id.cmp(&b.id))
    });
    deltas.truncate(TOP);
    out.largest = deltas;
    let mut fields: Vec<(String, u64)> = fields.into_iter().collect();
    fields.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    out.fields = fields;
    out.entities
        .sort_by(|a, b| (&a.kind, natural(&a.id)).cmp(&(&b.kind, natural(&b.id))));
    out
}

/// Sorts `v9` before `v10`.
fn natural(id: &str) -> (String, u64, String) {
    let digits = id.find(|c: char| c.is_ascii_digit()).unwrap_or(id.len());
    let (head, tail) = id.split_at(digits);
    let end = tail
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(tail.len());
    let n = tail[..end].parse().unwrap_or(u64::MAX);
    (head.to_owned(), n, tail[end..].to_owned())
}

/// Appends every leaf path where `a` and `b` differ. Objects are compared
/// key by key; anything else (arrays included) as a whole value, since an
/// array's positions rarely mean the same thing in two versions.
pub fn compare(path: &str, a: &Value, b: &Value, out: &mut Vec<FieldChange>) {
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            for (k, va) in x {
                let p = join(path, k);
                compare(&p, va, y.get(k).unwrap_or(&Value::Null), out);
            }
            for (k, vb) in y.iter().filter(|(k, _)| !x.contains_key(*k)) {
                compare(&join(path, k), &Value::Null, vb, out);
            }
        }
        (Value::Null, Value::Object(y)) => {
            for (k, vb) in y {
                compare(&join(path, k), &Value::Null, vb, out);
            }
        }
        (Value::Object(x), Value::Null) => {
            for (k, va) in x {
                compare(&join(path, k), va, &Value::Null, out);
            }
        }
        _ if a == b => {}
        _ => out.push(FieldChange {
            path: path.to_owned(),
            old: a.clone(),
            new: b.clone(),
        }),
    }
}

fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_owned()
    } else {
        format!("{path}.{key}")
    }
}

#[cfg(test)]
#[path = "diff_tests.rs"]
mod tests;
