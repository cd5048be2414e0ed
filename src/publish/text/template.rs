//! Post templates and composing posts within each platform's limit.
//!
//! A [`Template`] is text with placeholders `{title}`, `{summary}`, `{link}`
//! and `{hashtags}` (`{{` and `}}` for literal braces), for example
//! `"{title}\n\n{link} {hashtags}"`. Anything else in braces is a parse error,
//! so config validation catches typos.
//!
//! Rendering trims each line and the whole post and collapses runs of blank
//! lines to one, so an empty field leaves no dangling spaces or gaps.
//!
//! Composing ([`compose_x`], [`compose_facebook`]) fits the rendered post to
//! a limit: the summary is shortened first (word boundary + "…", possibly to
//! nothing), then the title. The link and hashtags are never cut: if even an
//! empty title and summary do not fit, trailing hashtags are dropped whole,
//! one at a time; if the link alone does not fit, composing fails.
//!
//! YouTube: [`youtube_title`] (≤ 100 characters, counted as Unicode scalar
//! values, which is how YouTube's "100 characters" is documented and how its
//! API validates; an emoji outside the BMP counts 1) and
//! [`youtube_description`] (≤ 5,000 UTF-8 bytes, so about 2,500 Arabic
//! letters). Neither may contain `<` or `>`: they are replaced by the
//! look-alike single angle quotation marks `‹` (U+2039) and `›` (U+203A),
//! which YouTube accepts, rather than removed, so "a < b" keeps its sense.
//!
//! No bidi control characters are ever added (see the module
//! documentation of [`crate::publish::text`]).

use super::truncate::truncate_to_fit;
use super::twitter::{TwitterTextConfig, weighted_length};
use super::url::utf16_len;
use std::fmt;
use std::str::FromStr;

/// Facebook Page post `message` limit (widely cited; measured here in UTF-16
/// code units, which is never less than the character count).
pub const FACEBOOK_MESSAGE_LIMIT: usize = 63_206;
/// YouTube `snippet.title` limit, in characters (Unicode scalar values).
pub const YOUTUBE_TITLE_LIMIT: usize = 100;
/// YouTube `snippet.description` limit, in UTF-8 bytes.
pub const YOUTUBE_DESCRIPTION_LIMIT: usize = 5_000;

/// A placeholder in a [`Template`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Placeholder {
    /// `{title}`: shortened second.
    Title,
    /// `{summary}`: shortened first.
    Summary,
    /// `{link}`: never cut.
    Link,
    /// `{hashtags}`: space-separated `#tags`, dropped whole from the end.
    Hashtags,
}

impl Placeholder {
    fn from_name(name: &str) -> Option<Self> {
        match name {
            "title" => Some(Self::Title),
            "summary" => Some(Self::Summary),
            "link" => Some(Self::Link),
            "hashtags" => Some(Self::Hashtags),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Segment {
    Text(String),
    Field(Placeholder),
}

/// Why a template string was rejected. Offsets are in bytes.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TemplateError {
    /// `{name}` where name is not one of the four placeholders.
    #[error(
        "unknown placeholder {{{name}}} at byte {at}; use {{title}}, {{summary}}, {{link}} or {{hashtags}}"
    )]
    UnknownPlaceholder {
        /// The name between the braces.
        name: String,
        /// Where the `{` is.
        at: usize,
    },
    /// A `{` without its `}`.
    #[error("unclosed '{{' at byte {at} (write '{{{{' for a literal brace)")]
    Unclosed {
        /// Where the `{` is.
        at: usize,
    },
    /// A `}` that closes nothing.
    #[error("unmatched '}}' at byte {at} (write '}}}}' for a literal brace)")]
    UnmatchedClose {
        /// Where the `}` is.
        at: usize,
    },
}

/// A parsed post template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Template {
    source: String,
    segments: Vec<Segment>,
}

impl Template {
    /// Parse `source`; see the module documentation for the syntax.
    pub fn parse(source: &str) -> Result<Self, TemplateError> {
        let mut segments = Vec::new();
        let mut text = String::new();
        let mut chars = source.char_indices().peekable();
        while let Some((at, c)) = chars.next() {
            match c {
                '{' if chars.next_if(|&(_, c)| c == '{').is_some() => text.push('{'),
                '}' if chars.next_if(|&(_, c)| c == '}').is_some() => text.push('}'),
                '}' => return Err(TemplateError::UnmatchedClose { at }),
                '{' => {
                    let rest = &source[at + 1..];
                    let close = rest.find('}').ok_or(TemplateError::Unclosed { at })?;
                    let name = &rest[..close];
                    if name.contains('{') {
                        return Err(TemplateError::Unclosed { at });
                    }
                    let field = Placeholder::from_name(name.trim()).ok_or_else(|| {
                        TemplateError::UnknownPlaceholder {
                            name: name.to_owned(),
                            at,
                        }
                    })?;
                    if !text.is_empty() {
                        segments.push(Segment::Text(std::mem::take(&mut text)));
                    }
                    segments.push(Segment::Field(field));
                    while chars.next_if(|&(i, _)| i <= at + 1 + close).is_some() {}
                }
                c => text.push(c),
            }
        }
        if !text.is_empty() {
            segments.push(Segment::Text(text));
        }
        Ok(Self {
            source: source.to_owned(),
            segments,
        })
    }

    /// The template as written.
    pub fn source(&self) -> &str {
        &self.source
    }

    /// Whether the template uses `field`.
    pub fn uses(&self, field: Placeholder) -> bool {
        self.segments.contains(&Segment::Field(field))
    }

    /// Fill the placeholders (`hashtags` already joined, see
    /// [`format_hashtags`]) and tidy the whitespace.
    pub fn render(&self, title: &str, summary: &str, link: &str, hashtags: &str) -> String {
        let mut out = String::new();
        for segment in &self.segments {
            out.push_str(match segment {
                Segment::Text(text) => text,
                Segment::Field(Placeholder::Title) => title,
                Segment::Field(Placeholder::Summary) => summary,
                Segment::Field(Placeholder::Link) => link,
                Segment::Field(Placeholder::Hashtags) => hashtags,
            });
        }
        tidy(&out)
    }
}

impl FromStr for Template {
    type Err = TemplateError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl fmt::Display for Template {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.source)
    }
}

/// Trim every line and the whole text; at most one blank line in a row.
fn tidy(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut blank_run = 0;
    for line in text.trim().lines().map(str::trim) {
        if line.is_empty() {
            blank_run += 1;
            if blank_run > 1 {
                continue;
            }
        } else {
            blank_run = 0;
        }
        if !out.is_empty() || !line.is_empty() {
            out.push_str(line);
            out.push('\n');
        }
    }
    out.truncate(out.trim_end().len());
    out
}

/// One hashtag per entry: trimmed, inner white space as `_`, `#` added when
/// missing, empty entries skipped.
pub fn hashtag_list<S: AsRef<str>>(hashtags: &[S]) -> Vec<String> {
    hashtags
        .iter()
        .map(|tag| {
            let words: Vec<&str> = tag.as_ref().split_whitespace().collect();
            words.join("_")
        })
        .filter(|tag| !tag.trim_start_matches(['#', '＃']).is_empty())
        .map(|tag| {
            if tag.starts_with(['#', '＃']) {
                tag
            } else {
                format!("#{tag}")
            }
        })
        .collect()
}

/// The hashtags as they appear in a post: see [`hashtag_list`], joined by spaces.
pub fn format_hashtags<S: AsRef<str>>(hashtags: &[S]) -> String {
    hashtag_list(hashtags).join(" ")
}

/// Why a post could not be composed within its limit.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ComposeError {
    /// Even with no title, summary or hashtags the post is over the limit.
    #[error(
        "the post without title, summary and hashtags measures {length}, over the limit of {max}"
    )]
    LinkTooLong {
        /// Length of the template with only the link filled in.
        length: usize,
        /// The limit.
        max: usize,
    },
}

/// Fit the post to `max` as the module documentation describes.
fn compose(
    template: &Template,
    title: &str,
    summary: &str,
    link: &str,
    hashtags: &[String],
    max: usize,
    measure: &dyn Fn(&str) -> usize,
) -> Result<String, ComposeError> {
    let (title, summary, link) = (title.trim(), summary.trim(), link.trim());
    for kept in (0..=hashtags.len()).rev() {
        let tags = hashtags[..kept].join(" ");
        let render = |t: &str, s: &str| template.render(t, s, link, &tags);
        if measure(&render("", "")) > max {
            continue;
        }
        let whole = render(title, summary);
        if measure(&whole) <= max {
            return Ok(whole);
        }
        if measure(&render(title, "")) <= max {
            let summary = truncate_to_fit(summary, max, |s| measure(&render(title, s)));
            return Ok(render(title, &summary));
        }
        let title = truncate_to_fit(title, max, |t| measure(&render(t, "")));
        return Ok(render(&title, ""));
    }
    Err(ComposeError::LinkTooLong {
        length: measure(&template.render("", "", link, "")),
        max,
    })
}

/// Compose a post for X whose weighted length (under `config`) is at most
/// `max_weighted` (280 for ordinary accounts).
pub fn compose_x<S: AsRef<str>>(
    template: &Template,
    title: &str,
    summary: &str,
    link: &str,
    hashtags: &[S],
    max_weighted: usize,
    config: &TwitterTextConfig,
) -> Result<String, ComposeError> {
    let measure = |s: &str| weighted_length(s, config).weighted_length;
    compose(
        template,
        title,
        summary,
        link,
        &hashtag_list(hashtags),
        max_weighted,
        &measure,
    )
}

/// Compose a Facebook Page post within [`FACEBOOK_MESSAGE_LIMIT`].
pub fn compose_facebook<S: AsRef<str>>(
    template: &Template,
    title: &str,
    summary: &str,
    link: &str,
    hashtags: &[S],
) -> Result<String, ComposeError> {
    compose(
        template,
        title,
        summary,
        link,
        &hashtag_list(hashtags),
        FACEBOOK_MESSAGE_LIMIT,
        &utf16_len,
    )
}

/// Replace `<` and `>`, which YouTube rejects in titles and descriptions.
fn replace_angle_brackets(text: &str) -> String {
    text.replace('<', "\u{2039}").replace('>', "\u{203A}")
}

/// A YouTube video title: one line, no angle brackets, at most
/// [`YOUTUBE_TITLE_LIMIT`] characters (word boundary + "…" when cut).
/// Empty when `title` is blank; YouTube needs a title, so check.
pub fn youtube_title(title: &str) -> String {
    let one_line = title.split_whitespace().collect::<Vec<_>>().join(" ");
    truncate_to_fit(
        &replace_angle_brackets(&one_line),
        YOUTUBE_TITLE_LIMIT,
        |s| s.chars().count(),
    )
}

/// A YouTube video description: no angle brackets, at most
/// [`YOUTUBE_DESCRIPTION_LIMIT`] UTF-8 bytes (word boundary + "…" when cut,
/// never inside a grapheme cluster).
pub fn youtube_description(text: &str) -> String {
    truncate_to_fit(
        &tidy(&replace_angle_brackets(text)),
        YOUTUBE_DESCRIPTION_LIMIT,
        str::len,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::publish::text::x_length;

    fn t(s: &str) -> Template {
        Template::parse(s).expect("template")
    }

    #[test]
    fn parses_placeholders_and_escapes() {
        let tpl = t("{title}\n\n{link} {hashtags} {{x}}");
        assert!(tpl.uses(Placeholder::Title) && tpl.uses(Placeholder::Hashtags));
        assert!(!tpl.uses(Placeholder::Summary));
        assert_eq!(
            tpl.render("T", "S", "https://a.om", "#x"),
            "T\n\nhttps://a.om #x {x}"
        );
        assert_eq!(tpl.to_string(), "{title}\n\n{link} {hashtags} {{x}}");
    }

    #[test]
    fn rejects_bad_templates() {
        assert_eq!(
            Template::parse("{title} {url}"),
            Err(TemplateError::UnknownPlaceholder {
                name: "url".into(),
                at: 8
            })
        );
        assert_eq!(
            Template::parse("{title"),
            Err(TemplateError::Unclosed { at: 0 })
        );
        assert_eq!(
            Template::parse("a } b"),
            Err(TemplateError::UnmatchedClose { at: 2 })
        );
        assert!("{Title}".parse::<Template>().is_err());
        let err = Template::parse("{url}").expect_err("unknown").to_string();
        assert!(err.contains("{url}") && err.contains("{title}"), "{err}");
    }

    #[test]
    fn empty_fields_leave_no_gaps() {
        let tpl = t("{title}\n\n{summary}\n\n{link} {hashtags}");
        assert_eq!(tpl.render("T", "", "L", ""), "T\n\nL");
        assert_eq!(tpl.render("", "", "L", "#a"), "L #a");
    }

    #[test]
    fn hashtags_are_normalised() {
        assert_eq!(
            format_hashtags(&["عمان", "#Oman", " Vision 2040 ", "", "#"]),
            "#عمان #Oman #Vision_2040"
        );
    }

    #[test]
    fn compose_x_keeps_everything_that_fits() {
        let tpl = t("{title}\n\n{summary}\n\n{link} {hashtags}");
        let v3 = TwitterTextConfig::v3();
        let post = compose_x(
            &tpl,
            "عنوان",
            "ملخص",
            "https://www.oman.om/n/1",
            &["عمان"],
            280,
            &v3,
        )
        .expect("fits");
        assert_eq!(post, "عنوان\n\nملخص\n\nhttps://www.oman.om/n/1 #عمان");
    }

    #[test]
    fn compose_x_shortens_summary_then_title() {
        let tpl = t("{title}\n\n{summary}\n\n{link} {hashtags}");
        let v3 = TwitterTextConfig::v3();
        let link = "https://www.oman.om/ar/news/2026/05/a-very-long-path-that-counts-as-23";
        let title = "وزارة الاقتصاد تُعلن نتائج المسح السنوي"; // 39
        let summary = "أعلنت الوزارة اليوم ".repeat(30);
        let post =
            compose_x(&tpl, title, &summary, link, &["عمان", "اقتصاد"], 280, &v3).expect("fits");
        assert!(x_length(&post) <= 280, "{}", x_length(&post));
        assert!(
            x_length(&post) >= 270,
            "should use the budget: {}",
            x_length(&post)
        );
        assert!(post.starts_with(title));
        assert!(post.contains("…\n\n"));
        assert!(post.ends_with(&format!("{link} #عمان #اقتصاد")));

        // A title too long on its own: summary dropped, title cut.
        let long_title = "كلمة ".repeat(100);
        let post = compose_x(&tpl, &long_title, &summary, link, &["عمان"], 280, &v3).expect("fits");
        assert!(x_length(&post) <= 280);
        assert!(!post.contains("أعلنت"));
        assert!(post.contains("كلمة…\n\n"));
        assert!(post.ends_with(&format!("{link} #عمان")));
    }

    #[test]
    fn compose_x_exact_budget() {
        let tpl = t("{title} {link}");
        let v3 = TwitterTextConfig::v3();
        // "abcde " (6) + URL (23) = 29.
        let post = compose_x(
            &tpl,
            "abcde",
            "",
            "https://example.com/x",
            &[] as &[&str],
            29,
            &v3,
        );
        assert_eq!(post.as_deref(), Ok("abcde https://example.com/x"));
        let post = compose_x(
            &tpl,
            "ab cde",
            "",
            "https://example.com/x",
            &[] as &[&str],
            29,
            &v3,
        );
        // 30 does not fit: "ab…" (2 + 2 for the ellipsis) + space + 23 = 28.
        assert_eq!(post.as_deref(), Ok("ab… https://example.com/x"));
    }

    #[test]
    fn compose_x_drops_hashtags_whole_then_fails() {
        let tpl = t("{title} {link} {hashtags}");
        let v3 = TwitterTextConfig::v3();
        let link = "https://example.com/x";
        // Link 23 + " #aaaa" (6) + " #bbbb" (6) = 35.
        let post = compose_x(&tpl, "Title", "", link, &["aaaa", "bbbb"], 30, &v3);
        assert_eq!(post.as_deref(), Ok("https://example.com/x #aaaa"));
        let post = compose_x(&tpl, "Title", "", link, &["aaaa", "bbbb"], 23, &v3);
        assert_eq!(post.as_deref(), Ok("https://example.com/x"));
        let err = compose_x(&tpl, "Title", "", link, &["aaaa"], 22, &v3);
        assert_eq!(
            err,
            Err(ComposeError::LinkTooLong {
                length: 23,
                max: 22
            })
        );
    }

    #[test]
    fn compose_facebook_limit() {
        let tpl = t("{title}\n\n{summary}\n\n{link}");
        let summary = "نص ".repeat(30_000);
        let post = compose_facebook(&tpl, "عنوان", &summary, "https://a.om/x", &[] as &[&str])
            .expect("fits");
        assert!(utf16_len(&post) <= FACEBOOK_MESSAGE_LIMIT);
        assert!(utf16_len(&post) > FACEBOOK_MESSAGE_LIMIT - 10);
        assert!(post.ends_with("…\n\nhttps://a.om/x"));
    }

    #[test]
    fn youtube_title_limits() {
        assert_eq!(youtube_title("a <b> c\nd"), "a ‹b› c d");
        let title = "عنوان ".repeat(30); // 180 characters
        let out = youtube_title(&title);
        assert!(out.chars().count() <= YOUTUBE_TITLE_LIMIT);
        assert!(out.ends_with("عنوان…"));
        // Exactly 100 characters is kept.
        let exact = "a".repeat(100);
        assert_eq!(youtube_title(&exact), exact);
        assert!(!youtube_title(&"<".repeat(200)).contains('<'));
    }

    #[test]
    fn youtube_description_is_measured_in_bytes() {
        // 3,000 Arabic letters are 3,000 characters but 6,000 bytes.
        let text = "سلام ".repeat(750);
        assert_eq!(text.chars().count(), 3_750);
        let out = youtube_description(&text);
        assert!(out.len() <= YOUTUBE_DESCRIPTION_LIMIT, "{}", out.len());
        assert!(out.len() > YOUTUBE_DESCRIPTION_LIMIT - 12);
        assert!(out.ends_with("سلام…"));
        // Angle brackets replaced, short text kept.
        assert_eq!(youtube_description("x <y>"), "x ‹y›");
        // Never splits a grapheme: one 5,001-byte word of voweled letters.
        let word = "بَ".repeat(1_250) + "x";
        let out = youtube_description(&word);
        assert!(out.len() <= YOUTUBE_DESCRIPTION_LIMIT);
        assert!(out.trim_end_matches('…').ends_with("بَ"));
    }
}
