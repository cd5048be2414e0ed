//! Cross-posting news to social platforms.
pub mod text;
