//! # Musharaka (مشاركة)
//!
//! The e-participation daemon of a bilingual (Arabic/English) government
//! e-services portal. See `docs/ARCHITECTURE.md` for the map; in short, the
//! modules follow the pipeline:
//!
//! ```text
//!  sources::upstream (poll, fetch, parse) ──┐
//!  http::api (staff news)  ─────────────────┤
//!                                           ▼
//!                                   store (news items)
//!                                           │
//!                        render (RSS / Atom / JSON, archives, cache)
//!                                           │
//!                        http (feeds, index)  +  static files
//! ```
//!
//! - [`app`]: wiring and shutdown order; [`shutdown`]: the one shutdown primitive.
//! - [`config`]: typed config, validation of everything at once, secrets.
//! - [`model`]: domain types. [`store`]: durable storage behind traits.
//! - [`sources`]: where news comes from. [`render`]: feed documents.
//! - [`scheduler`]: when things happen (polls, embargoes).
//! - [`http`]: the HTTP surface. [`telemetry`]: logs and metrics.
//! - [`cli`]: the `musharaka` command line.
#![warn(missing_docs)]

pub mod app;
pub mod cli;
pub mod config;
pub mod http;
pub mod model;
pub mod publish;
pub mod render;
pub mod sandbox;
pub mod scheduler;
pub mod shutdown;
pub mod sources;
pub mod store;
pub mod telemetry;
