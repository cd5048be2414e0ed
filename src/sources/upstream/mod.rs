//! Upstream feeds: the stage that brings ministry and agency RSS/Atom feeds
//! into the store.
//!
//! Owns:
//! - [`fetch`]: the polite HTTP (and `file://`) client: conditional GET,
//!   cache hints, timeouts, a body cap that holds after decompression,
//!   redirect limit, per-host concurrency, and errors classified as
//!   retryable or permanent where they happen. It never retries.
//! - [`parse`]: RSS 0.9x/1.0/2.0 and Atom reading, character decoding
//!   ([`xml`]), lenient dates ([`dates`]), text and HTML clean-up
//!   ([`sanitize`]), and normalization of entries into news items.
//! - [`poll`]: one loop per enabled source: when to poll (cron, minimum
//!   interval, cache hints, backoff with full jitter), and the order of
//!   writes (entries flushed before the validators move).
//!
//! Does not own: rendering (`render`), the HTTP API (`http`), or how news
//! items are stored (`store`).

pub mod dates;
pub mod fetch;
pub mod parse;
pub mod poll;
pub mod sanitize;
pub mod xml;

pub use fetch::{CacheHints, FetchError, Fetched, Fetcher, HostLimiter, Validators};
pub use parse::{ParseError, ParsedFeed, parse_feed};
pub use poll::{Clock, PollError, PollOutcome, PollReport, Poller, SystemClock, TokioClock};
