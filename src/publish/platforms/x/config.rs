//! Typed settings of an X account (`[accounts.settings]`), and the check that
//! reports every problem with its key at once.
//!
//! ```toml
//! # OAuth 2.0 user context (recommended): a refresh token from the PKCE flow.
//! auth = "oauth2"
//! client_id = "M1M5R3BMVy13QmpScXkzTUt5OE46MTpjaQ"
//! client_secret = { file = "secrets/x-client-secret" }   # confidential clients only
//! refresh_token = { credential = "x-refresh-token" }     # the *initial* one
//! user_id = "2244994945"                                 # optional (else GET /2/users/me)
//!
//! # OAuth 1.0a user context: four keys that never expire.
//! auth = "oauth1"
//! consumer_key = { env = "X_CONSUMER_KEY" }
//! consumer_secret = { env = "X_CONSUMER_SECRET" }
//! token = { env = "X_TOKEN" }
//! token_secret = { env = "X_TOKEN_SECRET" }
//! user_id = "2244994945"                                 # required
//! ```
//!
//! Owns parsing and validation only; secrets are resolved in `mod.rs::build`.

use crate::config::secrets::SecretRef;
use serde::Deserialize;

/// Settings of one X account.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(tag = "auth", rename_all = "lowercase")]
pub enum XSettings {
    /// OAuth 2.0 user context with a rotating refresh token.
    Oauth2(OAuth2Settings),
    /// OAuth 1.0a user context (HMAC-SHA1 signatures).
    Oauth1(OAuth1Settings),
}

/// `auth = "oauth2"`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OAuth2Settings {
    /// The app's OAuth 2.0 client id (public, not a secret).
    pub client_id: String,
    /// The client secret of a confidential client (web app / bot); absent
    /// for public clients, which send `client_id` in the form instead.
    #[serde(default)]
    pub client_secret: Option<SecretRef>,
    /// The refresh token staff obtained with the PKCE flow. Only the first
    /// one: rotated tokens live in the credential store.
    pub refresh_token: SecretRef,
    /// The account's numeric user id; looked up once when absent.
    #[serde(default)]
    pub user_id: Option<String>,
}

/// `auth = "oauth1"`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OAuth1Settings {
    /// API key.
    pub consumer_key: SecretRef,
    /// API key secret.
    pub consumer_secret: SecretRef,
    /// The account's access token.
    pub token: SecretRef,
    /// The account's access token secret.
    pub token_secret: SecretRef,
    /// The account's numeric user id.
    pub user_id: String,
}

impl XSettings {
    /// Parse a settings table. Call [`check_settings`] first for messages
    /// that name every problem; this one reports the first only.
    pub fn from_table(table: &toml::Table) -> Result<XSettings, String> {
        toml::Value::Table(table.clone())
            .try_into::<XSettings>()
            .map_err(|e| e.message().to_string())
    }

    /// The configured user id, if any.
    pub fn user_id(&self) -> Option<&str> {
        match self {
            XSettings::Oauth2(s) => s.user_id.as_deref(),
            XSettings::Oauth1(s) => Some(&s.user_id),
        }
    }
}

const OAUTH2_KEYS: &[&str] = &[
    "auth",
    "client_id",
    "client_secret",
    "refresh_token",
    "user_id",
];
const OAUTH1_KEYS: &[&str] = &[
    "auth",
    "consumer_key",
    "consumer_secret",
    "token",
    "token_secret",
    "user_id",
];

/// Every problem of an X settings table, as `(key, message)`.
pub fn check_settings(t: &toml::Table) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut bad = |k: &str, m: &str| out.push((k.to_string(), m.to_string()));
    let auth = match t.get("auth") {
        None => {
            bad("auth", "missing: give `oauth2` or `oauth1`");
            return out;
        }
        Some(toml::Value::String(s)) if s == "oauth2" || s == "oauth1" => s.as_str(),
        Some(_) => {
            bad("auth", "must be `oauth2` or `oauth1`");
            return out;
        }
    };
    let (known, secrets, required_secrets): (&[&str], &[&str], &[&str]) = if auth == "oauth2" {
        (
            OAUTH2_KEYS,
            &["client_secret", "refresh_token"],
            &["refresh_token"],
        )
    } else {
        let s: &[&str] = &["consumer_key", "consumer_secret", "token", "token_secret"];
        (OAUTH1_KEYS, s, s)
    };
    for key in t.keys() {
        if !known.contains(&key.as_str()) {
            bad(key, &format!("unknown key for auth = \"{auth}\""));
        }
    }
    for key in secrets {
        match t.get(*key) {
            None if required_secrets.contains(key) => bad(
                key,
                "missing: give { env = \"…\" }, { file = \"…\" } or { credential = \"…\" }",
            ),
            None => {}
            Some(v @ toml::Value::Table(_)) => match v.clone().try_into::<SecretRef>() {
                Ok(r) => {
                    if let Some(p) = r.problem() {
                        bad(key, &p);
                    }
                }
                Err(e) => bad(key, e.message()),
            },
            // Deliberately not echoing the value: it may be the secret itself.
            Some(_) => bad(
                key,
                "must be a secret reference ({ env = \"…\" }, { file = \"…\" } or { credential = \"…\" }), never the value",
            ),
        }
    }
    if auth == "oauth2" {
        match t.get("client_id") {
            None => bad("client_id", "missing"),
            Some(toml::Value::String(s)) if !s.trim().is_empty() => {}
            Some(_) => bad("client_id", "must be a non-empty string"),
        }
    }
    match t.get("user_id") {
        None if auth == "oauth1" => bad("user_id", "missing (required with oauth1)"),
        None => {}
        Some(toml::Value::String(s)) if valid_id(s) => {}
        Some(_) => bad("user_id", "must be a string of 1 to 19 digits"),
    }
    out
}

/// X ids are strings of 1–19 digits.
pub(crate) fn valid_id(s: &str) -> bool {
    (1..=19).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(s: &str) -> toml::Table {
        s.parse().expect("toml")
    }

    #[test]
    fn valid_oauth2_parses() {
        let t = table(
            r#"auth = "oauth2"
client_id = "abc"
client_secret = { file = "cs" }
refresh_token = { env = "RT" }
user_id = "2244994945""#,
        );
        assert!(check_settings(&t).is_empty(), "{:?}", check_settings(&t));
        let s = XSettings::from_table(&t).expect("parse");
        let XSettings::Oauth2(o) = &s else {
            panic!("not oauth2: {s:?}")
        };
        assert_eq!(o.client_id, "abc");
        assert_eq!(o.refresh_token, SecretRef::env("RT"));
        assert_eq!(s.user_id(), Some("2244994945"));
    }

    #[test]
    fn public_client_needs_no_secret() {
        let t = table("auth = \"oauth2\"\nclient_id = \"abc\"\nrefresh_token = { env = \"RT\" }");
        assert!(check_settings(&t).is_empty());
        let XSettings::Oauth2(o) = XSettings::from_table(&t).expect("parse") else {
            panic!("not oauth2")
        };
        assert_eq!(o.client_secret, None);
        assert_eq!(o.user_id, None);
    }

    #[test]
    fn valid_oauth1_parses() {
        let t = table(
            r#"auth = "oauth1"
consumer_key = { env = "A" }
consumer_secret = { env = "B" }
token = { file = "c" }
token_secret = { credential = "d" }
user_id = "12""#,
        );
        assert!(check_settings(&t).is_empty(), "{:?}", check_settings(&t));
        assert!(matches!(
            XSettings::from_table(&t),
            Ok(XSettings::Oauth1(_))
        ));
    }

    #[test]
    fn reports_every_problem_with_its_key() {
        let t = table(
            r#"auth = "oauth2"
client_id = 5
client_secret = "plain-secret-value"
refresh_token = { env = "A", file = "b" }
user_id = "12x"
colour = "blue""#,
        );
        let mut keys: Vec<String> = check_settings(&t).into_iter().map(|(k, _)| k).collect();
        keys.sort();
        assert_eq!(
            keys,
            [
                "client_id",
                "client_secret",
                "colour",
                "refresh_token",
                "user_id"
            ]
        );
        // The plain value is never echoed back.
        assert!(
            check_settings(&t)
                .iter()
                .all(|(_, m)| !m.contains("plain-secret-value"))
        );
    }

    #[test]
    fn oauth1_reports_missing_keys() {
        let t = table("auth = \"oauth1\"\ntoken = { env = \"T\" }\nclient_id = \"x\"");
        let mut keys: Vec<String> = check_settings(&t).into_iter().map(|(k, _)| k).collect();
        keys.sort();
        assert_eq!(
            keys,
            [
                "client_id",
                "consumer_key",
                "consumer_secret",
                "token_secret",
                "user_id"
            ]
        );
    }

    #[test]
    fn auth_missing_or_wrong() {
        assert_eq!(check_settings(&toml::Table::new())[0].0, "auth");
        let t = table("auth = \"basic\"");
        assert_eq!(check_settings(&t).len(), 1);
        assert!(XSettings::from_table(&t).is_err());
    }

    #[test]
    fn ids_are_digit_strings() {
        assert!(valid_id("1346889436626259968"));
        assert!(!valid_id(""));
        assert!(!valid_id("12345678901234567890"));
        assert!(!valid_id("-1"));
    }
}
