//! Reading only the targeted entities from the game, with the `POST` form of
//! the state listing: the owners' entities level by level (an account's
//! players, then theirs) and, by id, every entity the snapshot holds for the
//! targets, so one that changed owner since is found where it is now. A plan
//! for 10,000 players then reads 30,000 entities, not the whole world.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use super::Key;
use super::select::{DEPTH, OWNERS};
use crate::snapshot::TakeError;
use crate::snapshot::entity;

/// Values (`owner=…`, `id=…`) per listing request: inside the game's body
/// limit at tens of bytes each.
const CHUNK: usize = 5_000;

/// The game's current lines of the entities `owners` own (through what
/// they own) and of `keys`, each exactly as the game sent it.
pub async fn read(
    client: &reqwest::Client,
    game: &str,
    owners: &BTreeSet<String>,
    keys: &BTreeSet<Key>,
    timeout: Duration,
) -> Result<BTreeMap<Key, Vec<u8>>, TakeError> {
    let url = format!("{}/liveops/v1/state", game.trim_end_matches('/'));
    let mut out: BTreeMap<Key, Vec<u8>> = BTreeMap::new();
    let ids: BTreeSet<&str> = keys.iter().map(|k| k.id.as_str()).collect();
    let by_id: Vec<String> = ids.iter().map(|id| format!("id={id}")).collect();
    for line in list(client, &url, &by_id, timeout).await? {
        if let Some((key, _)) = head(&line)
            && keys.contains(&key)
        {
            out.insert(key, line);
        }
    }
    let mut asked: BTreeSet<String> = owners.clone();
    let mut frontier: Vec<String> = owners.iter().cloned().collect();
    for _ in 0..DEPTH {
        if frontier.is_empty() {
            break;
        }
        let query: Vec<String> = frontier.iter().map(|o| format!("owner={o}")).collect();
        let mut next = Vec::new();
        for line in list(client, &url, &query, timeout).await? {
            let Some((key, owner)) = head(&line) else {
                continue;
            };
            // A listing by owner returns exactly those; be sure anyway.
            if !owner.as_ref().is_some_and(|o| frontier.contains(o)) {
                continue;
            }
            if OWNERS.contains(&key.kind.as_str()) && asked.insert(key.id.clone()) {
                next.push(key.id.clone());
            }
            out.insert(key, line);
        }
        frontier = next;
    }
    Ok(out)
}

fn head(line: &[u8]) -> Option<(Key, Option<String>)> {
    let h = entity::head(line).ok()?;
    let key = Key {
        kind: h.kind.into_owned(),
        id: h.id.into_owned(),
    };
    Some((key, h.owner.map(|o| o.into_owned())))
}

/// Every line the listing answers for `values`, asked `CHUNK` at a time.
async fn list(
    client: &reqwest::Client,
    url: &str,
    values: &[String],
    timeout: Duration,
) -> Result<Vec<Vec<u8>>, TakeError> {
    let mut out = Vec::new();
    for chunk in values.chunks(CHUNK) {
        let fail = |error: String| TakeError::Fetch {
            url: url.to_owned(),
            error,
        };
        let resp = client
            .post(url)
            .timeout(timeout)
            .body(chunk.join("&"))
            .send()
            .await
            .map_err(|e| fail(e.to_string()))?;
        let status = resp.status();
        let bytes = resp.bytes().await.map_err(|e| fail(e.to_string()))?;
        if !status.is_success() {
            return Err(TakeError::Status {
                url: url.to_owned(),
                status: status.as_u16(),
                body: String::from_utf8_lossy(&bytes).chars().take(300).collect(),
            });
        }
        out.extend(
            bytes
                .split(|&b| b == b'\n')
                .filter(|l| !l.trim_ascii().is_empty())
                .map(<[u8]>::to_vec),
        );
    }
    Ok(out)
}
