//! Wiring: opens the store, resolves secrets, renders the feeds once, starts
//! the poller, the render loop and the HTTP server, and shuts them down in
//! order: stop accepting → finish in-flight requests and jobs (within
//! `http.shutdown_grace`) → flush the store.

use crate::config::Config;
use crate::http::auth::Auth;
use crate::http::{AppState, router};
use crate::publish::platforms::BuildContext;
use crate::publish::worker::Deliverer;
use crate::render::FeedCache;
use crate::scheduler::Renderer;
use crate::shutdown::{CancellationToken, TaskTracker};
use crate::sources::upstream::poll::Poller;
use crate::store::sled::SledStore;
use crate::store::{DynStore, StoreError};
use crate::telemetry::Metrics;
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use tokio::net::TcpListener;
use tokio::sync::{Notify, watch};
use tokio::task::JoinHandle;

/// Why the daemon could not start or stopped badly.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// The store.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Secrets.
    #[error("credentials: {0}")]
    Auth(String),
    /// Sockets.
    #[error("{0}")]
    Io(#[from] std::io::Error),
    /// The upstream client.
    #[error("upstream client: {0}")]
    Fetch(String),
    /// A task panicked.
    #[error("a task failed: {0}")]
    Task(String),
}

/// A started daemon.
#[derive(Debug)]
pub struct Running {
    /// The bound address.
    pub addr: SocketAddr,
    /// Cancel to shut down.
    pub token: CancellationToken,
    /// Shared state (store, cache, metrics).
    pub state: Arc<AppState>,
    /// Render passes completed so far.
    pub rendered: watch::Receiver<u64>,
    join: JoinHandle<Result<(), AppError>>,
}

impl Running {
    /// Ask for shutdown and wait for it to complete.
    pub async fn shutdown(self) -> Result<(), AppError> {
        self.token.cancel();
        self.wait().await
    }

    /// Wait until the daemon stops (after the token is cancelled).
    pub async fn wait(self) -> Result<(), AppError> {
        self.join.await.map_err(|e| AppError::Task(e.to_string()))?
    }
}

/// Open the configured store.
pub async fn open_store(config: &Config) -> Result<DynStore, AppError> {
    let dir = config.data_dir.join("store");
    let store = tokio::task::spawn_blocking(move || SledStore::open(&dir))
        .await
        .map_err(|e| AppError::Task(e.to_string()))??;
    Ok(Arc::new(store))
}

/// Build the publisher of every enabled account. A secret that cannot be
/// read stops the start, naming the account and where it looked.
pub async fn build_deliverer(
    config: &Arc<Config>,
    store: &DynStore,
    metrics: Arc<Metrics>,
) -> Result<Deliverer, AppError> {
    let ctx = BuildContext {
        config_dir: config
            .path
            .parent()
            .unwrap_or(std::path::Path::new("."))
            .to_path_buf(),
        credentials: store.clone(),
        publish: config.publish.clone(),
    };
    let mut publishers = BTreeMap::new();
    for account in config.accounts.values().filter(|a| a.enabled) {
        let p = crate::publish::platforms::build(account, &ctx, store.clone())
            .await
            .map_err(|e| AppError::Auth(format!("account {}: {e}", account.id)))?;
        publishers.insert(account.id.clone(), p);
    }
    if !publishers.is_empty() {
        tracing::info!(accounts = publishers.len(), "cross-posting enabled");
    }
    Ok(Deliverer::new(
        config.clone(),
        store.clone(),
        publishers,
        metrics,
    ))
}

/// Start the daemon on `listener`; it runs until `token` is cancelled.
pub async fn start(
    config: Config,
    listener: TcpListener,
    token: CancellationToken,
) -> Result<Running, AppError> {
    let config = Arc::new(config);
    let store = open_store(&config).await?;
    tracing::info!(schema_version = store.schema_version(), dir = %config.data_dir.display(), "store open");
    let auth = Arc::new(Auth::from_config(&config).map_err(AppError::Auth)?);
    let metrics = Arc::new(Metrics::new());
    let cache = Arc::new(FeedCache::default());
    let changed = Arc::new(Notify::new());
    let (gen_tx, rendered) = watch::channel(0u64);
    let renderer = Renderer {
        config: config.clone(),
        store: store.clone(),
        cache: cache.clone(),
        metrics: metrics.clone(),
        generation: Arc::new(gen_tx),
    };
    renderer.render_all().await?;
    let deliverer = Arc::new(build_deliverer(&config, &store, metrics.clone()).await?);
    let state = Arc::new(AppState {
        config: config.clone(),
        store: store.clone(),
        cache,
        metrics: metrics.clone(),
        auth,
        changed: changed.clone(),
        ready: Default::default(),
        deliverer: deliverer.clone(),
    });

    let tracker = TaskTracker::new();
    let poller = Poller::new(
        config.sources.values().cloned().collect(),
        &config.fetch,
        store.clone(),
        metrics,
        changed.clone(),
    )
    .map_err(|e| AppError::Fetch(e.to_string()))?;
    let plan_config = config.clone();
    let plan_wake = deliverer.clone();
    let poller = poller.with_planner(crate::sources::upstream::poll::JobPlanner {
        plan: Arc::new(move |item| {
            crate::publish::outbox::jobs_for_new_item(&plan_config, item, chrono::Utc::now())
        }),
        stored: Arc::new(move || plan_wake.wake()),
    });
    Arc::new(poller).spawn(&tracker, token.clone());
    deliverer.clone().spawn(&tracker, token.clone());
    tracker.spawn(renderer.run(changed, token.clone()));

    let addr = listener.local_addr()?;
    let app = router(state.clone());
    let server_token = token.clone();
    let server = tokio::spawn(async move {
        axum::serve(listener, app)
            .with_graceful_shutdown(async move { server_token.cancelled().await })
            .await
    });
    state.ready.store(true, Ordering::Release);
    tracing::info!(%addr, channels = config.channels.len(), sources = config.sources.len(), "musharaka is serving");

    let grace = config.http.shutdown_grace;
    let st = state.clone();
    let stop_token = token.clone();
    let join = tokio::spawn(async move {
        stop_token.cancelled().await;
        st.ready.store(false, Ordering::Release);
        tracing::info!(grace = ?grace, "shutting down: finishing in-flight work");
        tracker.close();
        let drained = tokio::time::timeout(grace, async {
            let served = server.await;
            tracker.wait().await;
            served
        })
        .await;
        match drained {
            Ok(Ok(Ok(()))) => {}
            Ok(Ok(Err(e))) => tracing::error!(error = %e, "HTTP server error"),
            Ok(Err(e)) => tracing::error!(error = %e, "HTTP server task failed"),
            Err(_) => tracing::warn!("shutdown grace period over; abandoning unfinished work"),
        }
        st.store.flush().await?;
        tracing::info!("store flushed; bye");
        Ok(())
    });
    Ok(Running {
        addr,
        token,
        state,
        rendered,
        join,
    })
}

/// Run the daemon in the foreground: bind, start, tell systemd, handle
/// signals, and return when shut down.
pub async fn run(config: Config) -> Result<(), AppError> {
    let listener = TcpListener::bind(config.http.listen).await.map_err(|e| {
        std::io::Error::new(
            e.kind(),
            format!("cannot listen on {}: {e}", config.http.listen),
        )
    })?;
    let token = CancellationToken::new();
    tokio::spawn(crate::shutdown::watch_signals(token.clone()));
    let running = start(config, listener, token.clone()).await?;
    let status = format!("serving on {}", running.addr);
    notify_systemd(&[
        sd_notify::NotifyState::Ready,
        sd_notify::NotifyState::Status(&status),
    ]);
    let mut usec = 0u64;
    if sd_notify::watchdog_enabled(false, &mut usec) && usec > 0 {
        let period = std::time::Duration::from_micros(usec / 2);
        let t = token.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(period);
            loop {
                tokio::select! {
                    _ = t.cancelled() => break,
                    _ = tick.tick() => notify_systemd(&[sd_notify::NotifyState::Watchdog]),
                }
            }
        });
    }
    token.cancelled().await;
    notify_systemd(&[sd_notify::NotifyState::Stopping]);
    running.wait().await
}

fn notify_systemd(states: &[sd_notify::NotifyState<'_>]) {
    if let Err(e) = sd_notify::notify(false, states) {
        tracing::debug!(error = %e, "sd_notify failed");
    }
}
