//! Typed settings of a Facebook Page account, read from the account's
//! `settings` table, and the check that reports every problem at once.
//!
//! ```toml
//! [accounts.settings]
//! page_id = "546349135390552"
//! page_token = { file = "secrets/fb-page-token" }
//! app_secret = { credential = "fb-app-secret" }   # optional: appsecret_proof
//! app_id = "1234567890"                          # optional: debug_token as the app
//! api_version = "v21.0"                          # optional
//! ```
//!
//! Owns: parsing and validation. Does not own: reading the secrets (that is
//! [`SecretRef::resolve`], at build time) or the base URL (`Account.base_url`).

use crate::config::secrets::SecretRef;

/// Graph API version used when `api_version` is not set.
pub const DEFAULT_API_VERSION: &str = "v21.0";

/// Base URL used when the account has no `base_url`.
pub const DEFAULT_BASE_URL: &str = "https://graph.facebook.com";

/// Keys this module understands; anything else is reported.
const KEYS: [&str; 5] = [
    "page_id",
    "page_token",
    "app_secret",
    "app_id",
    "api_version",
];

/// The settings of one Facebook Page account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FacebookSettings {
    /// The Page id (an opaque string of digits in practice).
    pub page_id: String,
    /// Where the long-lived Page access token is.
    pub page_token: SecretRef,
    /// Where the app secret is. When set, every call carries
    /// `appsecret_proof` ("Require App Secret" apps refuse calls without it).
    pub app_secret: Option<SecretRef>,
    /// The app id: with `app_secret`, the debug_token health check calls as
    /// the app (`{app-id}|{app-secret}`); without it the Page token inspects
    /// itself.
    pub app_id: Option<String>,
    /// `vNN.N`.
    pub api_version: String,
}

impl FacebookSettings {
    /// Parse the table, or every problem found, as `(key, message)`.
    pub fn from_table(t: &toml::Table) -> Result<FacebookSettings, Vec<(String, String)>> {
        let mut problems = Vec::new();
        for key in t.keys() {
            if !KEYS.contains(&key.as_str()) {
                problems.push((
                    key.clone(),
                    format!("unknown Facebook setting (known: {})", KEYS.join(", ")),
                ));
            }
        }
        let page_id = match t.get("page_id") {
            None => {
                problems.push(("page_id".into(), "required: the Page id".into()));
                None
            }
            Some(toml::Value::String(s)) if valid_id(s) => Some(s.clone()),
            Some(toml::Value::String(_)) => {
                problems.push((
                    "page_id".into(),
                    "must be a non-empty id of letters, digits, `.`, `_` or `-`".into(),
                ));
                None
            }
            Some(_) => {
                problems.push((
                    "page_id".into(),
                    "must be a string (quote it: page_id = \"546349135390552\")".into(),
                ));
                None
            }
        };
        let page_token = match t.get("page_token") {
            None => {
                problems.push((
                    "page_token".into(),
                    "required: where the Page access token is ({ env | file | credential })".into(),
                ));
                None
            }
            Some(v) => secret_ref("page_token", v, &mut problems),
        };
        let app_secret = t
            .get("app_secret")
            .and_then(|v| secret_ref("app_secret", v, &mut problems));
        let app_id = match t.get("app_id") {
            None => None,
            Some(toml::Value::String(s)) if valid_id(s) => Some(s.clone()),
            Some(_) => {
                problems.push(("app_id".into(), "must be a non-empty string id".into()));
                None
            }
        };
        if app_id.is_some() && !t.contains_key("app_secret") {
            problems.push((
                "app_id".into(),
                "needs `app_secret` too (the app token is `{app-id}|{app-secret}`)".into(),
            ));
        }
        let api_version = match t.get("api_version") {
            None => Some(DEFAULT_API_VERSION.to_string()),
            Some(toml::Value::String(s)) if valid_version(s) => Some(s.clone()),
            Some(_) => {
                problems.push((
                    "api_version".into(),
                    format!("must look like `{DEFAULT_API_VERSION}` (v<digits>.<digits>)"),
                ));
                None
            }
        };
        match (page_id, page_token, api_version) {
            (Some(page_id), Some(page_token), Some(api_version)) if problems.is_empty() => {
                Ok(FacebookSettings {
                    page_id,
                    page_token,
                    app_secret,
                    app_id,
                    api_version,
                })
            }
            _ => Err(problems),
        }
    }
}

/// Every problem of the table, as `(key, message)`; empty when it is valid.
pub fn check_settings(t: &toml::Table) -> Vec<(String, String)> {
    FacebookSettings::from_table(t).err().unwrap_or_default()
}

fn secret_ref(
    key: &str,
    v: &toml::Value,
    problems: &mut Vec<(String, String)>,
) -> Option<SecretRef> {
    match v.clone().try_into::<SecretRef>() {
        Ok(r) => match r.problem() {
            None => Some(r),
            Some(p) => {
                problems.push((key.into(), p));
                None
            }
        },
        Err(e) => {
            problems.push((
                key.into(),
                format!("must be {{ env = \"VAR\" }}, {{ file = \"path\" }} or {{ credential = \"name\" }}: {}", e.message()),
            ));
            None
        }
    }
}

/// Ids go into URL paths: keep them to characters that need no escaping.
pub(crate) fn valid_id(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 128
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
}

/// `v<digits>.<digits>`.
pub(crate) fn valid_version(s: &str) -> bool {
    let Some(rest) = s.strip_prefix('v') else {
        return false;
    };
    let Some((major, minor)) = rest.split_once('.') else {
        return false;
    };
    let digits = |p: &str| !p.is_empty() && p.chars().all(|c| c.is_ascii_digit());
    digits(major) && digits(minor)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(s: &str) -> toml::Table {
        toml::from_str(s).expect("toml")
    }

    #[test]
    fn a_complete_table_parses_with_defaults() {
        let s = FacebookSettings::from_table(&table(
            r#"page_id = "546349135390552"
               page_token = { file = "fb-token" }"#,
        ))
        .expect("valid");
        assert_eq!(s.page_id, "546349135390552");
        assert_eq!(
            s.page_token.file.as_deref(),
            Some(std::path::Path::new("fb-token"))
        );
        assert_eq!(s.app_secret, None);
        assert_eq!(s.api_version, "v21.0");
    }

    #[test]
    fn every_problem_is_reported_with_its_key() {
        let problems = check_settings(&table(
            r#"page_id = 546349135390552
               app_secret = { env = "A", file = "b" }
               app_id = "42"
               api_version = "21.0"
               colour = "blue""#,
        ));
        let keys: Vec<&str> = problems.iter().map(|(k, _)| k.as_str()).collect();
        for key in [
            "page_id",
            "page_token",
            "app_secret",
            "api_version",
            "colour",
        ] {
            assert!(keys.contains(&key), "{key} not reported in {problems:?}");
        }
        assert_eq!(problems.len(), 5, "{problems:?}");
    }

    #[test]
    fn missing_keys_and_bad_secret_shapes_are_reported() {
        let problems = check_settings(&table(r#"page_token = "the-token-itself""#));
        let keys: Vec<&str> = problems.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(keys, ["page_id", "page_token"], "{problems:?}");
        let problems = check_settings(&table(
            r#"page_id = "1"
               page_token = { env = "T" }
               app_id = "7""#,
        ));
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert_eq!(problems[0].0, "app_id");
    }

    #[test]
    fn versions_are_v_digits_dot_digits() {
        for ok in ["v21.0", "v9.1", "v100.25"] {
            assert!(valid_version(ok), "{ok}");
        }
        for bad in [
            "21.0", "v21", "v21.", "v.0", "v21.0.1", "V21.0", "v2a.0", "",
        ] {
            assert!(!valid_version(bad), "{bad}");
        }
    }
}
