//! The runbooks every shipped SLO links to, served at `/runbooks/{name}` so
//! that the link in a page works wherever the collector runs. The Markdown
//! sources live in the repository's `runbooks/` folder.

use axum::extract::Path;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;

pub const RUNBOOKS: &[(&str, &str)] = &[
    ("uptime", include_str!("../../runbooks/uptime.md")),
    ("error-rate", include_str!("../../runbooks/error-rate.md")),
    (
        "tick-latency",
        include_str!("../../runbooks/tick-latency.md"),
    ),
    (
        "payment-success",
        include_str!("../../runbooks/payment-success.md"),
    ),
    (
        "auth-latency",
        include_str!("../../runbooks/auth-latency.md"),
    ),
    (
        "tick-backlog",
        include_str!("../../runbooks/tick-backlog.md"),
    ),
    ("audit", include_str!("../../runbooks/audit.md")),
    ("notifier", include_str!("../../runbooks/notifier.md")),
];

pub async fn serve(Path(name): Path<String>) -> impl IntoResponse {
    match RUNBOOKS.iter().find(|(n, _)| *n == name) {
        Some((_, text)) => (
            StatusCode::OK,
            [(header::CONTENT_TYPE, "text/markdown; charset=utf-8")],
            *text,
        ),
        None => (
            StatusCode::NOT_FOUND,
            [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
            "no such runbook\n",
        ),
    }
}
