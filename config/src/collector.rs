//! The collector's file: `[collector]`, `[[token]]`, `[alerting]`,
//! `[slo.NAME]`, `[[notifier]]`, `[http]`, `[incidents]`, `[comms]`,
//! `[chat]`.

use std::path::PathBuf;
use std::time::Duration;

use serde::Deserialize;
use toml::Spanned;

use crate::document::{Document, decode, decode_array, sub_entries, unknown_section};
use crate::error::{ConfigErrors, Sink};
use crate::model::{
    AcuteConfig, AlertingConfig, BurnRateRule, CollectorConfig, Role, Secret, Severity, TokenEntry,
};
use crate::notifier::{RawNotifier, notifier};
use crate::notifier_names::name_notifiers;
use crate::overrides::Overrides;
use crate::slo::parse_slo;
use crate::values;

pub(crate) const SECTIONS: &[&str] = &[
    "collector",
    "token",
    "alerting",
    "slo",
    "notifier",
    "http",
    "incidents",
    "comms",
    "chat",
];

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawCollector {
    listen: Option<Spanned<String>>,
    data_dir: Option<PathBuf>,
    public_url: Option<Spanned<String>>,
    no_data_after: Option<Spanned<String>>,
    evaluation_interval: Option<Spanned<String>>,
    flags: Option<PathBuf>,
    mitigations: Option<PathBuf>,
    oncall: Option<PathBuf>,
    paging: Option<PathBuf>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawToken {
    name: Spanned<String>,
    role: Spanned<String>,
    /// Hex SHA-256 of the token; `liveops token new` prints both.
    sha256: Spanned<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAlerting {
    min_events: Option<Spanned<f64>>,
    burn_rate: Option<Vec<RawBurn>>,
    acute: Option<RawAcute>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawBurn {
    severity: Spanned<String>,
    long: Spanned<String>,
    short: Spanned<String>,
    factor: Spanned<f64>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAcute {
    window: Option<Spanned<String>>,
    min_events: Option<f64>,
    ratio: Option<Spanned<f64>>,
}

/// Keys a flag or the environment may set, besides `config`.
pub(crate) const OVERRIDABLE: &[&str] = &["listen", "data_dir", "agent_token"];

pub(crate) fn parse(
    file: &str,
    text: &str,
    overrides: &Overrides,
) -> Result<CollectorConfig, ConfigErrors> {
    let mut sink = Sink::with_overrides(file, text, overrides);
    let mut cfg = defaults();
    let mut acute_overrides = Vec::new();
    // `[collector]` is checked after the overrides are laid over it (see
    // the agent's `parse`), also when the file lacks it or does not parse.
    let doc = Document::parse(text, &mut sink);
    let mut collector = RawCollector::default();
    let mut incident_slos = None;
    let mut comms_email = None;
    for entry in doc.iter().flat_map(Document::entries) {
        match entry.name.as_str() {
            "collector" => {
                if let Some(raw) = decode::<RawCollector>(entry.value, &mut sink) {
                    collector = raw;
                }
            }
            "token" => {
                for (_, raw) in decode_array::<RawToken>(entry, &mut sink) {
                    if let Some(t) = token(raw, &mut sink) {
                        cfg.tokens.push(t);
                    }
                }
            }
            "alerting" => {
                if let Some(raw) = decode::<RawAlerting>(entry.value, &mut sink) {
                    apply_alerting(raw, &mut cfg.alerting, &mut sink);
                }
            }
            "slo" => {
                for slo_entry in sub_entries(&entry, &mut sink) {
                    if let Some(parsed) = parse_slo(slo_entry, &mut sink) {
                        acute_overrides.push(parsed.1);
                        cfg.slos.push(parsed.0);
                    }
                }
            }
            "notifier" => {
                let mut named = Vec::new();
                for (span, raw) in decode_array::<RawNotifier>(entry, &mut sink) {
                    let name = raw.name.clone();
                    if let Some(n) = notifier(raw, span, &mut sink) {
                        named.push((name, n));
                    }
                }
                cfg.notifiers = name_notifiers(named, &mut sink);
            }
            "http" => crate::http::apply(entry.value, &mut cfg.http_server, &mut sink),
            "comms" => comms_email = crate::comms::apply(entry.value, &mut cfg.comms, &mut sink),
            "incidents" => {
                incident_slos = Some(crate::incidents::apply(
                    entry.value,
                    &mut cfg.incidents,
                    &mut sink,
                ));
            }
            "chat" => crate::chat::apply(entry.value, &mut cfg.chat, &mut sink),
            _ => unknown_section(&entry, SECTIONS, &mut sink),
        }
    }
    // `[alerting.acute]` may come after the SLOs: merge once all is read.
    for (slo, o) in cfg.slos.iter_mut().zip(acute_overrides) {
        slo.acute = o.map(|o| AcuteConfig {
            window: o.window.unwrap_or(cfg.alerting.acute.window),
            min_events: o.min_events.unwrap_or(cfg.alerting.acute.min_events),
            ratio: o.ratio.unwrap_or(cfg.alerting.acute.ratio),
        });
    }
    if let Some(name) = &comms_email {
        crate::comms::check_email(name, &cfg.notifiers, &mut sink);
    }
    if let Some(refs) = incident_slos {
        crate::incidents::check_slos(refs, &cfg.slos, &mut sink);
    }
    if doc.as_ref().is_some_and(|d| !d.has("slo")) {
        sink.at(0..0, "no SLOs: add at least one [slo.NAME] table (the shipped config/collector.toml has the defaults)");
    }
    if let Some(a) = overrides.get("listen") {
        collector.listen = Some(a);
    }
    if let Some(d) = overrides.path("data_dir") {
        collector.data_dir = Some(d);
    }
    apply_collector(collector, &mut cfg, &mut sink);
    if let Some(t) = overrides.get("agent_token") {
        if t.get_ref().trim().is_empty() {
            sink.at(t.span(), "agent token must not be empty");
        } else {
            cfg.agent_token = Some(Secret(t.into_inner().trim().to_owned()));
        }
    }
    for (span, key) in overrides.unknown(OVERRIDABLE) {
        sink.at(span, format!("`{key}` is not a collector setting"));
    }
    sink.finish(cfg)
}

fn apply_collector(raw: RawCollector, cfg: &mut CollectorConfig, sink: &mut Sink<'_>) {
    if let Some(a) = raw
        .listen
        .as_ref()
        .and_then(|a| values::socket_addr(a, "listen", sink))
    {
        cfg.listen = a;
    }
    if let Some(d) = raw.data_dir {
        cfg.data_dir = d;
    }
    if let Some(f) = raw.flags {
        cfg.flags_file = Some(f);
    }
    if let Some(m) = raw.mitigations {
        cfg.mitigations_file = Some(m);
    }
    if let Some(o) = raw.oncall {
        cfg.oncall_file = Some(o);
    }
    if let Some(p) = raw.paging {
        cfg.paging_file = Some(p);
    }
    if let Some(u) = raw
        .public_url
        .as_ref()
        .and_then(|u| values::http_url(u, "public_url", sink))
    {
        cfg.public_url = Some(u);
    }
    if let Some(d) = raw
        .no_data_after
        .as_ref()
        .and_then(|d| values::duration(d, "no_data_after", sink))
    {
        cfg.no_data_after = d;
    }
    if let Some(d) = raw
        .evaluation_interval
        .as_ref()
        .and_then(|d| values::duration(d, "evaluation_interval", sink))
    {
        cfg.evaluation_interval = d;
    }
}

fn token(raw: RawToken, sink: &mut Sink<'_>) -> Option<TokenEntry> {
    let role = Role::parse(raw.role.get_ref());
    if role.is_none() {
        sink.at(
            raw.role.span(),
            format!(
                "unknown role `{}`, expected `agent`, `viewer`, `responder`, `comms` or `admin`",
                raw.role.get_ref()
            ),
        );
    }
    let mut sha = [0u8; 32];
    let hash_ok = hex::decode_to_slice(raw.sha256.get_ref().trim(), &mut sha).is_ok();
    if !hash_ok {
        sink.at(raw.sha256.span(), "sha256 must be 64 hex digits: the SHA-256 of the token (`liveops token new` prints it)");
    }
    let name_ok = values::name(raw.name.get_ref(), raw.name.span(), "token name", sink);
    (hash_ok && name_ok).then_some(TokenEntry {
        name: raw.name.into_inner(),
        role: role?,
        sha256: sha,
    })
}

fn apply_alerting(raw: RawAlerting, a: &mut AlertingConfig, sink: &mut Sink<'_>) {
    if let Some(m) = raw.min_events {
        if *m.get_ref() < 0.0 {
            sink.at(m.span(), "min_events must not be negative");
        }
        a.min_events = *m.get_ref();
    }
    if let Some(rules) = raw.burn_rate {
        a.burn_rates = rules
            .into_iter()
            .filter_map(|r| burn_rule(r, sink))
            .collect();
    }
    if let Some(acute) = raw.acute {
        if let Some(w) = acute
            .window
            .as_ref()
            .and_then(|w| values::duration(w, "acute window", sink))
        {
            if w > Duration::from_secs(120) {
                sink.at(
                    acute.window.as_ref().map(|w| w.span()).unwrap_or(0..0),
                    "acute window must be at most 2m (longer windows are the burn-rate rules' job)",
                );
            }
            a.acute.window = w;
        }
        if let Some(m) = acute.min_events {
            a.acute.min_events = m;
        }
        if let Some(r) = acute.ratio {
            if !(*r.get_ref() > 0.0 && *r.get_ref() <= 1.0) {
                sink.at(
                    r.span(),
                    "acute ratio is a failure share in (0, 1], e.g. 0.5",
                );
            }
            a.acute.ratio = *r.get_ref();
        }
    }
}

fn burn_rule(r: RawBurn, sink: &mut Sink<'_>) -> Option<BurnRateRule> {
    let severity = match r.severity.get_ref().as_str() {
        "page" => Some(Severity::Page),
        "ticket" => Some(Severity::Ticket),
        other => {
            sink.at(
                r.severity.span(),
                format!("unknown severity `{other}`, expected `page` or `ticket`"),
            );
            None
        }
    };
    let long = values::duration(&r.long, "long window", sink);
    let short = values::duration(&r.short, "short window", sink);
    if let (Some(l), Some(s)) = (long, short)
        && s >= l
    {
        sink.at(
            r.short.span(),
            "the short window must be shorter than the long window",
        );
    }
    if r.factor.get_ref().is_nan() || *r.factor.get_ref() <= 0.0 {
        sink.at(r.factor.span(), "factor must be above 0");
    }
    Some(BurnRateRule {
        severity: severity?,
        long: long?,
        short: short?,
        factor: *r.factor.get_ref(),
    })
}

/// Defaults for everything but SLOs, tokens and notifiers, which a file names.
pub fn defaults() -> CollectorConfig {
    let listen = "127.0.0.1:9470".parse().expect("literal address");
    CollectorConfig {
        listen,
        data_dir: PathBuf::from("liveops-collector-data"),
        public_url: None,
        agent_token: None,
        no_data_after: Duration::from_secs(5),
        evaluation_interval: Duration::from_secs(1),
        tokens: Vec::new(),
        alerting: AlertingConfig {
            // Google SRE workbook, "Alerting on SLOs", multiwindow multi-burn-rate.
            burn_rates: vec![
                rule(Severity::Page, 3_600, 300, 14.4),
                rule(Severity::Page, 6 * 3_600, 1_800, 6.0),
                rule(Severity::Ticket, 3 * 86_400, 6 * 3_600, 1.0),
            ],
            min_events: 100.0,
            acute: AcuteConfig {
                window: Duration::from_secs(3),
                min_events: 20.0,
                ratio: 0.5,
            },
        },
        slos: Vec::new(),
        notifiers: Vec::new(),
        flags_file: None,
        mitigations_file: None,
        oncall_file: None,
        paging_file: None,
        // Agents keep one connection each, plus operators and scrapers.
        http_server: crate::http::defaults(50_000),
        incidents: crate::incidents::defaults(),
        comms: crate::comms::defaults(),
        chat: Default::default(),
    }
}

fn rule(severity: Severity, long: u64, short: u64, factor: f64) -> BurnRateRule {
    BurnRateRule {
        severity,
        long: Duration::from_secs(long),
        short: Duration::from_secs(short),
        factor,
    }
}
