//! Which items a channel shows, in which order, and the state-derived times
//! used for feed dates and `Last-Modified`.

use crate::config::Channel;
use crate::model::{NewsItem, Origin};
use chrono::{DateTime, TimeZone, Utc};
use std::cmp::Ordering;

/// The time of a document that has never had an item: a fixed instant, so
/// that an empty channel still renders the same bytes at every `now`.
/// 2000-01-01T00:00:00Z predates every item the portal can hold.
pub fn empty_feed_time() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2000, 1, 1, 0, 0, 0)
        .single()
        .unwrap_or(DateTime::<Utc>::UNIX_EPOCH)
}

/// Whether `item` is in the channel's scope, whatever its state: its origin
/// passes the channel's filter, it has a title in the channel's language and,
/// when the channel filters by category, one of those categories.
pub fn in_scope(channel: &Channel, item: &NewsItem) -> bool {
    let origin_ok = match &item.origin {
        Origin::Staff => channel.include_staff,
        Origin::Upstream { source_id, .. } => channel.sources.contains(source_id),
    };
    origin_ok
        && item.title.get(channel.lang).is_some()
        && (channel.categories.is_empty()
            || item.categories.iter().any(|c| {
                let c = c.trim().to_lowercase();
                channel
                    .categories
                    .iter()
                    .any(|want| want.trim().to_lowercase() == c)
            }))
}

/// Feed order: `published_at` descending, then id descending. Total, so any
/// permutation of the input sorts to the same sequence.
pub fn feed_order(a: &NewsItem, b: &NewsItem) -> Ordering {
    b.published_at
        .cmp(&a.published_at)
        .then_with(|| b.id.cmp(&a.id))
}

/// The items visible in `channel` at `now`, newest first: in scope, not
/// retracted and published at or before `now`.
pub fn select<'a>(
    channel: &Channel,
    items: &'a [NewsItem],
    now: DateTime<Utc>,
) -> Vec<&'a NewsItem> {
    let mut v: Vec<&NewsItem> = items
        .iter()
        .filter(|i| i.is_live(now) && in_scope(channel, i))
        .collect();
    v.sort_by(|a, b| feed_order(a, b));
    v
}

/// The earliest future `published_at` of a non-retracted item: when the next
/// embargo lifts and the channels must be rendered again. Items of every
/// channel count; the caller re-renders all channels (cheap, and unchanged
/// documents keep their bytes).
pub fn next_due(items: &[NewsItem], now: DateTime<Utc>) -> Option<DateTime<Utc>> {
    items
        .iter()
        .filter(|i| i.retracted_at.is_none() && i.published_at > now)
        .map(|i| i.published_at)
        .min()
}

/// The state-derived time of a channel's current document: the newest
/// [`NewsItem::feed_changed_at`] among the channel's items, retracted ones
/// included (so a retraction moves `Last-Modified` forward), or
/// [`empty_feed_time`] when there is none.
pub fn state_time(channel: &Channel, items: &[NewsItem], now: DateTime<Utc>) -> DateTime<Utc> {
    items
        .iter()
        .filter(|i| in_scope(channel, i))
        .filter_map(|i| i.feed_changed_at(now))
        .max()
        .unwrap_or_else(empty_feed_time)
}

/// The time of an archive page: the newest change among its own items, so a
/// page's bytes do not change when newer items arrive elsewhere. (A
/// retraction in an older page shifts items and changes the bytes, hence the
/// ETag, but may not move this time forward: clients should prefer the ETag.)
pub fn page_time(items: &[&NewsItem]) -> DateTime<Utc> {
    items
        .iter()
        .map(|i| i.published_at.max(i.last_change()))
        .max()
        .unwrap_or_else(empty_feed_time)
}
