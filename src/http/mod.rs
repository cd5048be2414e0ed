//! The HTTP surface: feeds, index, staff API, health and metrics.
