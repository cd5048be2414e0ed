//! Credentials of an X account (`shared/contracts/oauth.md`):
//!
//! - OAuth 2.0 user context (§1): a short-lived access token and a refresh
//!   token that **rotates** on every refresh. Refreshes are single-flight (a
//!   tokio `Mutex` held across the call, so a second caller waits and then
//!   sees the new token), and the new pair is written through
//!   [`CredentialRepo::put_credentials`] *before* the access token is used:
//!   a crash right after a refresh loses nothing. The configured refresh
//!   token is only the seed; a new seed (staff re-authorized) wins over the
//!   stored one.
//! - OAuth 1.0a user context (§2): HMAC-SHA1 signatures of each request.
//!   JSON bodies are not signed; query parameters are.
//! - PKCE S256 (RFC 7636), for the one-off authorize flow run by staff.
//!
//! Token values never reach error details or logs.

use super::client::transport_error;
use super::wire::{TokenError, TokenResponse};
use crate::config::secrets::Secret;
use crate::publish::DeliveryError;
use crate::store::{CredentialRepo, StoredCredentials};
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use sha2::{Digest, Sha256};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use url::Url;

/// RFC 3986 unreserved characters stay; everything else is `%XX`.
const RFC3986: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// An access token this close to its expiry counts as expired (clock skew,
/// request time).
const EXPIRY_MARGIN: chrono::Duration = chrono::Duration::seconds(60);

/// Percent-encode per oauth.md §2 step 4 (upper-case hex, space = `%20`).
pub fn percent_encode(s: &str) -> String {
    utf8_percent_encode(s, RFC3986).to_string()
}

/// The signature base string (§2 steps 3–6) of already-decoded parameters.
pub fn signature_base_string(method: &str, base_uri: &str, params: &[(String, String)]) -> String {
    let mut enc: Vec<(String, String)> = params
        .iter()
        .map(|(k, v)| (percent_encode(k), percent_encode(v)))
        .collect();
    enc.sort();
    let joined = enc
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("&");
    format!(
        "{}&{}&{}",
        method.to_ascii_uppercase(),
        percent_encode(base_uri),
        percent_encode(&joined)
    )
}

/// `oauth_signature` (§2 steps 7–8): base64 of HMAC-SHA1.
pub fn hmac_sha1_signature(base: &str, consumer_secret: &str, token_secret: &str) -> String {
    let key = format!(
        "{}&{}",
        percent_encode(consumer_secret),
        percent_encode(token_secret)
    );
    // HMAC accepts keys of any length: this cannot fail.
    let mut mac = match Hmac::<sha1::Sha1>::new_from_slice(key.as_bytes()) {
        Ok(m) => m,
        Err(_) => return String::new(),
    };
    mac.update(base.as_bytes());
    STANDARD.encode(mac.finalize().into_bytes())
}

/// The base string URI: scheme and host lower-case, default port omitted,
/// path kept, no query or fragment.
pub fn base_string_uri(url: &Url) -> String {
    format!("{}{}", url.origin().ascii_serialization(), url.path())
}

/// The four OAuth 1.0a user-context values.
#[derive(Debug, Clone)]
pub struct OAuth1Keys {
    /// API key.
    pub consumer_key: Secret,
    /// API key secret.
    pub consumer_secret: Secret,
    /// Access token.
    pub token: Secret,
    /// Access token secret.
    pub token_secret: Secret,
}

impl OAuth1Keys {
    /// The `Authorization: OAuth …` value of a request to `url` (its query
    /// is signed) with form body parameters `form` (empty for JSON bodies).
    pub fn authorization(
        &self,
        method: &str,
        url: &Url,
        form: &[(String, String)],
        nonce: &str,
        timestamp: i64,
    ) -> String {
        let oauth: Vec<(String, String)> = vec![
            (
                "oauth_consumer_key".into(),
                self.consumer_key.expose().to_string(),
            ),
            ("oauth_nonce".into(), nonce.to_string()),
            ("oauth_signature_method".into(), "HMAC-SHA1".into()),
            ("oauth_timestamp".into(), timestamp.to_string()),
            ("oauth_token".into(), self.token.expose().to_string()),
            ("oauth_version".into(), "1.0".into()),
        ];
        let mut params: Vec<(String, String)> = url
            .query_pairs()
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
        params.extend(form.iter().cloned());
        params.extend(oauth.iter().cloned());
        let base = signature_base_string(method, &base_string_uri(url), &params);
        let signature = hmac_sha1_signature(
            &base,
            self.consumer_secret.expose(),
            self.token_secret.expose(),
        );
        let mut header: Vec<(String, String)> = oauth;
        header.push(("oauth_signature".into(), signature));
        header.sort();
        let pairs = header
            .iter()
            .map(|(k, v)| format!("{}=\"{}\"", percent_encode(k), percent_encode(v)))
            .collect::<Vec<_>>()
            .join(", ");
        format!("OAuth {pairs}")
    }

    /// [`Self::authorization`] with a fresh nonce and the current time.
    pub fn sign(&self, method: &str, url: &Url) -> String {
        let nonce = hex::encode(rand::random::<[u8; 16]>());
        self.authorization(method, url, &[], &nonce, Utc::now().timestamp())
    }
}

/// The parameters of an `Authorization: OAuth …` header, decoded; `None`
/// when it is not one.
pub fn parse_oauth_header(h: &str) -> Option<Vec<(String, String)>> {
    let rest = h.strip_prefix("OAuth ")?;
    let mut out = Vec::new();
    for part in rest.split(',') {
        let (k, v) = part.trim().split_once('=')?;
        let v = v.strip_prefix('"')?.strip_suffix('"')?;
        let dec = |s: &str| {
            percent_encoding::percent_decode_str(s)
                .decode_utf8()
                .map(|c| c.into_owned())
        };
        out.push((dec(k).ok()?, dec(v).ok()?));
    }
    Some(out)
}

/// PKCE S256 challenge: base64url (no padding) of SHA-256(verifier).
pub fn pkce_challenge(verifier: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

/// Fingerprint of a configured refresh token (SHA-256, hex), kept as the
/// stored credentials' `seed`.
pub fn fingerprint(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// OAuth 2.0 client settings, resolved.
#[derive(Debug, Clone)]
pub struct OAuth2Client {
    /// Client id (public).
    pub client_id: String,
    /// Client secret of a confidential client.
    pub client_secret: Option<Secret>,
    /// `…/2/oauth2/token`.
    pub token_url: Url,
}

#[derive(Debug)]
struct TokenState {
    access: Option<Secret>,
    expires_at: Option<DateTime<Utc>>,
    refresh: Secret,
    /// A refresh succeeded but storing its result failed: store before use.
    unsaved: bool,
}

impl TokenState {
    fn usable(&self) -> Option<&Secret> {
        let exp = self.expires_at?;
        (exp - EXPIRY_MARGIN > Utc::now())
            .then_some(self.access.as_ref())
            .flatten()
    }
}

/// OAuth 2.0 tokens of one account, backed by the credential store.
pub struct OAuth2 {
    client: OAuth2Client,
    account_id: String,
    seed: String,
    repo: Arc<dyn CredentialRepo>,
    /// Held across a refresh: single flight.
    state: tokio::sync::Mutex<TokenState>,
    /// Successful refreshes; a caller that waited for the lock while another
    /// refreshed sees it change and does not refresh (rotate) again.
    generation: AtomicU64,
}

impl std::fmt::Debug for OAuth2 {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OAuth2")
            .field("client_id", &self.client.client_id)
            .field("account_id", &self.account_id)
            .finish_non_exhaustive()
    }
}

impl OAuth2 {
    /// Load the account's stored tokens. When there are none, or they grew
    /// from another configured refresh token (staff re-authorized), start
    /// from `configured` and store its fingerprint as the new seed.
    pub async fn load(
        client: OAuth2Client,
        account_id: &str,
        configured: Secret,
        repo: Arc<dyn CredentialRepo>,
    ) -> Result<OAuth2, String> {
        let seed = fingerprint(configured.expose());
        let stored = repo
            .credentials(account_id)
            .await
            .map_err(|e| format!("cannot read stored credentials: {e}"))?;
        let state = match stored {
            Some(s) if s.seed.as_deref() == Some(seed.as_str()) && s.refresh_token.is_some() => {
                TokenState {
                    access: s.access_token.map(Secret::new),
                    expires_at: s.expires_at,
                    refresh: Secret::new(s.refresh_token.unwrap_or_default()),
                    unsaved: false,
                }
            }
            previous => {
                if previous.is_some() {
                    tracing::info!(
                        account = account_id,
                        "x: a new refresh token is configured; the stored one is replaced"
                    );
                }
                let st = TokenState {
                    access: None,
                    expires_at: None,
                    refresh: configured,
                    unsaved: false,
                };
                repo.put_credentials(account_id, &record(&st, &seed))
                    .await
                    .map_err(|e| format!("cannot store credentials: {e}"))?;
                st
            }
        };
        Ok(OAuth2 {
            client,
            account_id: account_id.to_string(),
            seed,
            repo,
            state: tokio::sync::Mutex::new(state),
            generation: AtomicU64::new(0),
        })
    }

    /// A usable access token, refreshing first when there is none.
    pub async fn access_token(&self, http: &reqwest::Client) -> Result<Secret, DeliveryError> {
        let mut st = self.state.lock().await;
        if st.unsaved {
            self.save(&mut st).await?;
        }
        if let Some(t) = st.usable() {
            return Ok(t.clone());
        }
        self.refresh_locked(&mut st, http).await?;
        // Just issued: use it even when it lives less than the margin.
        let live = st.expires_at.is_some_and(|e| e > Utc::now());
        live.then(|| st.access.clone())
            .flatten()
            .ok_or_else(|| DeliveryError::Transient {
                detail: "x: the token endpoint gave an access token that is already expired".into(),
            })
    }

    /// Refresh now (after a 401), whatever the stored expiry says.
    /// Concurrent callers share one refresh.
    pub async fn refresh(&self, http: &reqwest::Client) -> Result<(), DeliveryError> {
        let seen = self.generation.load(Ordering::SeqCst);
        let mut st = self.state.lock().await;
        if self.generation.load(Ordering::SeqCst) != seen {
            return Ok(());
        }
        self.refresh_locked(&mut st, http).await
    }

    async fn refresh_locked(
        &self,
        st: &mut TokenState,
        http: &reqwest::Client,
    ) -> Result<(), DeliveryError> {
        let mut form = vec![
            ("grant_type", "refresh_token"),
            ("refresh_token", st.refresh.expose()),
        ];
        let mut req = http.post(self.client.token_url.clone());
        match &self.client.client_secret {
            Some(secret) => {
                req = req.basic_auth(&self.client.client_id, Some(secret.expose()));
            }
            None => form.push(("client_id", &self.client.client_id)),
        }
        let resp = req
            .form(&form)
            .send()
            .await
            .map_err(|e| transport_error(e, false))?;
        let status = resp.status();
        let headers = resp.headers().clone();
        let body = resp.bytes().await.map_err(|e| transport_error(e, false))?;
        if status.is_success() {
            let tr: TokenResponse =
                serde_json::from_slice(&body).map_err(|e| DeliveryError::Transient {
                    detail: format!("x: token endpoint answered {status} with a bad body: {e}"),
                })?;
            let lifetime = tr.expires_in.unwrap_or(7200).min(i64::MAX as u64 / 2);
            st.access = Some(Secret::new(tr.access_token));
            st.expires_at = Some(Utc::now() + chrono::Duration::seconds(lifetime as i64));
            if let Some(rt) = tr.refresh_token {
                st.refresh = Secret::new(rt);
            }
            st.unsaved = true;
            self.generation.fetch_add(1, Ordering::SeqCst);
            self.save(st).await?;
            tracing::info!(account = %self.account_id, expires_at = ?st.expires_at, "x: access token refreshed");
            return Ok(());
        }
        let err: Option<TokenError> = serde_json::from_slice(&body).ok();
        let words = err
            .map(|e| format!("{}: {}", e.error, e.error_description))
            .unwrap_or_else(|| String::from_utf8_lossy(&body).chars().take(200).collect());
        let detail = format!("x token endpoint {status}: {words}");
        Err(match status.as_u16() {
            429 => DeliveryError::RateLimited {
                until: super::client::reset_time(&headers, Utc::now()),
                detail,
            },
            400..=499 => DeliveryError::Reauthorize { detail },
            _ => DeliveryError::Transient { detail },
        })
    }

    async fn save(&self, st: &mut TokenState) -> Result<(), DeliveryError> {
        self.repo
            .put_credentials(&self.account_id, &record(st, &self.seed))
            .await
            .map_err(|e| DeliveryError::Transient {
                detail: format!("x: cannot store the rotated credentials: {e}"),
            })?;
        st.unsaved = false;
        Ok(())
    }
}

fn record(st: &TokenState, seed: &str) -> StoredCredentials {
    StoredCredentials {
        access_token: st.access.as_ref().map(|s| s.expose().to_string()),
        expires_at: st.expires_at,
        refresh_token: Some(st.refresh.expose().to_string()),
        seed: Some(seed.to_string()),
        updated_at: Utc::now(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CK: &str = "xvz1evFS4wEEPTGEFPHBog";
    const CS: &str = "kAcSOqF21Fu85e7zjz7ZN2U4ZRhfV3WpwPAoE3Z7kBw";
    const TOKEN: &str = "370773112-GmHxMAgYyLbNEtIKZeRNFsMKPR9EyMZeS9weJAEb";
    const TS: &str = "LswwdoUaIvS8ltyTt5jkRh4J50vUPVVHtR2YPi5kE";
    const NONCE: &str = "kYjzVBB8Y0ZFabxSWbWovY3uYSQ2pTgmZeNu2VS4cg";
    const TIME: i64 = 1318622958;

    fn keys() -> OAuth1Keys {
        OAuth1Keys {
            consumer_key: Secret::new(CK),
            consumer_secret: Secret::new(CS),
            token: Secret::new(TOKEN),
            token_secret: Secret::new(TS),
        }
    }

    fn signature_of(header: &str) -> String {
        parse_oauth_header(header)
            .expect("oauth header")
            .into_iter()
            .find(|(k, _)| k == "oauth_signature")
            .expect("signature")
            .1
    }

    #[test]
    fn percent_encoding_follows_rfc3986() {
        assert_eq!(
            percent_encode("Ladies + Gentlemen"),
            "Ladies%20%2B%20Gentlemen"
        );
        assert_eq!(
            percent_encode("An encoded string!"),
            "An%20encoded%20string%21"
        );
        assert_eq!(
            percent_encode("Dogs, Cats & Mice"),
            "Dogs%2C%20Cats%20%26%20Mice"
        );
        assert_eq!(percent_encode("☃"), "%E2%98%83");
        assert_eq!(percent_encode("a-b.c_d~e"), "a-b.c_d~e");
        assert_eq!(percent_encode("/="), "%2F%3D");
        assert_eq!(percent_encode("مرحبا"), "%D9%85%D8%B1%D8%AD%D8%A8%D8%A7");
    }

    #[test]
    fn official_vector_base_string_and_signature() {
        let params: Vec<(String, String)> = [
            ("include_entities", "true"),
            (
                "status",
                "Hello Ladies + Gentlemen, a signed OAuth request!",
            ),
            ("oauth_consumer_key", CK),
            ("oauth_nonce", NONCE),
            ("oauth_signature_method", "HMAC-SHA1"),
            ("oauth_timestamp", "1318622958"),
            ("oauth_token", TOKEN),
            ("oauth_version", "1.0"),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        let base = signature_base_string(
            "POST",
            "https://api.x.com/1.1/statuses/update.json",
            &params,
        );
        assert_eq!(
            base,
            "POST&https%3A%2F%2Fapi.x.com%2F1.1%2Fstatuses%2Fupdate.json&include_entities%3Dtrue%26oauth_consumer_key%3Dxvz1evFS4wEEPTGEFPHBog%26oauth_nonce%3DkYjzVBB8Y0ZFabxSWbWovY3uYSQ2pTgmZeNu2VS4cg%26oauth_signature_method%3DHMAC-SHA1%26oauth_timestamp%3D1318622958%26oauth_token%3D370773112-GmHxMAgYyLbNEtIKZeRNFsMKPR9EyMZeS9weJAEb%26oauth_version%3D1.0%26status%3DHello%2520Ladies%2520%252B%2520Gentlemen%252C%2520a%2520signed%2520OAuth%2520request%2521"
        );
        assert_eq!(
            hmac_sha1_signature(&base, CS, TS),
            "Ls93hJiZbQ3akF3HF3x1Bz8/zU4="
        );

        // Same through the header builder (query + form parameters).
        let url = Url::parse("https://api.x.com/1.1/statuses/update.json?include_entities=true")
            .expect("url");
        let form = vec![(
            "status".to_string(),
            "Hello Ladies + Gentlemen, a signed OAuth request!".to_string(),
        )];
        let h = keys().authorization("POST", &url, &form, NONCE, TIME);
        assert_eq!(signature_of(&h), "Ls93hJiZbQ3akF3HF3x1Bz8/zU4=");
        // The classic host gives the classic signature.
        let url =
            Url::parse("https://api.twitter.com/1.1/statuses/update.json?include_entities=true")
                .expect("url");
        let h = keys().authorization("POST", &url, &form, NONCE, TIME);
        assert_eq!(signature_of(&h), "hCtSmYh+iHYCEqBWrE7C7hYmtUk=");
    }

    #[test]
    fn v2_json_post_signs_only_oauth_params() {
        let url = Url::parse("https://api.x.com/2/tweets").expect("url");
        let h = keys().authorization("POST", &url, &[], NONCE, TIME);
        assert_eq!(signature_of(&h), "lr+tV/DKclEvXKVjG6tgaSSLV0k=");
    }

    #[test]
    fn v2_get_signs_the_query() {
        let url = Url::parse("https://api.x.com/2/users/2244994945/mentions?max_results=100&since_id=1346889436626259968&tweet.fields=author_id,created_at,conversation_id").expect("url");
        let h = keys().authorization("GET", &url, &[], NONCE, TIME);
        assert_eq!(signature_of(&h), "6ZKmc5PLELWZGSgkRN6xyqgVoFQ=");
        // The same query serialized form-style (`%2C`) signs the same.
        let mut u2 = Url::parse("https://api.x.com/2/users/2244994945/mentions").expect("url");
        u2.query_pairs_mut()
            .append_pair("max_results", "100")
            .append_pair("since_id", "1346889436626259968")
            .append_pair("tweet.fields", "author_id,created_at,conversation_id");
        let h = keys().authorization("GET", &u2, &[], NONCE, TIME);
        assert_eq!(signature_of(&h), "6ZKmc5PLELWZGSgkRN6xyqgVoFQ=");
    }

    #[test]
    fn header_format() {
        let url = Url::parse("https://api.x.com/2/tweets").expect("url");
        let h = keys().authorization("POST", &url, &[], NONCE, TIME);
        assert!(h.starts_with("OAuth oauth_consumer_key=\"xvz1evFS4wEEPTGEFPHBog\", oauth_nonce="));
        assert!(
            h.contains("oauth_signature=\"lr%2BtV%2FDKclEvXKVjG6tgaSSLV0k%3D\""),
            "{h}"
        );
        assert!(h.ends_with("oauth_version=\"1.0\""));
        assert_eq!(parse_oauth_header(&h).expect("parse").len(), 7);
        assert_eq!(parse_oauth_header("Bearer abc"), None);
    }

    #[test]
    fn base_uri_drops_default_port_and_query() {
        let u = Url::parse("HTTPS://API.X.COM:443/2/tweets?a=b#f").expect("url");
        assert_eq!(base_string_uri(&u), "https://api.x.com/2/tweets");
        let u = Url::parse("http://127.0.0.1:8080/2/tweets").expect("url");
        assert_eq!(base_string_uri(&u), "http://127.0.0.1:8080/2/tweets");
    }

    #[test]
    fn pkce_rfc7636_vector() {
        assert_eq!(
            pkce_challenge("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        );
    }

    #[test]
    fn fingerprint_is_sha256_hex() {
        assert_eq!(
            fingerprint("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
