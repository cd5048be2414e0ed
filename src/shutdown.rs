//! The one shutdown primitive: a [`CancellationToken`] that every loop
//! `select!`s on, and a [`TaskTracker`] that the app waits on with a deadline.
//!
//! The first SIGTERM/SIGINT cancels the token; a second one exits the process
//! at once (status 130).

pub use tokio_util::sync::CancellationToken;
pub use tokio_util::task::TaskTracker;

/// Wait for SIGTERM or SIGINT, cancel `token`, then exit on a second signal.
pub async fn watch_signals(token: CancellationToken) {
    let mut term = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
        Ok(s) => s,
        Err(e) => {
            tracing::error!(error = %e, "cannot install the SIGTERM handler");
            return;
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = term.recv() => {}
        _ = token.cancelled() => return,
    }
    tracing::info!("shutdown requested; a second signal exits at once");
    token.cancel();
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = term.recv() => {}
    }
    tracing::warn!("second signal: exiting now");
    std::process::exit(130);
}
