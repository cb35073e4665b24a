//! How `liveops incident list|show` print an incident: one line each, or
//! the whole of one with its impact, response times and timeline.

use serde_json::Value;

fn severity(i: &Value) -> &str {
    i["severity"]
        .as_str()
        .or_else(|| i["severity"]["current"].as_str())
        .unwrap_or("?")
}

/// `INC-3 SEV2 investigating  Payments failing in eu-1  [eu-1, eu-2]`
pub fn line(i: &Value) -> String {
    let worlds: Vec<&str> = i["worlds"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect();
    format!(
        "{} {} {:<13} {}{}",
        i["id"].as_str().unwrap_or("?"),
        severity(i),
        i["state"].as_str().unwrap_or("?"),
        i["title"].as_str().unwrap_or(""),
        if worlds.is_empty() {
            String::new()
        } else {
            format!("  [{}]", worlds.join(", "))
        },
    )
}

/// The player impact as last measured, and the response times so far.
fn impact(i: &Value) -> String {
    let mut out = String::new();
    let r = &i["impact"];
    if let Some(now) = r.get("now") {
        let list = |v: &Value| {
            let names: Vec<&str> = v
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
                .collect();
            if names.is_empty() {
                "none".to_owned()
            } else {
                names.join(", ")
            }
        };
        let pct = |v: &Value| format!("{:.1} %", v.as_f64().unwrap_or(0.0) * 100.0);
        out.push_str(&format!(
            "impact: affected {} ({}); mitigated {}; {:.0} players ({} of online); payments failing {:.1}/min ({}){}\n",
            list(&now["affected"]),
            list(&now["systems"]),
            list(&now["mitigated"]),
            now["players"].as_f64().unwrap_or(0.0),
            pct(&now["players_share"]),
            now["payments_failing_per_min"].as_f64().unwrap_or(0.0),
            pct(&now["payments_share"]),
            now.get("logins_failing")
                .map(|l| format!("; logins failing {}", pct(l)))
                .unwrap_or_default(),
        ));
        out.push_str(&format!(
            "peak: {:.0} players ({} of online), {} world(s); payments failed {:.0}\n",
            r["peak_players"].as_f64().unwrap_or(0.0),
            pct(&r["peak_players_share"]),
            r["peak_worlds"],
            r["payments_failed"].as_f64().unwrap_or(0.0),
        ));
    }
    let times: Vec<String> = ["detect", "acknowledge", "mitigate", "resolve"]
        .iter()
        .filter_map(|p| {
            let s = i["response"][format!("{p}_seconds")].as_f64()?;
            Some(format!(
                "{p} {}",
                liveops_protocol::time::human_ms(s * 1000.0)
            ))
        })
        .collect();
    if !times.is_empty() {
        out.push_str(&format!("response: {}\n", times.join(", ")));
    }
    out
}

pub fn details(i: &Value) -> String {
    let mut out = format!("{}\n", line(i));
    if let Some(roles) = i["roles"].as_object().filter(|r| !r.is_empty()) {
        let roles: Vec<String> = roles
            .iter()
            .map(|(r, p)| format!("{r} {}", p.as_str().unwrap_or("?")))
            .collect();
        out.push_str(&format!("people: {}\n", roles.join(", ")));
    }
    out.push_str(&impact(i));
    let time = |v: &Value| {
        v.as_u64()
            .map_or("?".into(), liveops_protocol::time::rfc3339)
    };
    for e in i["timeline"].as_array().into_iter().flatten() {
        let what = match e["kind"].as_str().unwrap_or("?") {
            "state" => format!(
                "{} → {}",
                e["from"].as_str().unwrap_or("?"),
                e["to"].as_str().unwrap_or("?")
            ),
            "severity" => format!(
                "severity {} → {}",
                e["from"].as_str().unwrap_or("?"),
                e["to"].as_str().unwrap_or("?")
            ),
            "assigned" => format!(
                "{} is {}",
                e["person"].as_str().unwrap_or("?"),
                e["role"].as_str().unwrap_or("?")
            ),
            "page" => format!(
                "page {} for {}",
                e["page"],
                e["world"].as_str().unwrap_or("?")
            ),
            "note" => e["note"].as_str().unwrap_or("note").to_owned(),
            other => other.to_owned(),
        };
        let text = e["text"].as_str().unwrap_or("");
        out.push_str(&format!(
            "  {}  {:<10} {}{}\n",
            time(&e["at_ms"]),
            e["by"].as_str().unwrap_or("?"),
            what,
            if text.is_empty() {
                String::new()
            } else {
                format!(": {text}")
            }
        ));
    }
    out
}
