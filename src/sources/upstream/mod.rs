//! Upstream feeds: fetch (polite HTTP client), parse and normalize, poll.
