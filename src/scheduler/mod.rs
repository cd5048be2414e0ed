//! When things happen that no request triggers.
//!
//! Owns the render loop: it re-renders every channel when news changes (a
//! [`Notify`] from the API and the poller) and exactly when the next embargo
//! falls due (a timer on the earliest future `published_at`), so an embargoed
//! item appears at its time, not a poll interval later. Upstream polls keep
//! their own per-source schedule in `sources::upstream::poll`.

use crate::config::Config;
use crate::render::{self, FeedCache};
use crate::store::{DynStore, StoreError};
use crate::telemetry::Metrics;
use chrono::{DateTime, Utc};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{Notify, watch};
use tokio_util::sync::CancellationToken;
use tracing::Instrument;

/// Re-renders the channels of the configuration.
#[derive(Debug, Clone)]
pub struct Renderer {
    /// Configuration (channels, output directory).
    pub config: Arc<Config>,
    /// Where the news is.
    pub store: DynStore,
    /// Where documents go.
    pub cache: Arc<FeedCache>,
    /// Metrics.
    pub metrics: Arc<Metrics>,
    /// Bumped after every completed render pass (tests and readiness wait on it).
    pub generation: Arc<watch::Sender<u64>>,
}

impl Renderer {
    /// Render every channel once, update the cache and static files, and
    /// return the next embargo deadline.
    pub async fn render_all(&self) -> Result<Option<DateTime<Utc>>, StoreError> {
        let items = self.store.all_news().await?;
        let now = Utc::now();
        let (mut live, mut embargoed, mut retracted) = (0u32, 0u32, 0u32);
        for i in &items {
            if i.retracted_at.is_some() {
                retracted += 1;
            } else if i.published_at > now {
                embargoed += 1;
            } else {
                live += 1;
            }
        }
        self.metrics
            .set("musharaka_news_items", &[("state", "live")], live.into());
        self.metrics.set(
            "musharaka_news_items",
            &[("state", "embargoed")],
            embargoed.into(),
        );
        self.metrics.set(
            "musharaka_news_items",
            &[("state", "retracted")],
            retracted.into(),
        );
        let items = Arc::new(items);
        for channel in self.config.channels.values() {
            let previous = self.cache.channel(&channel.id);
            // Rendering and compression are CPU work: keep them off the async workers.
            let (ch, it) = (channel.clone(), items.clone());
            let result = tokio::task::spawn_blocking(move || {
                render::render_channel(&ch, &it, now, previous.as_deref())
            })
            .await;
            let rendered = match result {
                Ok(Ok(r)) => r,
                Err(e) => {
                    tracing::error!(channel = %channel.id, error = %e, "render task failed; keeping the previous documents");
                    continue;
                }
                Ok(Err(e)) => {
                    tracing::error!(channel = %channel.id, error = %e, "render failed; keeping the previous documents");
                    continue;
                }
            };
            self.metrics.set(
                "musharaka_render_items",
                &[("channel", channel.id.as_str())],
                rendered.items as f64,
            );
            if let Some(dir) = &self.config.output_dir {
                match render::write_static(dir, &rendered).await {
                    Ok(n) if n > 0 => {
                        self.metrics.add(
                            "musharaka_static_writes_total",
                            &[("outcome", "ok")],
                            n as f64,
                        );
                    }
                    Ok(_) => {}
                    Err(e) => {
                        self.metrics
                            .inc("musharaka_static_writes_total", &[("outcome", "error")]);
                        tracing::error!(channel = %channel.id, dir = %dir.display(), error = %e, "writing static feed files failed");
                    }
                }
            }
            if self.cache.replace(rendered) {
                self.metrics.inc(
                    "musharaka_renders_total",
                    &[("channel", channel.id.as_str())],
                );
                tracing::debug!(channel = %channel.id, "channel changed");
            }
        }
        self.generation.send_modify(|g| *g += 1);
        Ok(render::next_due(&items, now))
    }

    /// Render on every change and at every embargo deadline until `token` is cancelled.
    pub async fn run(self, changed: Arc<Notify>, token: CancellationToken) {
        loop {
            let pass = self.render_all().instrument(tracing::info_span!("render"));
            let next = match pass.await {
                Ok(next) => next,
                Err(e) => {
                    tracing::error!(error = %e, "render pass failed; retrying in 5s");
                    Some(Utc::now() + chrono::Duration::seconds(5))
                }
            };
            let wait = next.map(|t| (t - Utc::now()).to_std().unwrap_or(Duration::ZERO));
            tokio::select! {
                _ = token.cancelled() => break,
                _ = changed.notified() => {}
                _ = async {
                    match wait {
                        Some(d) => tokio::time::sleep(d).await,
                        None => std::future::pending::<()>().await,
                    }
                } => {}
            }
        }
        tracing::debug!("render loop stopped");
    }
}
