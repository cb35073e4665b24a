//! Just enough of server-sent events (the WHATWG `text/event-stream`
//! format) for liveops' two streams, the agent's flag changes and the
//! collector's overrides: the `event` and `data` fields, comments
//! (keepalives) ignored, events split by a blank line. Lines end with `\n`
//! or `\r\n` (a lone `\r` is not treated as a line end: neither server
//! sends one).

/// The comment sent on an idle stream so that a reader can tell a quiet
/// stream from a dead one.
pub const KEEPALIVE: &[u8] = b": keepalive\n\n";

/// `event: {event}\ndata: {data}\n\n`; `data` must be one line.
pub fn frame(event: &str, data: &str) -> String {
    format!("event: {event}\ndata: {data}\n\n")
}

/// One dispatched event. `name` is `message` when the server named none.
#[derive(Debug, PartialEq, Eq)]
pub struct Event {
    pub name: String,
    pub data: String,
}

/// A line longer than this is a server gone wrong, not a flag version;
/// refusing it bounds the memory a broken stream can take.
const MAX_LINE: usize = 64 * 1024;

/// Incremental parser: feed it chunks as they arrive, in any split.
#[derive(Debug)]
pub struct Parser {
    partial: Vec<u8>,
    name: Option<String>,
    data: Option<String>,
    max_line: usize,
}

impl Default for Parser {
    fn default() -> Parser {
        Parser::with_max_line(MAX_LINE)
    }
}

#[derive(Debug, PartialEq, Eq)]
pub struct LineTooLong;

impl Parser {
    /// A parser for a stream whose events may be larger than a flag's (an
    /// operator command naming 10,000 players is a few hundred KiB).
    pub fn with_max_line(max_line: usize) -> Parser {
        Parser {
            partial: Vec::new(),
            name: None,
            data: None,
            max_line,
        }
    }

    /// Feeds bytes as they arrive (split anywhere) and returns the events
    /// they complete.
    pub fn push(&mut self, bytes: &[u8]) -> Result<Vec<Event>, LineTooLong> {
        let mut events = Vec::new();
        let mut rest = bytes;
        while let Some(end) = rest.iter().position(|&b| b == b'\n') {
            self.partial.extend_from_slice(&rest[..end]);
            rest = &rest[end + 1..];
            let mut line = std::mem::take(&mut self.partial);
            if line.last() == Some(&b'\r') {
                line.pop();
            }
            if let Some(e) = self.line(&String::from_utf8_lossy(&line)) {
                events.push(e);
            }
        }
        self.partial.extend_from_slice(rest);
        if self.partial.len() > self.max_line {
            return Err(LineTooLong);
        }
        Ok(events)
    }

    fn line(&mut self, line: &str) -> Option<Event> {
        if line.is_empty() {
            let data = self.data.take();
            let name = self.name.take();
            // An event with no data line is not dispatched (the SSE spec).
            return data.map(|data| Event {
                name: name.unwrap_or_else(|| "message".into()),
                data,
            });
        }
        if line.starts_with(':') {
            return None;
        }
        let (field, value) = line.split_once(':').unwrap_or((line, ""));
        let value = value.strip_prefix(' ').unwrap_or(value);
        match field {
            "event" => self.name = Some(value.to_owned()),
            "data" => match &mut self.data {
                Some(d) => {
                    d.push('\n');
                    d.push_str(value);
                }
                None => self.data = Some(value.to_owned()),
            },
            // `id` and `retry` steer browser reconnects; liveops readers
            // have their own backoff and resync whole on reconnect.
            _ => {}
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(name: &str, data: &str) -> Event {
        Event {
            name: name.into(),
            data: data.into(),
        }
    }

    #[test]
    fn events_split_across_chunks_and_keepalives_ignored() {
        let mut p = Parser::default();
        assert_eq!(p.push(b"event: chan").unwrap(), []);
        assert_eq!(p.push(b"ged\r\ndata: v1\r").unwrap(), []);
        assert_eq!(
            p.push(b"\n\r\n: keepalive\n\n").unwrap(),
            [ev("changed", "v1")]
        );
        let got = p
            .push(b"data:a\ndata: b\n\nevent: changed\ndata: 7\n\n")
            .unwrap();
        assert_eq!(got, [ev("message", "a\nb"), ev("changed", "7")]);
    }

    #[test]
    fn an_event_without_data_is_dropped_and_its_name_forgotten() {
        let mut p = Parser::default();
        assert_eq!(
            p.push(b"event: changed\n\ndata: x\n\n").unwrap(),
            [ev("message", "x")]
        );
    }

    #[test]
    fn an_endless_line_is_refused() {
        let mut p = Parser::default();
        assert_eq!(p.push(&vec![b'a'; MAX_LINE + 1]), Err(LineTooLong));
    }
}
