//! Staff-written news: validation and sanitizing of admin API input.
