//! Integration tests of `musharaka::render`: every format parsed back with
//! its reference reader, checked against a W3C-validator-like checker
//! ([`feed_validity`]) and, for Atom, against the RFC 4287 Relax NG schema.

mod feed_validity;
mod formats;
mod paging;
mod schema;
mod state;
mod support;
