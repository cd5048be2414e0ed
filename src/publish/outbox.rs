//! The outbox: one job per (news item, account), with a state machine that
//! makes a post happen exactly once as followers see it.
//!
//! ```text
//!            ┌──────────────── retry (staff) ───────────────┐
//!            ▼                                              │
//!  Pending ──claim──► InFlight ──ack──► Posted              │
//!     ▲  ▲               │  │                               │
//!     │  └── definite ───┘  └── crash / timeout / 5xx ──► Unknown ──find──► Posted (adopted)
//!     │      failure                                         │
//!     └────────────── not found on the platform ◄────────────┘
//!  Pending/Unknown ──permanent error or attempts spent──► Dead ──┘
//!  Pending ──item retracted / staff──► Cancelled      Pending ──platform can't carry it──► Skipped
//! ```
//!
//! A job is claimed (`InFlight`, attempts + 1) durably *before* the request is
//! sent. Any job found `InFlight` or `Unknown` is reconciled — looked up among
//! the account's recent posts — before it may be sent again. Jobs are never
//! deleted: dead jobs keep their error until staff retry or cancel them.
//! Jobs are created in the same store transaction as their news item.

use super::platform::{JobId, Posted};
use crate::config::{Account, Config};
use crate::model::{ItemId, NewsItem};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// What a job does.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum JobKind {
    /// Post the item.
    Publish,
    /// Delete an earlier post of the item (retraction).
    Delete {
        /// The platform's post id.
        post_id: String,
    },
}

/// Where a job stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum JobState {
    /// Waiting for `next_attempt_at`.
    Pending,
    /// An attempt was started (recorded before sending).
    InFlight,
    /// The last attempt's outcome is unknown: reconcile before any retry.
    Unknown,
    /// Acknowledged by the platform (or found there by reconciliation).
    Posted,
    /// Delete jobs: the post is gone.
    Deleted,
    /// The platform cannot carry this item (reason in `last_error`).
    Skipped,
    /// Gave up: permanent error or attempts spent. Kept until staff act.
    Dead,
    /// Cancelled by staff or by a retraction before posting.
    Cancelled,
}

impl JobState {
    /// Whether the worker still has something to do.
    pub fn is_open(self) -> bool {
        matches!(
            self,
            JobState::Pending | JobState::InFlight | JobState::Unknown
        )
    }

    /// Whether the last attempt may have reached the platform.
    pub fn needs_reconcile(self) -> bool {
        matches!(self, JobState::InFlight | JobState::Unknown)
    }

    /// Name as in the API and metrics.
    pub fn name(self) -> &'static str {
        match self {
            JobState::Pending => "pending",
            JobState::InFlight => "in_flight",
            JobState::Unknown => "unknown",
            JobState::Posted => "posted",
            JobState::Deleted => "deleted",
            JobState::Skipped => "skipped",
            JobState::Dead => "dead",
            JobState::Cancelled => "cancelled",
        }
    }

    /// Every state.
    pub const ALL: [JobState; 8] = [
        JobState::Pending,
        JobState::InFlight,
        JobState::Unknown,
        JobState::Posted,
        JobState::Deleted,
        JobState::Skipped,
        JobState::Dead,
        JobState::Cancelled,
    ];
}

/// One delivery of one item to one account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Job {
    /// Job id.
    pub id: JobId,
    /// The news item.
    pub item_id: ItemId,
    /// The account.
    pub account_id: String,
    /// Publish or delete.
    pub kind: JobKind,
    /// State.
    pub state: JobState,
    /// Attempts made (claims).
    pub attempts: u32,
    /// Not before this time.
    pub next_attempt_at: DateTime<Utc>,
    /// The last error, kept through every later state.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_error: Option<String>,
    /// Its class (`rate_limited`, `unknown`, `permanent`, …).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_error_class: Option<String>,
    /// What the platform acknowledged.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub post: Option<Posted>,
    /// When it was posted (or adopted).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub posted_at: Option<DateTime<Utc>>,
    /// Whether the post was found by reconciliation rather than acknowledged.
    #[serde(default)]
    pub adopted: bool,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
    /// Incremented on every write (optimistic concurrency).
    #[serde(default)]
    pub revision: u64,
}

impl Job {
    /// A new job, due at `due`.
    pub fn new(
        item_id: ItemId,
        account_id: &str,
        kind: JobKind,
        due: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Job {
        Job {
            id: JobId::new(),
            item_id,
            account_id: account_id.to_string(),
            kind,
            state: JobState::Pending,
            attempts: 0,
            next_attempt_at: due,
            last_error: None,
            last_error_class: None,
            post: None,
            posted_at: None,
            adopted: false,
            created_at: now,
            updated_at: now,
            revision: 0,
        }
    }
}

/// Whether `item` goes to `account`: the account is enabled, the item has a
/// title in its language, and an upstream item's source cross-posts.
pub fn wants(config: &Config, account: &Account, item: &NewsItem) -> bool {
    if !account.enabled || item.title.get(account.lang).is_none() {
        return false;
    }
    match item.source_id() {
        None => true,
        Some(sid) => config.sources.get(sid).is_some_and(|s| s.cross_post),
    }
}

/// The publish jobs a new item needs: one per account that wants it, due
/// when the item is published (an embargo holds them back).
pub fn jobs_for_new_item(config: &Config, item: &NewsItem, now: DateTime<Utc>) -> Vec<Job> {
    if item.retracted_at.is_some() {
        return Vec::new();
    }
    config
        .accounts
        .values()
        .filter(|a| wants(config, a, item))
        .map(|a| {
            Job::new(
                item.id,
                &a.id,
                JobKind::Publish,
                item.published_at.max(now),
                now,
            )
        })
        .collect()
}

/// Job changes that go with an item change (same transaction): a retraction
/// cancels what is not posted yet and deletes posts where the account says
/// so; a new publication time moves pending jobs with it.
pub fn jobs_for_changed_item(
    config: &Config,
    item: &NewsItem,
    existing: &[Job],
    now: DateTime<Utc>,
) -> Vec<Job> {
    let mut out = Vec::new();
    for job in existing {
        if job.kind != JobKind::Publish {
            continue;
        }
        if item.retracted_at.is_some() {
            match job.state {
                JobState::Pending | JobState::Dead => {
                    let mut j = job.clone();
                    j.state = JobState::Cancelled;
                    j.last_error = Some("the item was retracted before it was posted".into());
                    j.updated_at = now;
                    j.revision += 1;
                    out.push(j);
                }
                // In flight or unknown: the worker reconciles it, sees the
                // retraction, and deletes whatever it finds.
                JobState::Posted => {
                    let wants_delete = config
                        .accounts
                        .get(&job.account_id)
                        .is_some_and(|a| a.delete_on_retract);
                    let already = existing.iter().any(|j| {
                        j.account_id == job.account_id && matches!(j.kind, JobKind::Delete { .. })
                    });
                    if let (true, false, Some(p)) = (wants_delete, already, &job.post) {
                        out.push(Job::new(
                            item.id,
                            &job.account_id,
                            JobKind::Delete {
                                post_id: p.id.clone(),
                            },
                            now,
                            now,
                        ));
                    }
                }
                _ => {}
            }
        } else if job.state == JobState::Pending && job.attempts == 0 {
            let due = item.published_at.max(now);
            if job.next_attempt_at != due {
                let mut j = job.clone();
                j.next_attempt_at = due;
                j.updated_at = now;
                j.revision += 1;
                out.push(j);
            }
        }
    }
    out
}

/// Runtime state of an account, kept in the store.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountState {
    /// Account id.
    pub id: String,
    /// No calls before this time (rate limit or quota reset).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub paused_until: Option<DateTime<Utc>>,
    /// Why the account needs re-authorization; no deliveries until resumed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub needs_reauth: Option<String>,
    /// Since when.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub needs_reauth_since: Option<DateTime<Utc>>,
}
