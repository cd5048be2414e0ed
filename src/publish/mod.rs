//! Cross-posting news to the portal's social accounts, exactly once as
//! followers see it.
//!
//! - [`platform`]: the `Publisher` trait and the failure classes.
//! - [`platforms`]: X, Facebook and YouTube, each split the same way.
//! - [`text`]: X weighted length (twitter-text v3), truncation, templates.
//! - [`fake`]: shared fault machinery of the in-process platform fakes.

pub mod fake;
pub mod outbox;
pub mod platform;
pub mod platforms;
pub mod text;
pub mod worker;

pub use platform::{DeliveryError, JobId, Outgoing, Platform, Posted, Publisher, Rendered};
