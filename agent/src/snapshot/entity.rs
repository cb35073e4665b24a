//! One line of the game's state stream, read only as far as a snapshot
//! needs: which entity it is and who owns it. `data` stays opaque bytes, so
//! a snapshot stores exactly what the game sent and restores it unchanged.

use std::borrow::Cow;

use serde::Deserialize;
use serde_json::value::RawValue;

/// Longest line a snapshot takes; a longer one is skipped and counted, so
/// one runaway entity cannot take the agent's memory.
pub const MAX_LINE: usize = 1 << 20;

#[derive(Debug, Deserialize)]
pub struct Head<'a> {
    #[serde(borrow)]
    pub kind: Cow<'a, str>,
    #[serde(borrow)]
    pub id: Cow<'a, str>,
    #[serde(default, borrow)]
    pub owner: Option<Cow<'a, str>>,
    #[serde(borrow)]
    pub data: Option<&'a RawValue>,
}

/// Reads a line's head; the reason names what is wrong when it is not an
/// entity (the snapshot then skips it and counts it).
pub fn head(line: &[u8]) -> Result<Head<'_>, String> {
    let head: Head = serde_json::from_slice(line).map_err(|e| format!("not an entity: {e}"))?;
    for (what, value) in [("kind", &head.kind), ("id", &head.id)] {
        if value.is_empty() || value.len() > 256 || value.chars().any(char::is_control) {
            return Err(format!("{what} must be 1–256 printable characters"));
        }
    }
    if head.data.is_none() {
        return Err(format!("{} {}: no `data`", head.kind, head.id));
    }
    Ok(head)
}

/// Splits a byte stream into lines across chunk boundaries.
#[derive(Default)]
pub struct Lines {
    partial: Vec<u8>,
    /// The current line grew past [`MAX_LINE`]: drop bytes until its end.
    skipping: bool,
    pub too_long: u64,
}

impl Lines {
    /// Calls `each` with every complete line in `chunk` (without `\n`,
    /// surrounding whitespace trimmed, blank lines left out).
    pub fn push(&mut self, mut chunk: &[u8], each: &mut dyn FnMut(&[u8])) {
        while let Some(end) = chunk.iter().position(|&b| b == b'\n') {
            let (line, rest) = (&chunk[..end], &chunk[end + 1..]);
            chunk = rest;
            if self.skipping {
                self.skipping = false;
                continue;
            }
            if self.partial.is_empty() {
                emit(line, each);
            } else {
                self.partial.extend_from_slice(line);
                let whole = std::mem::take(&mut self.partial);
                if whole.len() <= MAX_LINE {
                    emit(&whole, each);
                } else {
                    self.too_long += 1;
                }
            }
        }
        if self.skipping {
            return;
        }
        self.partial.extend_from_slice(chunk);
        if self.partial.len() > MAX_LINE {
            self.partial.clear();
            self.skipping = true;
            self.too_long += 1;
        }
    }

    /// The end of the stream: a last line without `\n` still counts.
    pub fn finish(&mut self, each: &mut dyn FnMut(&[u8])) {
        let rest = std::mem::take(&mut self.partial);
        if !self.skipping {
            emit(&rest, each);
        }
    }
}

fn emit(line: &[u8], each: &mut dyn FnMut(&[u8])) {
    let line = line.trim_ascii();
    if !line.is_empty() {
        each(line);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split(chunks: &[&[u8]]) -> (Vec<String>, u64) {
        let mut lines = Lines::default();
        let mut out = Vec::new();
        for c in chunks {
            lines.push(c, &mut |l| {
                out.push(String::from_utf8_lossy(l).into_owned())
            });
        }
        lines.finish(&mut |l| out.push(String::from_utf8_lossy(l).into_owned()));
        (out, lines.too_long)
    }

    #[test]
    fn lines_are_joined_across_chunks_and_blank_ones_dropped() {
        let (out, long) = split(&[b"{\"a\":1}\n{\"b\"", b":2}\n\n  \n{\"c\":3}"]);
        assert_eq!(out, ["{\"a\":1}", "{\"b\":2}", "{\"c\":3}"]);
        assert_eq!(long, 0);
    }

    #[test]
    fn a_line_over_the_limit_is_skipped_and_the_next_one_kept() {
        let big = vec![b'x'; MAX_LINE + 10];
        let (out, long) = split(&[&big[..MAX_LINE / 2], &big[MAX_LINE / 2..], b"\nok\n"]);
        assert_eq!((out, long), (vec!["ok".to_string()], 1));
    }

    #[test]
    fn heads_name_what_is_wrong() {
        let ok = head(br#"{"kind":"village","id":"v1","owner":"p1","data":{"gold":1}}"#);
        assert!(ok.is_ok_and(|h| h.owner.as_deref() == Some("p1")));
        let escaped = head(br#"{"kind":"village","id":"v\u0031","data":{}}"#);
        assert!(escaped.is_ok_and(|h| h.id == "v1"));
        for (line, want) in [
            (
                &br#"{"kind":"village","id":"","data":{}}"#[..],
                "id must be",
            ),
            (br#"{"kind":"village","id":"v1"}"#, "no `data`"),
            (br#"{"id":"v1","data":{}}"#, "not an entity"),
            (br#"[1,2]"#, "not an entity"),
            (b"\xff\xfe", "not an entity"),
        ] {
            let err = head(line).err().unwrap_or_default();
            assert!(err.contains(want), "{err}");
        }
    }
}
