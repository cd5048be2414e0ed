//! Text and HTML clean-up for upstream entries.
//!
//! Titles become plain text: tags stripped, entities decoded, whitespace
//! (including no-break spaces) collapsed and trimmed. Bodies become
//! sanitized HTML through `ammonia`: basic formatting, links (with
//! `rel="noopener noreferrer"`) and images survive; scripts, styles, event
//! handlers and `javascript:` URLs do not; relative URLs are made absolute
//! against the entry's base. All text is normalized to Unicode NFC, which
//! composes but never removes Arabic diacritics (harakat).

use std::sync::LazyLock;
use unicode_normalization::UnicodeNormalization;
use url::Url;

/// Plain text of an HTML fragment (tags stripped, entities decoded).
pub fn html_to_text(html: &str) -> String {
    static STRIP: LazyLock<ammonia::Builder<'static>> = LazyLock::new(|| {
        let mut b = ammonia::Builder::empty();
        b.clean_content_tags(
            ["script", "style", "template", "noscript"]
                .into_iter()
                .collect(),
        );
        b
    });
    // ammonia serializes text escaping exactly `&`, `<`, `>` and U+00A0.
    let escaped = STRIP.clean(html).to_string();
    let decoded = escaped
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&nbsp;", " ")
        .replace("&quot;", "\"")
        .replace("&amp;", "&");
    collapse(&decoded)
}

/// Collapse every run of whitespace (no-break spaces included) into one
/// space, trim, and normalize to NFC.
pub fn collapse(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for word in text.split(|c: char| c.is_whitespace() || c == '\u{a0}' || c == '\u{200b}') {
        if word.is_empty() {
            continue;
        }
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(word);
    }
    out.nfc().collect()
}

/// Escape plain text so it reads the same when embedded in HTML.
pub fn escape_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

/// Sanitize an HTML fragment, resolving relative URLs against `base`.
/// Returns trimmed, NFC-normalized HTML; empty when nothing is left.
pub fn sanitize_html(html: &str, base: &Url) -> String {
    let mut b = ammonia::Builder::default();
    b.url_relative(ammonia::UrlRelative::RewriteWithBase(base.clone()))
        .link_rel(Some("noopener noreferrer"))
        .url_schemes(["http", "https", "mailto", "tel"].into_iter().collect())
        .add_tag_attributes("img", ["src", "alt", "width", "height", "title"])
        .add_tag_attributes("a", ["href", "title"]);
    let cleaned = b.clean(html).to_string();
    let cleaned: String = cleaned.nfc().collect();
    let trimmed = cleaned.trim();
    // Markup with no text and no image (e.g. `<p> </p>`) counts as empty.
    if html_to_text(trimmed).is_empty() && !trimmed.contains("<img") {
        return String::new();
    }
    trimmed.to_string()
}

/// Plain text rendered as HTML: escaped, with paragraphs for blank lines.
pub fn text_to_html(text: &str) -> String {
    let paragraphs: Vec<String> = text
        .split("\n\n")
        .map(collapse)
        .filter(|p| !p.is_empty())
        .map(|p| format!("<p>{}</p>", escape_html(&p)))
        .collect();
    paragraphs.concat()
}

/// Whether the text contains Arabic script.
pub fn has_arabic(text: &str) -> bool {
    text.chars().any(|c| {
        matches!(c as u32,
            0x0600..=0x06FF | 0x0750..=0x077F | 0x08A0..=0x08FF | 0xFB50..=0xFDFF | 0xFE70..=0xFEFF)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn base() -> Url {
        Url::parse("https://moh.example.om/ar/news/").unwrap()
    }

    #[test]
    fn titles_become_plain_text() {
        assert_eq!(
            html_to_text("  Digital ID for <em>all</em>\n services "),
            "Digital ID for all services"
        );
        assert_eq!(html_to_text("Tom &amp; Jerry &lt;3"), "Tom & Jerry <3");
        assert_eq!(html_to_text("A & B"), "A & B");
        assert_eq!(html_to_text("تنبيه: أحوال جوية\u{a0}"), "تنبيه: أحوال جوية");
        assert_eq!(html_to_text("x&#160;&#160;y&nbsp;"), "x y");
        assert_eq!(html_to_text("<script>alert(1)</script>Safe"), "Safe");
        assert_eq!(
            html_to_text("&amp;quot;quoted&amp;quot;"),
            "&quot;quoted&quot;"
        );
    }

    #[test]
    fn nfc_keeps_arabic_diacritics() {
        // Harakat must survive; NFC composes decomposed Latin letters.
        let arabic = "يُرجى مُراجعةُ";
        assert_eq!(collapse(arabic), arabic);
        assert_eq!(collapse("Cafe\u{301}"), "Caf\u{e9}");
        assert_eq!(html_to_text("<b>يُرجى</b>"), "يُرجى");
    }

    #[test]
    fn sanitizer_strips_active_content_and_resolves_links() {
        let dirty = r#"<p onclick="evil()" style="color:red">Hi <a href="/x?a=1&amp;b=2" onmouseover="e()">link</a>
            <a href="javascript:alert(1)">js</a><img src="img/a.jpg" onerror="e()" alt="A">
            <script>alert(1)</script><style>p{}</style><iframe src="https://evil"></iframe></p>"#;
        let clean = sanitize_html(dirty, &base());
        assert!(!clean.contains("onclick"), "{clean}");
        assert!(!clean.contains("onmouseover"), "{clean}");
        assert!(!clean.contains("onerror"), "{clean}");
        assert!(!clean.contains("style"), "{clean}");
        assert!(!clean.contains("script"), "{clean}");
        assert!(!clean.contains("javascript"), "{clean}");
        assert!(!clean.contains("iframe"), "{clean}");
        assert!(
            clean.contains(r#"href="https://moh.example.om/x?a=1&amp;b=2""#),
            "{clean}"
        );
        assert!(clean.contains(r#"rel="noopener noreferrer""#), "{clean}");
        assert!(
            clean.contains(r#"src="https://moh.example.om/ar/news/img/a.jpg""#),
            "{clean}"
        );
        assert!(clean.contains(r#"alt="A""#), "{clean}");
        assert!(clean.starts_with("<p>Hi"), "{clean}");
    }

    #[test]
    fn empty_markup_is_empty() {
        assert_eq!(sanitize_html("<p> &nbsp; </p>", &base()), "");
        assert_eq!(sanitize_html("<script>x</script>", &base()), "");
        assert_ne!(sanitize_html(r#"<img src="a.png">"#, &base()), "");
    }

    #[test]
    fn text_is_escaped_into_html() {
        assert_eq!(
            text_to_html("a < b & c\n\nnext"),
            "<p>a &lt; b &amp; c</p><p>next</p>"
        );
        assert_eq!(escape_html(r#"<"'>"#), "&lt;&quot;&#39;&gt;");
    }

    #[test]
    fn arabic_detection() {
        assert!(has_arabic("حملة 2026"));
        assert!(!has_arabic("Campaign 2026"));
    }
}
