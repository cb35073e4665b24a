//! Writing a rollback through the game's restore endpoint and reading the
//! written entities back. Each line is accounted for: applied, refused with
//! the game's reason, or failed with the request; none is assumed.

use std::collections::HashMap;
use std::time::Duration;

use serde::Deserialize;
use serde_json::Value;

use super::Key;
use super::plan::Write;
use super::record::Problem;

/// Lines per restore request and ids per read-back query: well inside the
/// game's body limits at a few hundred bytes an entity.
const CHUNK: usize = 5_000;

/// What the game did with each write.
#[derive(Debug, Default)]
pub struct Applied {
    pub applied: u64,
    pub failed: Vec<Problem>,
    /// Per write, in order: whether the game applied it.
    pub ok: Vec<bool>,
}

#[derive(Deserialize)]
struct Answer {
    results: Vec<LineResult>,
}

#[derive(Deserialize)]
struct LineResult {
    line: usize,
    ok: bool,
    #[serde(default)]
    error: Option<String>,
}

fn problem(key: &Key, error: impl Into<String>) -> Problem {
    Problem {
        kind: key.kind.clone(),
        id: key.id.clone(),
        error: error.into(),
    }
}

pub async fn apply(
    client: &reqwest::Client,
    game: &str,
    writes: &[Write],
    timeout: Duration,
) -> Applied {
    let url = format!("{}/liveops/v1/state/restore", game.trim_end_matches('/'));
    let mut out = Applied {
        ok: vec![false; writes.len()],
        ..Applied::default()
    };
    for (c, chunk) in writes.chunks(CHUNK).enumerate() {
        let mut body = Vec::new();
        for w in chunk {
            body.extend_from_slice(&w.line);
            body.push(b'\n');
        }
        let answer = post(client, &url, body, timeout).await.and_then(|bytes| {
            serde_json::from_slice::<Answer>(&bytes)
                .map_err(|e| format!("the game's answer is unreadable: {e}"))
        });
        let mut said: Vec<Option<Result<(), String>>> = vec![None; chunk.len()];
        match answer {
            Ok(a) => {
                for r in a.results {
                    if let Some(slot) = r.line.checked_sub(1).and_then(|i| said.get_mut(i)) {
                        *slot = Some(if r.ok {
                            Ok(())
                        } else {
                            Err(r.error.unwrap_or_else(|| "refused".into()))
                        });
                    }
                }
            }
            Err(e) => said.iter_mut().for_each(|s| *s = Some(Err(e.clone()))),
        }
        for (i, (w, s)) in chunk.iter().zip(said).enumerate() {
            match s {
                Some(Ok(())) => {
                    out.applied += 1;
                    out.ok[c * CHUNK + i] = true;
                }
                Some(Err(e)) => out.failed.push(problem(&w.key, e)),
                None => out.failed.push(problem(
                    &w.key,
                    "the game's answer does not mention this line",
                )),
            }
        }
    }
    out
}

async fn post(
    client: &reqwest::Client,
    url: &str,
    body: Vec<u8>,
    timeout: Duration,
) -> Result<Vec<u8>, String> {
    let resp = client
        .post(url)
        .timeout(timeout)
        .body(body)
        .send()
        .await
        .map_err(|e| format!("cannot reach the game at {url}: {e}"))?;
    let status = resp.status();
    let bytes = resp.bytes().await.map_err(|e| format!("{url}: {e}"))?;
    if !status.is_success() {
        let text: String = String::from_utf8_lossy(&bytes).chars().take(300).collect();
        return Err(format!("the game answered {status}: {text}"));
    }
    Ok(bytes.to_vec())
}

/// Reads every applied entity back and lists each that is not as written.
pub async fn read_back(
    client: &reqwest::Client,
    game: &str,
    writes: &[Write],
    applied: &Applied,
    timeout: Duration,
) -> Vec<Problem> {
    let url = format!("{}/liveops/v1/state", game.trim_end_matches('/'));
    let done: Vec<&Write> = writes
        .iter()
        .zip(&applied.ok)
        .filter(|(_, ok)| **ok)
        .map(|(w, _)| w)
        .collect();
    let mut out = Vec::new();
    for chunk in done.chunks(CHUNK) {
        let query: Vec<String> = chunk.iter().map(|w| format!("id={}", w.key.id)).collect();
        let got = post(client, &url, query.join("&").into_bytes(), timeout).await;
        let got = match got {
            Ok(bytes) => found(&bytes),
            Err(e) => {
                out.extend(
                    chunk
                        .iter()
                        .map(|w| problem(&w.key, format!("cannot read it back: {e}"))),
                );
                continue;
            }
        };
        for w in chunk {
            match (got.get(&w.key), &w.expect) {
                (None, None) => {}
                (Some(_), None) => out.push(problem(&w.key, "still there after its deletion")),
                (None, Some(_)) => out.push(problem(&w.key, "not there after its restore")),
                (Some(g), Some(e)) if g == e => {}
                (Some(g), Some(_)) => {
                    out.push(problem(&w.key, format!("reads back as {}", clip(g))))
                }
            }
        }
    }
    out
}

/// The entities of a listing, by key; lines that are not entities are left out.
fn found(bytes: &[u8]) -> HashMap<Key, Value> {
    bytes
        .split(|&b| b == b'\n')
        .filter_map(|l| serde_json::from_slice::<Value>(l).ok())
        .filter_map(|v| {
            let key = Key {
                kind: v.get("kind")?.as_str()?.to_owned(),
                id: v.get("id")?.as_str()?.to_owned(),
            };
            Some((key, v))
        })
        .collect()
}

fn clip(v: &Value) -> String {
    let s = v.to_string();
    if s.chars().count() > 300 {
        format!("{}…", s.chars().take(300).collect::<String>())
    } else {
        s
    }
}
