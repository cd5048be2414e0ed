//! The in-memory cache of rendered channels the HTTP layer serves from.

use super::{Document, Format, PageId, RenderedChannel};
use std::collections::HashMap;
use std::sync::{Arc, RwLock};

/// Rendered channels by id. Readers take a read lock only long enough to
/// clone an `Arc`; a render swaps a whole channel at once, so a reader never
/// sees half of a render.
#[derive(Debug, Default)]
pub struct FeedCache {
    // std RwLock: never held across an await, critical sections are tiny.
    channels: RwLock<HashMap<String, Arc<RenderedChannel>>>,
}

/// Whether two renders would serve the same responses.
fn same(a: &RenderedChannel, b: &RenderedChannel) -> bool {
    a.lang == b.lang
        && a.items == b.items
        && a.archive_pages == b.archive_pages
        && a.documents.len() == b.documents.len()
        && a.documents
            .iter()
            .zip(b.documents.iter())
            .all(|((ka, da), (kb, db))| {
                ka == kb
                    && (Arc::ptr_eq(da, db)
                        || (da.etag == db.etag
                            && da.last_modified == db.last_modified
                            && da.body == db.body))
            })
}

impl FeedCache {
    /// An empty cache.
    pub fn new() -> Self {
        Self::default()
    }

    /// One document.
    pub fn get(&self, channel: &str, page: PageId, format: Format) -> Option<Arc<Document>> {
        self.channel(channel)?.get(page, format).cloned()
    }

    /// A whole rendered channel (to pass as `previous` to the next render).
    pub fn channel(&self, id: &str) -> Option<Arc<RenderedChannel>> {
        let map = self.channels.read().unwrap_or_else(|p| p.into_inner());
        map.get(id).cloned()
    }

    /// Ids of the cached channels, sorted.
    pub fn channel_ids(&self) -> Vec<String> {
        let map = self.channels.read().unwrap_or_else(|p| p.into_inner());
        let mut ids: Vec<String> = map.keys().cloned().collect();
        ids.sort();
        ids
    }

    /// Store a render; `true` if any document (or the page set) changed.
    pub fn replace(&self, rendered: RenderedChannel) -> bool {
        let mut map = self.channels.write().unwrap_or_else(|p| p.into_inner());
        let changed = map
            .get(&rendered.channel_id)
            .is_none_or(|old| !same(old, &rendered));
        if changed {
            map.insert(rendered.channel_id.clone(), Arc::new(rendered));
        }
        changed
    }

    /// Forget a channel (removed from the config); `true` if it was cached.
    pub fn remove(&self, id: &str) -> bool {
        let mut map = self.channels.write().unwrap_or_else(|p| p.into_inner());
        map.remove(id).is_some()
    }
}
