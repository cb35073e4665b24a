//! What a rollback would write, entity by entity (current → restored), and
//! its collateral: entities of other owners that changed since the
//! snapshot and name a targeted entity, such as a trade partner's village.
//! Nothing here talks to the game; the plan is the dry run's answer and the
//! apply's input alike.

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::time::Instant;

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::select::{self, Memo};
use super::{Key, Targets};
use crate::snapshot::diff::{self, FieldChange};
use crate::snapshot::index::{self, Digest};
use crate::snapshot::{Meta, READ_CHUNK, SnapshotError, Store};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Action {
    /// Written back as the snapshot holds it.
    Restore,
    /// Gone from the game (or never there): written back whole.
    Recreate,
    /// Not in the snapshot, deleted (`delete_new`).
    Delete,
    /// Not in the snapshot, left as it is.
    Keep,
    /// Cannot be rolled back as asked; `note` says why.
    Skip,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Item {
    pub kind: String,
    pub id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner: Option<String>,
    pub action: Action,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// Current → restored.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub fields: Vec<FieldChange>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Collateral {
    pub kind: String,
    pub id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner: Option<String>,
    /// `added`, `removed` or `changed` since the snapshot.
    pub change: String,
    /// The targeted ids it names.
    pub references: Vec<String>,
    /// Snapshot → now.
    pub fields: Vec<FieldChange>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    /// Entities the targets cover, on either side.
    pub targeted: u64,
    pub restore: u64,
    pub recreate: u64,
    pub delete: u64,
    /// Already as the snapshot holds them.
    pub unchanged: u64,
    pub keep: u64,
    pub skip: u64,
    pub collateral: u64,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Plan {
    pub from: String,
    pub from_at_ms: u64,
    pub targets: Targets,
    pub summary: Summary,
    /// Every targeted entity that is not already as the snapshot holds it.
    pub items: Vec<Item>,
    pub collateral: Vec<Collateral>,
    /// What the collateral compares `from` with: `live` (the game's whole
    /// state, read for this plan), or the newest snapshot, so that a plan
    /// reads only the targeted entities from the game (changes since that
    /// snapshot are not seen; `fresh` reads the whole world instead).
    pub collateral_from: String,
    #[serde(default)]
    pub collateral_at_ms: u64,
    /// Reading the game's state, then planning.
    pub read_ms: u64,
    pub took_ms: u64,
}

/// What the targets cover in the snapshot, with the lines read to find it:
/// worked out once, whether the game is read for the targets or whole.
pub struct Found {
    pub in_snap: BTreeMap<Key, Digest>,
    pub known: select::Known,
}

impl Found {
    pub fn in_snapshot(
        nodes: &Memo<'_>,
        snap: &Meta,
        owners: &BTreeSet<String>,
    ) -> Result<Found, SnapshotError> {
        let mut known = select::Known::new();
        let in_snap = select::owned(nodes, snap, owners, &mut known)?;
        Ok(Found { in_snap, known })
    }
}

/// One line the apply sends to the game.
#[derive(Clone, Debug)]
pub struct Write {
    pub key: Key,
    /// The restore line: the snapshot's bytes, a field-merged entity, or a
    /// deletion.
    pub line: Vec<u8>,
    /// What reading it back must give (`None`: absent).
    pub expect: Option<Value>,
    /// The entity as the game holds it now (digest, owner): the safety
    /// snapshot's content.
    pub current: Option<(Digest, Option<String>)>,
}

/// An entity's version on one side.
struct Side {
    digest: Digest,
    /// The game's own bytes, given back unchanged by a whole restore.
    line: Vec<u8>,
    value: Value,
}

/// Plans rolling `targets` back from `snap` given the game's state `live`.
pub fn make(
    store: &Store,
    snap: &Meta,
    live: &Meta,
    window: &Meta,
    targets: &Targets,
    found: Option<Found>,
) -> Result<(Plan, Vec<Write>), SnapshotError> {
    let started = Instant::now();
    let nodes = Memo::new(store);
    let owners = targets.owners();
    let Found { in_snap, mut known } = match found {
        Some(f) => f,
        None => Found::in_snapshot(&nodes, snap, &owners)?,
    };
    let in_live = select::owned(&nodes, live, &owners, &mut known)?;
    let mut keys: BTreeSet<Key> = targets.explicit();
    keys.extend(in_snap.keys().cloned());
    keys.extend(in_live.keys().cloned());

    let mut summary = Summary {
        targeted: keys.len() as u64,
        ..Summary::default()
    };
    // Each key's digest on both sides: from the owner index where it was
    // found there, otherwise one lookup (a named entity, or one whose
    // owner changed). Equal digests are unchanged and never read.
    let mut differ = Vec::new();
    for key in &keys {
        let old = digest_in(&nodes, snap, &in_snap, key)?;
        let cur = digest_in(&nodes, live, &in_live, key)?;
        if old.is_some() && old == cur {
            summary.unchanged += 1;
        } else {
            differ.push((key, old, cur));
        }
    }
    let wanted: Vec<Digest> = differ
        .iter()
        .flat_map(|(_, a, b)| [*a, *b])
        .flatten()
        .collect();
    let lines = store.lines(&wanted)?;
    let side = |meta: &Meta, d: Option<Digest>| -> Result<Option<Side>, SnapshotError> {
        let Some(digest) = d else { return Ok(None) };
        let line = lines
            .get(&digest)
            .ok_or_else(|| missing(meta, &digest))?
            .to_vec();
        let value = parse(meta, &line)?;
        Ok(Some(Side {
            digest,
            line,
            value,
        }))
    };
    let (mut items, mut writes) = (Vec::new(), Vec::new());
    for (key, old, cur) in differ {
        let Some((item, write)) = entity(key, side(snap, old)?, side(live, cur)?, targets) else {
            summary.unchanged += 1;
            continue;
        };
        match item.action {
            Action::Restore => summary.restore += 1,
            Action::Recreate => summary.recreate += 1,
            Action::Delete => summary.delete += 1,
            Action::Keep => summary.keep += 1,
            Action::Skip => summary.skip += 1,
        }
        items.push(item);
        writes.extend(write);
    }
    let collateral = collateral(store, &nodes, snap, window, &keys, &owners)?;
    summary.collateral = collateral.len() as u64;
    let plan = Plan {
        from: snap.id.clone(),
        from_at_ms: snap.at_ms,
        targets: targets.clone(),
        summary,
        items,
        collateral,
        collateral_from: super::LIVE.into(),
        collateral_at_ms: live.at_ms,
        read_ms: 0,
        took_ms: started.elapsed().as_millis() as u64,
    };
    Ok((plan, writes))
}

fn digest_in(
    nodes: &Memo<'_>,
    meta: &Meta,
    found: &BTreeMap<Key, Digest>,
    key: &Key,
) -> Result<Option<Digest>, SnapshotError> {
    if let Some(d) = found.get(key) {
        return Ok(Some(*d));
    }
    index::lookup(
        nodes,
        meta.root().as_ref(),
        &index::key_of(&key.kind, &key.id),
    )
    .map_err(|e| SnapshotError::Damaged(meta.id.clone(), e.to_string()))
}

fn missing(meta: &Meta, digest: &Digest) -> SnapshotError {
    SnapshotError::Damaged(
        meta.id.clone(),
        format!("entity {} is missing", hex::encode(digest)),
    )
}

fn parse(meta: &Meta, line: &[u8]) -> Result<Value, SnapshotError> {
    serde_json::from_slice(line).map_err(|e| SnapshotError::Damaged(meta.id.clone(), e.to_string()))
}

fn owner_of(v: &Value) -> Option<String> {
    v.get("owner").and_then(Value::as_str).map(str::to_owned)
}

/// One targeted entity's item and write; `None` when it is already as the
/// snapshot holds it.
fn entity(
    key: &Key,
    old: Option<Side>,
    cur: Option<Side>,
    t: &Targets,
) -> Option<(Item, Option<Write>)> {
    let owner = cur
        .as_ref()
        .or(old.as_ref())
        .and_then(|s| owner_of(&s.value));
    let current = cur.as_ref().map(|c| (c.digest, owner_of(&c.value)));
    let item = |action, note: Option<String>, fields| Item {
        kind: key.kind.clone(),
        id: key.id.clone(),
        owner: owner.clone(),
        action,
        note,
        fields,
    };
    let mut changes = Vec::new();
    match (old, cur) {
        (None, None) => Some((item(Action::Skip, Some("in neither the snapshot nor the game".into()), vec![]), None)),
        (Some(_), None) if !t.fields.is_empty() => Some((
            item(Action::Skip, Some("gone from the game: --fields restores fields of an entity that exists; roll back the whole entity".into()), vec![]),
            None,
        )),
        (Some(o), None) => {
            diff::compare("", &Value::Null, &o.value, &mut changes);
            Some((item(Action::Recreate, None, changes), Some(Write { key: key.clone(), line: o.line, expect: Some(o.value), current })))
        }
        (None, Some(_)) if t.delete_new && t.fields.is_empty() => {
            let line = serde_json::to_vec(&json!({"kind": key.kind, "id": key.id, "deleted": true})).unwrap_or_default();
            Some((item(Action::Delete, Some("not in the snapshot".into()), vec![]), Some(Write { key: key.clone(), line, expect: None, current })))
        }
        (None, Some(_)) => Some((item(Action::Keep, Some("not in the snapshot: left as it is".into()), vec![]), None)),
        (Some(o), Some(c)) if o.digest == c.digest => None,
        (Some(o), Some(c)) => {
            let (restored, line) = if t.fields.is_empty() {
                (o.value, o.line)
            } else {
                let merged = merge(&c.value, &o.value, &t.fields);
                let line = serde_json::to_vec(&merged).unwrap_or_default();
                (merged, line)
            };
            diff::compare("", &c.value, &restored, &mut changes);
            if changes.is_empty() {
                return None;
            }
            let note = match (owner_of(&c.value), owner_of(&restored)) {
                (a, b) if a != b => Some(format!("owner {} → {}", a.as_deref().unwrap_or("none"), b.as_deref().unwrap_or("none"))),
                _ => None,
            };
            Some((item(Action::Restore, note, changes), Some(Write { key: key.clone(), line, expect: Some(restored), current })))
        }
    }
}

/// `current` with each of `paths` as `snapshot` holds it (removed where the
/// snapshot has none).
pub fn merge(current: &Value, snapshot: &Value, paths: &[String]) -> Value {
    let mut out = current.clone();
    for path in paths {
        let parts: Vec<&str> = path.split('.').collect();
        let want = parts.iter().try_fold(snapshot, |v, p| v.get(p));
        set(&mut out, &parts, want.cloned());
    }
    out
}

fn set(v: &mut Value, parts: &[&str], to: Option<Value>) {
    let Some((last, init)) = parts.split_last() else {
        return;
    };
    let mut at = v;
    for p in init {
        if !at.get(p).is_some_and(Value::is_object) {
            if to.is_none() {
                return;
            }
            if let Value::Object(m) = at {
                m.insert((*p).to_owned(), json!({}));
            } else {
                return;
            }
        }
        at = &mut at[*p];
    }
    if let Value::Object(m) = at {
        match to {
            Some(x) => {
                m.insert((*last).to_owned(), x);
            }
            None => {
                m.remove(*last);
            }
        }
    }
}

/// Entities outside the targets that changed since the snapshot and name a
/// targeted id anywhere in their line: the diff of the two indexes costs
/// what changed, and only changed entities are read.
fn collateral(
    store: &Store,
    nodes: &Memo<'_>,
    snap: &Meta,
    live: &Meta,
    keys: &BTreeSet<Key>,
    owners: &BTreeSet<String>,
) -> Result<Vec<Collateral>, SnapshotError> {
    let damaged = |e: String| SnapshotError::Damaged(live.id.clone(), e);
    let targeted: HashSet<Digest> = keys.iter().map(|k| index::key_of(&k.kind, &k.id)).collect();
    let ids: HashSet<&str> = keys
        .iter()
        .map(|k| k.id.as_str())
        .chain(owners.iter().map(String::as_str))
        .collect();
    let changes = index::diff(nodes, snap.root().as_ref(), live.root().as_ref())
        .map_err(|e| damaged(e.to_string()))?;
    let mut out = Vec::new();
    let others: Vec<_> = changes
        .iter()
        .filter(|c| !targeted.contains(&c.key))
        .collect();
    for chunk in others.chunks(READ_CHUNK) {
        let lines = store.lines_of(chunk.iter().copied())?;
        let read = |meta: &Meta, d: Option<Digest>| -> Result<Option<Value>, SnapshotError> {
            let Some(d) = d else { return Ok(None) };
            parse(meta, lines.get(&d).ok_or_else(|| missing(meta, &d))?).map(Some)
        };
        for c in chunk {
            let old = read(snap, c.old)?;
            let new = read(live, c.new)?;
            let mut refs = BTreeSet::new();
            for v in old.iter().chain(new.iter()) {
                strings(v, &mut |s| {
                    if ids.contains(s) {
                        refs.insert(s.to_owned());
                    }
                });
            }
            // Its own id names itself, not a target.
            let me = new
                .as_ref()
                .or(old.as_ref())
                .cloned()
                .unwrap_or(Value::Null);
            if let Some(id) = me.get("id").and_then(Value::as_str) {
                refs.remove(id);
            }
            if refs.is_empty() {
                continue;
            }
            let mut fields = Vec::new();
            diff::compare(
                "",
                old.as_ref().unwrap_or(&Value::Null),
                new.as_ref().unwrap_or(&Value::Null),
                &mut fields,
            );
            let change = match (&old, &new) {
                (None, _) => "added",
                (_, None) => "removed",
                _ => "changed",
            };
            out.push(Collateral {
                kind: me
                    .get("kind")
                    .and_then(Value::as_str)
                    .unwrap_or("?")
                    .to_owned(),
                id: me
                    .get("id")
                    .and_then(Value::as_str)
                    .unwrap_or("?")
                    .to_owned(),
                owner: owner_of(&me),
                change: change.into(),
                references: refs.into_iter().collect(),
                fields,
            });
        }
    }
    Ok(out)
}

fn strings<'v>(v: &'v Value, each: &mut dyn FnMut(&'v str)) {
    match v {
        Value::String(s) => each(s),
        Value::Array(a) => a.iter().for_each(|x| strings(x, each)),
        Value::Object(m) => m.values().for_each(|x| strings(x, each)),
        _ => {}
    }
}
