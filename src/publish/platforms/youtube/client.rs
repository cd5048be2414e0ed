//! [`YoutubePublisher`]: a news item reaches YouTube only as a video upload
//! (contract §1: there is no community-post API), so items without a video
//! are skipped.
//!
//! Owns: composing title and description ([`compose`], a stand-in until the
//! text module takes over), fetching the attachment with a size cap, the
//! upload (via `upload`), reconciliation through the uploads playlist, and
//! deletion. Every failure is classified where it happens; nothing here
//! retries or sleeps.

use super::auth::GoogleAuth;
use super::config::YoutubeSettings;
use super::upload::{Upload, UploadSessions, join};
use super::wire::{
    self, Call, ChannelList, InsertSnippet, InsertStatus, PlaylistItemList, VideoInsert,
};
use crate::config::Account;
use crate::publish::{DeliveryError, Outgoing, Platform, Posted, Publisher, Rendered};
use async_trait::async_trait;
use bytes::{Bytes, BytesMut};
use chrono::{Duration, Utc};
use futures_util::StreamExt;
use std::sync::Arc;
use std::time::Duration as StdDuration;
use url::Url;

/// Longest title, in characters.
pub const TITLE_MAX_CHARS: usize = 100;
/// Longest description, in UTF-8 bytes.
pub const DESCRIPTION_MAX_BYTES: usize = 5_000;
/// Uploads older than `post.since` minus this are not adopted by `find`.
const FIND_SLACK: Duration = Duration::minutes(2);
/// Pages of the uploads playlist `find` reads at most (50 videos each).
const FIND_MAX_PAGES: usize = 10;

/// The reason given for items without a video.
pub const NO_VIDEO: &str = "no video attachment: YouTube carries news only as video uploads";

/// A YouTube channel account.
pub struct YoutubePublisher {
    pub(super) account: Account,
    pub(super) settings: YoutubeSettings,
    pub(super) base_url: Url,
    pub(super) http: reqwest::Client,
    pub(super) api_timeout: StdDuration,
    pub(super) auth: GoogleAuth,
    pub(super) sessions: Arc<dyn UploadSessions>,
}

impl std::fmt::Debug for YoutubePublisher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("YoutubePublisher")
            .field("account", &self.account.id)
            .field("base_url", &self.base_url.as_str())
            .finish_non_exhaustive()
    }
}

/// `<` and `>` are refused in titles and descriptions: use look-alikes.
fn clean(s: &str) -> String {
    s.replace('<', "‹").replace('>', "›")
}

/// The longest prefix of `s` of at most `max` bytes, on a char boundary.
fn cut_bytes(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

/// Title and description of the video. PLACEHOLDER for the text module: the
/// one function to swap at merge.
///
/// - title: the item title, `<>` replaced, whitespace collapsed, at most 100
///   characters (cut with `…`); the link when the title is blank;
/// - description: summary + `"\n\n"` + link (+ `"\n\n"` + `#tags`), at most
///   5,000 UTF-8 bytes: the summary is cut (with `…`) to fit, never a char
///   split; the link always survives (reconciliation looks for it).
fn compose(post: &Outgoing, account: &Account) -> Rendered {
    let collapsed = clean(&post.title)
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    let base = if collapsed.is_empty() {
        clean(&post.link)
    } else {
        collapsed
    };
    // At most 100 characters, cut at a word boundary, no angle brackets.
    let title = crate::publish::text::youtube_title(&base);

    let mut tags: Vec<String> = Vec::new();
    for t in account.hashtags.iter().chain(&post.hashtags) {
        let t: String = clean(t.trim_start_matches('#'))
            .chars()
            .filter(|c| !c.is_whitespace())
            .collect();
        if !t.is_empty() && !tags.contains(&t) {
            tags.push(t);
        }
    }
    let mut tail = clean(&post.link);
    if !tags.is_empty() {
        let line = tags
            .iter()
            .map(|t| format!("#{t}"))
            .collect::<Vec<_>>()
            .join(" ");
        if tail.len() + 2 + line.len() <= DESCRIPTION_MAX_BYTES {
            tail = format!("{tail}\n\n{line}");
        }
    }
    let summary = clean(post.summary.trim());
    let description = if summary.is_empty() {
        cut_bytes(&tail, DESCRIPTION_MAX_BYTES).to_string()
    } else if summary.len() + 2 + tail.len() <= DESCRIPTION_MAX_BYTES {
        format!("{summary}\n\n{tail}")
    } else {
        let budget = DESCRIPTION_MAX_BYTES.saturating_sub(tail.len() + 2 + '…'.len_utf8());
        let cut = cut_bytes(&summary, budget).trim_end();
        if cut.is_empty() {
            cut_bytes(&tail, DESCRIPTION_MAX_BYTES).to_string()
        } else {
            format!("{cut}…\n\n{tail}")
        }
    };
    Rendered {
        length: description.len(),
        limit: DESCRIPTION_MAX_BYTES,
        text: description,
        title: Some(title),
    }
}

impl YoutubePublisher {
    fn resource(&self, r: &Rendered, post: &Outgoing) -> VideoInsert {
        let mut tags: Vec<String> = Vec::new();
        let mut total = 0;
        for t in self.account.hashtags.iter().chain(&post.hashtags) {
            let t = clean(t.trim_start_matches('#'));
            // About 500 characters of tags in all (contract §1, unconfirmed).
            if t.is_empty() || tags.contains(&t) || total + t.chars().count() > 450 {
                continue;
            }
            total += t.chars().count() + 1;
            tags.push(t);
        }
        VideoInsert {
            snippet: InsertSnippet {
                title: r.title.clone().unwrap_or_default(),
                description: r.text.clone(),
                tags,
                category_id: self.settings.category_id.clone(),
                default_language: self.account.lang.tag().to_string(),
            },
            status: InsertStatus {
                privacy_status: self.settings.privacy_status.as_str().to_string(),
                self_declared_made_for_kids: false,
            },
        }
    }

    /// Download the attachment, streaming, refusing more than
    /// `max_video_bytes`. YouTube was not called yet, so every failure is
    /// `Transient` (our portal's file server) or `Permanent` (4xx, too big).
    async fn fetch_video(&self, url: &str) -> Result<Bytes, DeliveryError> {
        let max = self.settings.max_video_bytes;
        let url = Url::parse(url).map_err(|e| DeliveryError::Permanent {
            detail: format!("video attachment: invalid URL: {e}"),
        })?;
        let fail = |e: reqwest::Error| DeliveryError::Transient {
            detail: format!(
                "video download: {}",
                wire::classify_transport(&e, Call::Read, "GET")
            ),
        };
        let resp = self
            .http
            .get(url)
            .timeout(self.settings.upload_timeout)
            .send()
            .await
            .map_err(fail)?;
        let status = resp.status();
        if !status.is_success() {
            let detail = format!("video download: HTTP {status}");
            return Err(if status.is_server_error() || status.as_u16() == 429 {
                DeliveryError::Transient { detail }
            } else {
                DeliveryError::Permanent { detail }
            });
        }
        let too_big = |n: u64| DeliveryError::Permanent {
            detail: format!("video attachment is {n} bytes or more, above max_video_bytes = {max}"),
        };
        if let Some(n) = resp.content_length().filter(|n| *n > max) {
            return Err(too_big(n));
        }
        let mut buf = BytesMut::with_capacity(resp.content_length().unwrap_or(0) as usize);
        let mut stream = resp.bytes_stream();
        while let Some(chunk) = stream.next().await {
            let chunk = chunk.map_err(fail)?;
            if (buf.len() + chunk.len()) as u64 > max {
                return Err(too_big((buf.len() + chunk.len()) as u64));
            }
            buf.extend_from_slice(&chunk);
        }
        if buf.is_empty() {
            return Err(DeliveryError::Permanent {
                detail: "video attachment is empty".into(),
            });
        }
        Ok(buf.freeze())
    }

    /// A GET on the data API, classified as a read.
    async fn get_json<T: serde::de::DeserializeOwned>(
        &self,
        path: &str,
        query: &[(&str, &str)],
    ) -> Result<T, DeliveryError> {
        let mut url = join(&self.base_url, path);
        url.query_pairs_mut().extend_pairs(query);
        let token = self.auth.access_token().await?;
        let what = format!("GET /{path}");
        let resp = self
            .http
            .get(url)
            .bearer_auth(token.expose())
            .timeout(self.api_timeout)
            .send()
            .await
            .map_err(|e| wire::classify_transport(&e, Call::Read, &what))?;
        let status = resp.status();
        let body = resp
            .bytes()
            .await
            .map_err(|e| wire::classify_transport(&e, Call::Read, &what))?;
        if !status.is_success() {
            return Err(wire::classify(
                status.as_u16(),
                &body,
                Call::Read,
                Utc::now(),
            ));
        }
        serde_json::from_slice(&body).map_err(|e| DeliveryError::Transient {
            detail: format!("{what}: unreadable answer: {e}"),
        })
    }

    fn posted(id: String) -> Posted {
        Posted {
            url: format!("https://www.youtube.com/watch?v={id}"),
            id,
        }
    }
}

#[async_trait]
impl Publisher for YoutubePublisher {
    fn account_id(&self) -> &str {
        &self.account.id
    }

    fn platform(&self) -> Platform {
        Platform::Youtube
    }

    fn skip_reason(&self, post: &Outgoing) -> Option<String> {
        post.video.is_none().then(|| NO_VIDEO.to_string())
    }

    fn render(&self, post: &Outgoing) -> Result<Rendered, DeliveryError> {
        Ok(compose(post, &self.account))
    }

    async fn publish(&self, post: &Outgoing) -> Result<Posted, DeliveryError> {
        let Some(media) = &post.video else {
            return Err(DeliveryError::Permanent {
                detail: NO_VIDEO.into(),
            });
        };
        let rendered = compose(post, &self.account);
        let resource = self.resource(&rendered, post);
        let video = self.fetch_video(&media.url).await?;
        let content_type = if media.mime_type.starts_with("video/") {
            media.mime_type.as_str()
        } else {
            "application/octet-stream"
        };
        let upload = Upload {
            http: &self.http,
            auth: &self.auth,
            sessions: self.sessions.as_ref(),
            upload_base: &self.settings.upload_base,
            chunk_size: self.settings.chunk_size,
            api_timeout: self.api_timeout,
            chunk_timeout: self.settings.upload_timeout,
            job: post.job_id,
            account_id: &self.account.id,
        };
        let v = upload.run(&resource, content_type, &video).await?;
        tracing::info!(account = %self.account.id, job = %post.job_id, video = %v.id, "youtube video uploaded");
        Ok(Self::posted(v.id))
    }

    /// The uploads playlist, newest first, page by page, until an upload
    /// older than `post.since − 2 min`: a video whose description carries the
    /// link, or whose title equals the composed title.
    async fn find(&self, post: &Outgoing) -> Result<Option<Posted>, DeliveryError> {
        let channels: ChannelList = self
            .get_json("channels", &[("part", "contentDetails"), ("mine", "true")])
            .await?;
        let Some(uploads) = channels
            .items
            .into_iter()
            .find_map(|c| c.content_details?.related_playlists.uploads)
        else {
            return Err(DeliveryError::Permanent {
                detail: "channels.list mine=true: no channel with an uploads playlist".into(),
            });
        };
        let title = compose(post, &self.account).title.unwrap_or_default();
        let since = post.since - FIND_SLACK;
        let mut page: Option<String> = None;
        for _ in 0..FIND_MAX_PAGES {
            let mut q = vec![
                ("part", "snippet"),
                ("playlistId", uploads.as_str()),
                ("maxResults", "50"),
            ];
            if let Some(p) = &page {
                q.push(("pageToken", p.as_str()));
            }
            let list: PlaylistItemList = self.get_json("playlistItems", &q).await?;
            let mut older = false;
            for item in list.items {
                let s = item.snippet;
                match s.published_at {
                    Some(at) if at < since => {
                        older = true;
                        continue;
                    }
                    _ => {}
                }
                let matches = (!post.link.is_empty() && s.description.contains(&post.link))
                    || (!title.is_empty() && s.title == title);
                if let (true, Some(id)) = (matches, s.resource_id.video_id) {
                    return Ok(Some(Self::posted(id)));
                }
            }
            match list.next_page_token {
                Some(t) if !older => page = Some(t),
                _ => return Ok(None),
            }
        }
        Ok(None)
    }

    /// `DELETE /videos?id=…` → 204. A 404 counts as done: the video is gone,
    /// which is what was asked (a retry after an `Unknown` delete sees it).
    async fn delete(&self, post_id: &str) -> Result<(), DeliveryError> {
        let mut url = join(&self.base_url, "videos");
        url.query_pairs_mut().append_pair("id", post_id);
        let token = self.auth.access_token().await?;
        let resp = self
            .http
            .delete(url)
            .bearer_auth(token.expose())
            .timeout(self.api_timeout)
            .send()
            .await
            .map_err(|e| wire::classify_transport(&e, Call::Write, "DELETE /videos"))?;
        let status = resp.status();
        let body = resp
            .bytes()
            .await
            .map_err(|e| wire::classify_transport(&e, Call::Write, "DELETE /videos"))?;
        match status.as_u16() {
            200..=299 | 404 => Ok(()),
            s => Err(wire::classify(s, &body, Call::Write, Utc::now())),
        }
    }

    async fn refresh_auth(&self) -> Result<(), DeliveryError> {
        self.auth.refresh().await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{ItemId, Lang, Media, MediaKind};
    use crate::publish::JobId;

    fn account(hashtags: &[&str]) -> Account {
        Account {
            id: "yt-ar".into(),
            platform: Platform::Youtube,
            lang: Lang::Ar,
            base_url: None,
            template: None,
            hashtags: hashtags.iter().map(|s| s.to_string()).collect(),
            delete_on_retract: true,
            enabled: true,
            settings: toml::Table::new(),
        }
    }

    fn post(title: &str, summary: &str) -> Outgoing {
        Outgoing {
            job_id: JobId::new(),
            item_id: ItemId::new(),
            lang: Lang::Ar,
            title: title.into(),
            summary: summary.into(),
            link: "https://portal.example/ar/news/1".into(),
            hashtags: vec!["عمان".into()],
            image: None,
            video: Some(Media {
                kind: MediaKind::Video,
                url: "http://127.0.0.1:1/v.mp4".into(),
                mime_type: "video/mp4".into(),
                length: None,
            }),
            since: Utc::now(),
        }
    }

    #[test]
    fn short_posts_are_composed_whole() {
        let r = compose(&post("عنوان <الخبر>", "ملخص"), &account(&["news", "عمان"]));
        assert_eq!(r.title.as_deref(), Some("عنوان ‹الخبر›"));
        assert_eq!(
            r.text,
            "ملخص\n\nhttps://portal.example/ar/news/1\n\n#news #عمان"
        );
        assert_eq!(r.length, r.text.len());
        assert_eq!(r.limit, 5_000);
    }

    #[test]
    fn arabic_description_is_measured_in_bytes() {
        // 3,000 Arabic letters = 6,000 bytes: over the limit though only
        // 3,000 characters.
        let summary = "ب".repeat(3_000);
        let r = compose(&post("t", &summary), &account(&[]));
        assert_eq!(r.text.len(), DESCRIPTION_MAX_BYTES);
        // 2,476 letters + `…` + "\n\n" + link (32) + "\n\n" + "#عمان" (5 chars).
        assert_eq!(r.text.chars().count(), 2_476 + 1 + 2 + 32 + 2 + 5);
        assert!(
            r.text
                .ends_with("\n\nhttps://portal.example/ar/news/1\n\n#عمان")
        );
        assert!(r.text.contains("ب…\n\n"));
        assert_eq!(r.length, r.text.len());
        // After one ASCII byte the budget ends inside a 2-byte letter: the
        // letter is dropped whole, leaving the text one byte short.
        let summary = format!("a{}", "ب".repeat(3_000));
        let r2 = compose(&post("t", &summary), &account(&[]));
        assert_eq!(r2.text.len(), DESCRIPTION_MAX_BYTES - 1);
        assert!(r2.text.starts_with("aب"));
    }

    #[test]
    fn long_titles_are_cut_to_100_characters() {
        let title = "خ".repeat(150);
        let r = compose(&post(&title, ""), &account(&[]));
        let t = r.title.unwrap();
        assert_eq!(t.chars().count(), 100);
        assert!(t.ends_with('…'));
        assert_eq!(r.text, "https://portal.example/ar/news/1\n\n#عمان");
        // Exactly 100 characters are kept as they are.
        let t100 = "x".repeat(100);
        assert_eq!(
            compose(&post(&t100, ""), &account(&[])).title.unwrap(),
            t100
        );
        // A blank title falls back to the link.
        assert_eq!(
            compose(&post("  ", ""), &account(&[])).title.unwrap(),
            "https://portal.example/ar/news/1"
        );
    }

    #[test]
    fn no_angle_brackets_anywhere() {
        let r = compose(&post("<b>x</b>", "a < b > c"), &account(&["<script>"]));
        assert!(!r.text.contains(['<', '>']));
        assert!(!r.title.unwrap().contains(['<', '>']));
    }
}
