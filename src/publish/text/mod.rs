//! PLACEHOLDER: replaced by the text branch (twitter-text length, truncation, templates).
#![allow(missing_docs)]

/// A post template.
#[derive(Debug, Clone)]
pub struct Template(pub String);

impl Template {
    /// Parse a template.
    pub fn parse(s: &str) -> Result<Template, String> {
        Ok(Template(s.to_string()))
    }
}
