//! Telemetry: the tracing subscriber (text or JSON) and the metrics registry
//! served at `/metrics` in the Prometheus text exposition format.
//!
//! Metric names are declared once in [`METRICS`] with their help text and
//! type; label sets are small and bounded (route templates, not paths;
//! source and channel ids from the config).

use crate::config::LogFormat;
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Mutex;
use tracing_subscriber::EnvFilter;

/// Install the global tracing subscriber. `RUST_LOG` overrides `filter`.
pub fn init_tracing(format: LogFormat, filter: &str) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(filter));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    // A second init (tests start several daemons) is not an error.
    let _ = match format {
        LogFormat::Json => builder
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .try_init(),
        LogFormat::Text => builder.try_init(),
    };
}

/// Declared metrics: name, type, help.
pub const METRICS: &[(&str, &str, &str)] = &[
    (
        "musharaka_polls_total",
        "counter",
        "Upstream polls by source and outcome (ok, not_modified, error).",
    ),
    (
        "musharaka_poll_errors_total",
        "counter",
        "Upstream poll errors by source and class (retry, permanent).",
    ),
    (
        "musharaka_upstream_entries_total",
        "counter",
        "Upstream entries by source and outcome (inserted, updated, unchanged, skipped).",
    ),
    (
        "musharaka_news_items",
        "gauge",
        "News items in the store by state (live, embargoed, retracted).",
    ),
    (
        "musharaka_news_changes_total",
        "counter",
        "Staff news changes by action (create, update, retract).",
    ),
    (
        "musharaka_renders_total",
        "counter",
        "Channel renders by channel.",
    ),
    (
        "musharaka_render_items",
        "gauge",
        "Items in a channel's current document, by channel.",
    ),
    (
        "musharaka_static_writes_total",
        "counter",
        "Static feed files written, by outcome.",
    ),
    (
        "musharaka_http_requests_total",
        "counter",
        "HTTP requests by route template, method and status.",
    ),
    (
        "musharaka_source_consecutive_failures",
        "gauge",
        "Consecutive poll failures by source.",
    ),
    (
        "musharaka_outbox_open_jobs",
        "gauge",
        "Outbox jobs still to deliver, by account.",
    ),
    (
        "musharaka_deliveries_total",
        "counter",
        "Finished deliveries by account and outcome (posted, adopted, skipped, deleted, dead).",
    ),
    (
        "musharaka_delivery_errors_total",
        "counter",
        "Failed platform calls by account and class.",
    ),
    (
        "musharaka_account_needs_reauth",
        "gauge",
        "1 when an account is parked until staff re-authorize it.",
    ),
];

type Key = (&'static str, Vec<(&'static str, String)>);

/// A small, lock-protected metrics registry.
#[derive(Debug, Default)]
pub struct Metrics {
    values: Mutex<BTreeMap<Key, f64>>,
}

impl Metrics {
    /// A new, empty registry.
    pub fn new() -> Self {
        Self::default()
    }

    fn key(name: &'static str, labels: &[(&'static str, &str)]) -> Key {
        (
            name,
            labels.iter().map(|(k, v)| (*k, (*v).to_string())).collect(),
        )
    }

    /// Add one to a counter.
    pub fn inc(&self, name: &'static str, labels: &[(&'static str, &str)]) {
        self.add(name, labels, 1.0);
    }

    /// Add `v` to a counter.
    pub fn add(&self, name: &'static str, labels: &[(&'static str, &str)], v: f64) {
        let mut m = self.values.lock().unwrap_or_else(|p| p.into_inner());
        *m.entry(Self::key(name, labels)).or_insert(0.0) += v;
    }

    /// Set a gauge.
    pub fn set(&self, name: &'static str, labels: &[(&'static str, &str)], v: f64) {
        let mut m = self.values.lock().unwrap_or_else(|p| p.into_inner());
        m.insert(Self::key(name, labels), v);
    }

    /// Current value, for tests.
    pub fn get(&self, name: &'static str, labels: &[(&'static str, &str)]) -> f64 {
        let m = self.values.lock().unwrap_or_else(|p| p.into_inner());
        m.get(&Self::key(name, labels)).copied().unwrap_or(0.0)
    }

    /// The Prometheus text exposition (version 0.0.4).
    pub fn render(&self) -> String {
        let m = self.values.lock().unwrap_or_else(|p| p.into_inner());
        let mut out = String::new();
        for (name, kind, help) in METRICS {
            let _ = writeln!(out, "# HELP {name} {help}");
            let _ = writeln!(out, "# TYPE {name} {kind}");
            for ((n, labels), v) in m.range((*name, Vec::new())..) {
                if n != name {
                    break;
                }
                out.push_str(name);
                if !labels.is_empty() {
                    out.push('{');
                    for (i, (k, val)) in labels.iter().enumerate() {
                        if i > 0 {
                            out.push(',');
                        }
                        let esc = val
                            .replace('\\', "\\\\")
                            .replace('"', "\\\"")
                            .replace('\n', "\\n");
                        let _ = write!(out, "{k}=\"{esc}\"");
                    }
                    out.push('}');
                }
                let _ = writeln!(out, " {v}");
            }
        }
        out
    }
}
