//! `/status/feed.atom`: every public update of the last 30 days, newest
//! first (RFC 4287), so players and community tools can follow along.

use std::fmt::Write;

use super::html::esc;
use super::view::StatusView;

pub fn feed(v: &StatusView, base: &str) -> String {
    let mut entries: Vec<_> = v
        .open
        .iter()
        .chain(&v.past)
        .flat_map(|i| i.updates.iter().map(move |u| (i, u)))
        .collect();
    entries.sort_by_key(|e| std::cmp::Reverse(e.1.at_ms));
    let updated = entries
        .first()
        .map_or(v.generated_at.as_str(), |(_, u)| u.at.as_str());
    let mut out = format!(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<feed xmlns=\"http://www.w3.org/2005/Atom\">\n\
<title>{} status</title>\n<id>{}/status</id>\n<link href=\"{}/status\"/>\n<link rel=\"self\" href=\"{}/status/feed.atom\"/>\n<updated>{}</updated>\n",
        esc(&v.game),
        esc(base),
        esc(base),
        esc(base),
        esc(updated)
    );
    for (i, u) in entries {
        let _ = write!(
            out,
            "<entry>\n<title>{}: {}</title>\n<id>{}/status/incidents/{}#{}</id>\n<link href=\"{}/status/incidents/{}\"/>\n<updated>{}</updated>\n<author><name>{}</name></author>\n<content type=\"text\">{}</content>\n</entry>\n",
            esc(&i.title),
            esc(&u.title),
            esc(base),
            i.id,
            u.at_ms,
            esc(base),
            i.id,
            esc(&u.at),
            esc(&v.game),
            esc(&u.body)
        );
    }
    out.push_str("</feed>\n");
    out
}
