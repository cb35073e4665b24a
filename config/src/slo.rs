//! `[slo.NAME]` tables: what each SLO measures, its objective, and who owns it.
//!
//! An SLO without an owner or a runbook is refused: every page it causes
//! must say who to call and what to do.

use std::collections::BTreeMap;
use std::ops::Range;

use serde::Deserialize;
use toml::Spanned;

use crate::document::{Entry, decode};
use crate::error::Sink;
use crate::model::{GoodEvents, Selector, Slo, SloKind};
use crate::values;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSlo {
    kind: Spanned<String>,
    description: Option<Spanned<String>>,
    /// Percent, as people write it: 99.9.
    objective: Spanned<f64>,
    period: Option<Spanned<String>>,
    owner: Option<Spanned<String>>,
    runbook: Option<Spanned<String>>,
    // ratio
    total: Option<RawSelector>,
    good: Option<RawSelector>,
    bad: Option<RawSelector>,
    /// `true` (the `[alerting.acute]` settings) or a table overriding some
    /// of them, for an SLO whose events are rarer or denser than most.
    acute: Option<toml::Value>,
    /// A `TickBacklog` page on this SLO's owner: see [`RawBacklog`].
    backlog: Option<RawBacklog>,
    // latency
    metric: Option<Spanned<String>>,
    tags: Option<BTreeMap<String, String>>,
    threshold_ms: Option<Spanned<f64>>,
}

/// An SLO's acute settings before they are merged with `[alerting.acute]`,
/// which may come later in the file.
pub(crate) struct AcuteOverride {
    pub window: Option<std::time::Duration>,
    pub min_events: Option<f64>,
    pub ratio: Option<f64>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawBacklog {
    /// Default `tick.backlog`.
    metric: Option<String>,
    threshold: Spanned<f64>,
    /// Default `30s`.
    window: Option<Spanned<String>>,
    runbook: Option<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSelector {
    metric: String,
    #[serde(default)]
    tags: BTreeMap<String, String>,
}

pub(crate) fn parse_slo(
    entry: Entry<'_>,
    sink: &mut Sink<'_>,
) -> Option<(Slo, Option<AcuteOverride>)> {
    let span = entry.value.span();
    let key_span = entry.key_span.clone();
    let raw: RawSlo = decode(entry.value, sink)?;
    let name_ok = values::name(&entry.name, key_span, "SLO name", sink);
    let objective = *raw.objective.get_ref();
    if !(objective > 0.0 && objective < 100.0) {
        sink.at(
            raw.objective.span(),
            format!(
                "objective must be a percentage between 0 and 100 (exclusive), got {objective}"
            ),
        );
    }
    let period = match &raw.period {
        Some(p) => values::duration(p, "period", sink),
        None => Some(std::time::Duration::from_secs(30 * 86_400)),
    };
    let owner = values::required(&raw.owner, "owner", span.clone(), sink);
    let runbook = values::required(&raw.runbook, "runbook", span.clone(), sink);
    // A runbook is a full URL, or a path on the collector (`/runbooks/uptime`)
    // that notifications turn into a link under `public_url`.
    if let Some(r) = &raw.runbook
        && !r.get_ref().trim().is_empty()
        && !r.get_ref().starts_with('/')
    {
        values::http_url(r, "runbook", sink);
    }
    let kind = parse_kind(&raw, span.clone(), sink);
    let acute = kind
        .as_ref()
        .and_then(|k| acute_override(&raw, span.clone(), k, sink));
    let backlog = raw.backlog.as_ref().and_then(|b| parse_backlog(b, sink));
    let description = raw.description.map(|d| d.into_inner()).unwrap_or_default();
    let (period, owner, runbook, kind) = (period?, owner?, runbook?, kind?);
    name_ok.then(|| {
        let slo = Slo {
            name: entry.name,
            description,
            objective: objective / 100.0,
            period,
            owner,
            runbook,
            kind,
            acute: None,
            backlog,
        };
        (slo, acute)
    })
}

fn parse_backlog(b: &RawBacklog, sink: &mut Sink<'_>) -> Option<crate::model::BacklogAlert> {
    let threshold = *b.threshold.get_ref();
    if !(threshold.is_finite() && threshold >= 0.0) {
        sink.at(
            b.threshold.span(),
            format!("backlog threshold must be a number of at least 0, got {threshold}"),
        );
        return None;
    }
    let window = match &b.window {
        Some(w) => values::duration(w, "backlog window", sink)?,
        None => std::time::Duration::from_secs(30),
    };
    if let Some(r) = &b.runbook
        && !r.get_ref().starts_with('/')
    {
        values::http_url(r, "backlog runbook", sink)?;
    }
    Some(crate::model::BacklogAlert {
        metric: b
            .metric
            .clone()
            .unwrap_or_else(|| liveops_protocol::signal::TICK_BACKLOG.to_owned()),
        threshold,
        window,
        runbook: b.runbook.as_ref().map(|r| r.get_ref().clone()),
    })
}

fn acute_override(
    raw: &RawSlo,
    span: Range<usize>,
    kind: &SloKind,
    sink: &mut Sink<'_>,
) -> Option<AcuteOverride> {
    let mut o = AcuteOverride {
        window: None,
        min_events: None,
        ratio: None,
    };
    match raw.acute.as_ref()? {
        toml::Value::Boolean(false) => return None,
        toml::Value::Boolean(true) => {}
        toml::Value::Table(t) => {
            for (key, value) in t {
                let ok = match (key.as_str(), value) {
                    ("window", toml::Value::String(w)) => match humantime::parse_duration(w) {
                        Ok(d) if !d.is_zero() => {
                            o.window = Some(d);
                            true
                        }
                        _ => false,
                    },
                    ("min_events", v) => {
                        o.min_events = v.as_float().or(v.as_integer().map(|i| i as f64));
                        o.min_events.is_some_and(|m| m >= 0.0)
                    }
                    ("ratio", v) => {
                        o.ratio = v.as_float().or(v.as_integer().map(|i| i as f64));
                        o.ratio.is_some_and(|r| r > 0.0 && r <= 1.0)
                    }
                    _ => false,
                };
                if !ok {
                    sink.at(span.clone(), format!("acute.{key} = {value} is not valid: expected window = \"6s\", min_events >= 0, ratio in (0, 1]"));
                }
            }
        }
        other => {
            sink.at(span, format!("acute = {other} is not valid: expected true, false or a table like {{ window = \"6s\", min_events = 8 }}"));
            return None;
        }
    }
    if matches!(kind, SloKind::Uptime) {
        sink.at(
            span,
            "`acute` does not apply to an uptime SLO: WorldDown and TickStalled already page at once",
        );
        return None;
    }
    Some(o)
}

fn parse_kind(raw: &RawSlo, span: Range<usize>, sink: &mut Sink<'_>) -> Option<SloKind> {
    let kind_span = raw.kind.span();
    let stray = |sink: &mut Sink<'_>, fields: &[(&str, bool)], kind: &str| {
        for (field, present) in fields {
            if *present {
                sink.at(
                    span.clone(),
                    format!("`{field}` does not apply to a {kind} SLO"),
                );
            }
        }
    };
    match raw.kind.get_ref().as_str() {
        "uptime" => {
            stray(
                sink,
                &[
                    ("total", raw.total.is_some()),
                    ("good", raw.good.is_some()),
                    ("bad", raw.bad.is_some()),
                    ("metric", raw.metric.is_some()),
                    ("threshold_ms", raw.threshold_ms.is_some()),
                ],
                "uptime",
            );
            Some(SloKind::Uptime)
        }
        "ratio" => {
            stray(
                sink,
                &[
                    ("metric", raw.metric.is_some()),
                    ("threshold_ms", raw.threshold_ms.is_some()),
                ],
                "ratio",
            );
            let total = raw.total.as_ref().map(|t| Selector {
                metric: t.metric.clone(),
                tags: t.tags.clone(),
            });
            let good = match (&raw.good, &raw.bad) {
                (Some(g), None) => Some(GoodEvents::Good(Selector {
                    metric: g.metric.clone(),
                    tags: g.tags.clone(),
                })),
                (None, Some(b)) => Some(GoodEvents::Bad(Selector {
                    metric: b.metric.clone(),
                    tags: b.tags.clone(),
                })),
                (Some(_), Some(_)) => {
                    sink.at(span.clone(), "a ratio SLO takes `good` or `bad`, not both");
                    None
                }
                (None, None) => {
                    sink.at(span.clone(), "a ratio SLO needs `good` or `bad` events, e.g. bad = { metric = \"request\", tags = { status = \"error\" } }");
                    None
                }
            };
            if total.is_none() {
                sink.at(
                    span.clone(),
                    "a ratio SLO needs `total`, e.g. total = { metric = \"request\" }",
                );
            }
            Some(SloKind::Ratio {
                total: total?,
                good: good?,
            })
        }
        "latency" => {
            stray(
                sink,
                &[
                    ("total", raw.total.is_some()),
                    ("good", raw.good.is_some()),
                    ("bad", raw.bad.is_some()),
                ],
                "latency",
            );
            let Some(metric) = &raw.metric else {
                sink.at(
                    span,
                    "a latency SLO needs `metric`, e.g. metric = \"tick.duration\"",
                );
                return None;
            };
            let Some(threshold) = &raw.threshold_ms else {
                sink.at(span, "a latency SLO needs `threshold_ms`");
                return None;
            };
            let t = *threshold.get_ref();
            if liveops_protocol::histogram::bound_index(t).is_none() {
                let bounds: Vec<String> = liveops_protocol::histogram::BUCKET_BOUNDS_MS
                    .iter()
                    .map(|b| b.to_string())
                    .collect();
                sink.at(
                    threshold.span(),
                    format!("threshold_ms {t} is not a histogram bucket bound, so the SLI could not be exact; use one of {}", bounds.join(", ")),
                );
                return None;
            }
            let selector = Selector {
                metric: metric.get_ref().clone(),
                tags: raw.tags.clone().unwrap_or_default(),
            };
            Some(SloKind::Latency {
                metric: selector,
                threshold_ms: t,
            })
        }
        other => {
            sink.at(
                kind_span,
                format!("unknown SLO kind `{other}`, expected `uptime`, `ratio` or `latency`"),
            );
            None
        }
    }
}
