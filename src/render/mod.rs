//! Feed documents: RSS 2.0, Atom 1.0 and JSON Feed 1.1 per channel, paged archives, and the cache.
