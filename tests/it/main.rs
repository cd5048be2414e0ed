//! One integration test binary (faster to link than one per file).

mod api;
mod checkpoint;
mod crash;
mod daemon;
mod feeds;
mod harness;
mod outbox;
mod store;
mod systemd;
mod upstream;
