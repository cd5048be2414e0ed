//! X's weighted post length, computed as twitter-text v3's `parseTweet` does
//! (see `shared/contracts/x-api-v2.md` §5).
//!
//! 1. NFC-normalise the text.
//! 2. Walk it; a URL found by [`extract_urls`] adds
//!    `transformedURLLength × scale`; with `emojiParsingEnabled`, an emoji
//!    sequence found by [`extract_emoji`] adds `defaultWeight` once; any other
//!    code point adds the weight of the first range containing it, else
//!    `defaultWeight`.
//! 3. The length is `floor(sum / scale)`.
//!
//! A post is valid when its length is 1..=`maxWeightedTweetLength`, it has
//! none of U+FFFE, U+FEFF, U+FFFF, and (stricter than twitter-text, which
//! accepts it) it is not blank: X rejects whitespace-only posts.
//!
//! Ranges are in UTF-16 code units of the text as given (before
//! normalisation) with inclusive ends, exactly as twitter-text reports them:
//! `display_range` covers the whole text, `valid_range` the prefix that fits.
//!
//! Bilingual notes: Arabic letters, harakat, Arabic-Indic digits and ZWNJ
//! weigh 1; Arabic presentation forms weigh 2 (NFC keeps them, it does not
//! fold compatibility forms); LRM/RLM (U+200E/U+200F), embeddings and
//! isolates (U+202A–202E, U+2066–2069) weigh 2 each.

use super::emoji::extract_emoji;
use super::url::{extract_urls, utf16_len};
use serde::Deserialize;
use std::sync::LazyLock;
use unicode_normalization::UnicodeNormalization;

/// Code points `start..=end` weigh `weight` (in `scale` units).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub struct WeightRange {
    /// First code point.
    pub start: u32,
    /// Last code point (inclusive).
    pub end: u32,
    /// Weight of each code point in the range.
    pub weight: usize,
}

/// A twitter-text configuration (`config/v2.json`, `config/v3.json`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TwitterTextConfig {
    /// Configuration version (2 or 3).
    pub version: u32,
    /// Longest valid post, in weighted characters.
    pub max_weighted_tweet_length: usize,
    /// Weights are in 1/scale characters.
    pub scale: usize,
    /// Weight of a code point outside every range, and of an emoji sequence.
    pub default_weight: usize,
    /// Every URL counts as this many characters (the `t.co` length).
    #[serde(rename = "transformedURLLength")]
    pub transformed_url_length: usize,
    /// Weighted code-point ranges, first match wins.
    pub ranges: Vec<WeightRange>,
    /// Whether emoji sequences count `default_weight` once (v3).
    #[serde(default)]
    pub emoji_parsing_enabled: bool,
}

/// The ranges shared by v2 and v3: Latin-1 to Georgian, general punctuation
/// spaces and quotes weigh 1 (100).
fn official_ranges() -> Vec<WeightRange> {
    [(0, 4351), (8192, 8205), (8208, 8223), (8242, 8247)]
        .into_iter()
        .map(|(start, end)| WeightRange {
            start,
            end,
            weight: 100,
        })
        .collect()
}

impl TwitterTextConfig {
    /// twitter-text's `config/v2.json`: weighted code points, no emoji grouping.
    pub fn v2() -> Self {
        Self {
            version: 2,
            max_weighted_tweet_length: 280,
            scale: 100,
            default_weight: 200,
            transformed_url_length: 23,
            ranges: official_ranges(),
            emoji_parsing_enabled: false,
        }
    }

    /// twitter-text's `config/v3.json` (what X uses today): as v2, plus each
    /// emoji sequence counts as 2.
    pub fn v3() -> Self {
        Self {
            version: 3,
            emoji_parsing_enabled: true,
            ..Self::v2()
        }
    }

    fn weight_of(&self, c: char) -> usize {
        let c = u32::from(c);
        self.ranges
            .iter()
            .find(|r| (r.start..=r.end).contains(&c))
            .map_or(self.default_weight, |r| r.weight)
    }
}

/// The result of measuring a post, as twitter-text's `parseTweet` reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TextLength {
    /// Weighted length (URLs 23, most CJK and emoji 2, Latin and Arabic 1).
    pub weighted_length: usize,
    /// Whether X accepts the post as it is.
    pub valid: bool,
    /// `weighted_length` in thousandths of the maximum (may exceed 1000).
    pub permillage: usize,
    /// First and last (inclusive) UTF-16 index of the text.
    pub display_range: (usize, usize),
    /// First and last (inclusive) UTF-16 index of the prefix that fits.
    pub valid_range: (usize, usize),
}

fn is_invalid_char(c: char) -> bool {
    matches!(c, '\u{FFFE}' | '\u{FEFF}' | '\u{FFFF}')
}

/// Measure `text` as X does with `config` (see the module documentation).
pub fn weighted_length(text: &str, config: &TwitterTextConfig) -> TextLength {
    let normalized: String = text.nfc().collect();
    if normalized.is_empty() {
        return TextLength {
            weighted_length: 0,
            valid: false,
            permillage: 0,
            display_range: (0, 0),
            valid_range: (0, 0),
        };
    }
    let scale = config.scale.max(1);
    let max_scaled = config.max_weighted_tweet_length * scale;
    let urls = extract_urls(&normalized);
    let emoji = if config.emoji_parsing_enabled {
        extract_emoji(&normalized)
    } else {
        Vec::new()
    };
    let (mut next_url, mut next_emoji) = (urls.iter().peekable(), emoji.iter().peekable());

    let mut weighted = 0usize;
    let mut valid_units = 0usize;
    let mut has_invalid = false;
    let mut i = 0;
    while let Some(c) = normalized[i..].chars().next() {
        // Entities that a previous entity swallowed are skipped.
        while next_url.next_if(|r| r.start < i).is_some() {}
        while next_emoji.next_if(|r| r.start < i).is_some() {}
        let end = if let Some(url) = next_url.next_if(|r| r.start == i) {
            weighted += config.transformed_url_length * scale;
            url.end
        } else if let Some(e) = next_emoji.next_if(|r| r.start == i) {
            weighted += config.default_weight;
            e.end
        } else {
            weighted += config.weight_of(c);
            i + c.len_utf8()
        };
        let piece = &normalized[i..end];
        has_invalid = has_invalid || piece.chars().any(is_invalid_char);
        if !has_invalid && weighted <= max_scaled {
            valid_units += utf16_len(piece);
        }
        i = end;
    }

    let length = weighted / scale;
    let blank = normalized.chars().all(char::is_whitespace);
    let original_units = utf16_len(text);
    // twitter-text shifts the valid range by the change in length that
    // normalisation made (so it is in the caller's indices, approximately).
    let shift = original_units as isize - utf16_len(&normalized) as isize;
    let valid_end = (valid_units as isize + shift - 1).max(0) as usize;
    TextLength {
        weighted_length: length,
        valid: !has_invalid && !blank && length > 0 && length <= config.max_weighted_tweet_length,
        permillage: length * 1000 / config.max_weighted_tweet_length.max(1),
        display_range: (0, original_units.saturating_sub(1)),
        valid_range: (0, valid_end),
    }
}

static V3: LazyLock<TwitterTextConfig> = LazyLock::new(TwitterTextConfig::v3);

/// The v3 configuration, shared.
pub fn v3_config() -> &'static TwitterTextConfig {
    &V3
}

/// X's weighted length of `text` under the v3 rules (what
/// `musharaka text-length --platform x` prints). At most 280 is postable.
///
/// Arabic letters weigh 1, a URL always 23, an emoji sequence 2:
///
/// ```
/// use musharaka::publish::text::x_length;
/// assert_eq!(x_length("مرحبا"), 5);
/// assert_eq!(x_length("https://omanportal.gov.om/ar/news/2026/12/01/a-long-path"), 23);
/// assert_eq!(x_length("👩‍👩‍👧"), 2);
/// ```
pub fn x_length(text: &str) -> usize {
    weighted_length(text, v3_config()).weighted_length
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arabic_weighs_one_per_code_point() {
        // 5 letters + 1 space + 4 letters; harakat count 1 each.
        assert_eq!(x_length("مرحبا بكم"), 9);
        assert_eq!(x_length("مَرْحَبًا"), 9);
        // RLM/LRM weigh 2, ZWNJ 1.
        assert_eq!(x_length("\u{200F}a\u{200E}"), 5);
        assert_eq!(x_length("a\u{200C}b"), 3);
        // Arabic presentation forms weigh 2.
        assert_eq!(x_length("\u{FEFB}"), 2);
    }

    #[test]
    fn urls_and_emoji() {
        assert_eq!(
            x_length("اقرأ المزيد: https://www.oman.om/ar/news/1234"),
            13 + 23
        );
        assert_eq!(x_length("👨‍👩‍👧‍👦"), 2);
    }

    #[test]
    fn empty_and_blank_are_invalid() {
        let v3 = TwitterTextConfig::v3();
        assert!(!weighted_length("", &v3).valid);
        assert!(!weighted_length(" \n ", &v3).valid);
        assert!(weighted_length("a", &v3).valid);
        let long = "a".repeat(281);
        let r = weighted_length(&long, &v3);
        assert!(!r.valid);
        assert_eq!(r.valid_range, (0, 279));
    }
}
